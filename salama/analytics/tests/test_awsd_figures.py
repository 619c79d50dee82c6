"""Through the analytics path, the AWSD figures equal the published table (real file)."""

import pytest

from salama.analytics import figures, snapshot
from salama.incidents.figures import awsd_figures as awsd_in_database
from salama.incidents.models import Incident
from salama.interchange.tests.helpers import imported_for_the_module
from salama.interchange.tests.test_awsd_figures import PUBLISHED

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def awsd_imported(django_db_setup, django_db_blocker):
    with imported_for_the_module(django_db_blocker) as batch:
        yield batch


@pytest.fixture
def refreshed(awsd_imported, analytics_dir):
    snapshot.refresh(full=True)


@pytest.mark.parametrize("year", sorted(PUBLISHED))
def test_the_analytics_path_gives_the_published_awsd_figures(refreshed, year):
    result = figures.awsd_figures(year)
    assert {key: result[key] for key in PUBLISHED[year]} == PUBLISHED[year]


@pytest.mark.parametrize("year", [1997, 2005, 2013, 2016, 2023])
def test_the_analytics_path_equals_the_database_path_in_other_years(refreshed, year):
    assert figures.awsd_figures(year) == awsd_in_database(Incident.objects.all(), year)


def test_a_signed_in_user_sees_the_same_awsd_figures(refreshed, outsider):
    assert figures.awsd_figures(2022, user=outsider) == figures.awsd_figures(2022)
