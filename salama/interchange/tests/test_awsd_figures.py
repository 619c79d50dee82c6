"""After importing the real AWSD file, Salama's figures equal the published ones."""

import io
import json

import pytest
from django.core.management import call_command

from salama.incidents.figures import awsd_figures, figures
from salama.incidents.models import Incident
from salama.interchange.tests.helpers import imported_for_the_module

pytestmark = pytest.mark.django_db

# /work/shared/data/README.md, computed from the raw file by Humanitarian Outcomes' rules.
COLUMNS = (
    "incidents",
    "killed",
    "wounded",
    "kidnapped",
    "affected",
    "nationals",
    "internationals",
    "female",
)
PUBLISHED = {
    year: dict(zip(COLUMNS, row, strict=True))
    for year, row in {
        2019: (276, 125, 234, 122, 481, 454, 27, 48),
        2020: (283, 117, 242, 125, 484, 459, 25, 47),
        2021: (272, 141, 203, 122, 466, 443, 23, 48),
        2022: (247, 118, 146, 195, 459, 436, 23, 32),
    }.items()
}


@pytest.fixture(scope="module")
def awsd_imported(django_db_setup, django_db_blocker):
    with imported_for_the_module(django_db_blocker) as batch:
        yield batch


@pytest.mark.parametrize("year", sorted(PUBLISHED))
def test_after_importing_the_real_file_the_figures_equal_the_published_ones(
    awsd_imported, year, django_assert_max_num_queries
):
    with django_assert_max_num_queries(4):
        result = awsd_figures(Incident.objects.all(), year)
    assert {key: result[key] for key in PUBLISHED[year]} == PUBLISHED[year]
    assert result["year"] == year


def test_the_figures_command_prints_one_json_object(awsd_imported):
    out = io.StringIO()
    call_command("figures", "--scheme", "awsd", "--year", "2022", "--format", "json", stdout=out)
    result = json.loads(out.getvalue())
    assert result == {"year": 2022, "detained": 0, **PUBLISHED[2022]}


def test_the_figures_command_prints_a_table_for_people(awsd_imported):
    out = io.StringIO()
    call_command("figures", "--year", "2022", stdout=out)
    assert "AWSD figures for 2022 (all incidents)" in out.getvalue()
    assert "people killed" in out.getvalue() and "118" in out.getvalue()


def test_any_signed_in_user_sees_the_same_figures_since_awsd_data_is_green(awsd_imported, outsider):
    assert figures("awsd", 2022, user=outsider) == figures("awsd", 2022)
