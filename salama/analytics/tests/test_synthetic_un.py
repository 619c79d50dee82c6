"""The synthetic UN data reproduces GA resolution 79/138's 2023 figures exactly."""

import io
import json

import pytest
from django.core.management import call_command
from django.db import transaction

from salama.analytics import demo, figures, snapshot, synthetic_un
from salama.analytics.models import Headcount
from salama.conftest import make_organisation, make_user
from salama.incidents.models import Incident, Source
from salama.organisations.choices import OrganisationType, Role

pytestmark = pytest.mark.django_db

RESOLUTION_2023 = {
    "affected": 1915,
    "deaths": 32,
    "deaths_violence": 13,
    "injuries": 284,
    "injuries_violence": 107,
    "abductions": 17,
    "sexual_assaults": 9,
    "arrests_detentions": 103,
    "intimidation_harassment": 399,
    "deaths_violence_locally_recruited": 12,
    "deaths_safety": 19,
    "deaths_safety_locally_recruited": 14,
}


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    """The synthetic data, made once for the module and rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic():
        org = make_organisation("UNDEMO", OrganisationType.UN_AFP, "Demo UN agency")
        users = {"reporter": make_user("reporter", org, roles=(Role.REPORTER,))}
        counts = synthetic_un.load_demo({"UNDEMO": org}, users)
        yield ({"UNDEMO": org}, users), counts
        transaction.set_rollback(True)


@pytest.fixture
def demo_org(loaded):
    return loaded[0]


def test_the_synthetic_2023_data_gives_the_resolution_figures_through_the_command(loaded):
    assert loaded[1]["synthetic_un_incidents"] > 0
    out = io.StringIO()
    call_command("figures", "--scheme", "sg", "--year", "2023", "--format", "json", stdout=out)
    result = json.loads(out.getvalue())
    assert {k: result[k] for k in RESOLUTION_2023} == RESOLUTION_2023
    for key in ("injuries_safety", "robbery", "burglary"):
        assert key in result
    # Road crashes are the main safety cause of death.
    road = figures.query.total(
        "persons",
        {"impact": "killed", "cause": "safety", "threat_category": "road_traffic"},
        year_from=2023,
        year_to=2023,
    )
    assert road > 19 / 2


def test_the_demo_data_is_deterministic_labelled_and_loaded_once(loaded, demo_org):
    assert synthetic_un.build() == synthetic_un.build()
    first = loaded[1]
    second = demo.load_demo(*demo_org)
    assert second["synthetic_un_incidents"] == 0
    assert second["headcounts"] == 0
    assert second["synthetic_un_total"] == first["synthetic_un_incidents"]
    assert Headcount.objects.count() == first["headcounts"] > 0
    synthetic = Incident.objects.filter(sources__system=synthetic_un.SYSTEM)
    assert synthetic.count() == Incident.objects.count()
    assert all(i.narrative.endswith("(Synthetic record.)") for i in synthetic)
    assert not Source.objects.exclude(note=synthetic_un.NOTE).exists()
    other_years = figures.sg_figures(2021)
    assert 1000 < other_years["affected"] < 2000
    assert snapshot.State.load() is not None


def test_the_sg_text_output_and_the_awsd_output_are_unchanged(demo_org):
    out = io.StringIO()
    call_command("figures", "--scheme", "sg", "--year", "2023", stdout=out)
    assert "UN personnel affected" in out.getvalue() and "1,915" in out.getvalue()
    out = io.StringIO()
    call_command("figures", "--scheme", "awsd", "--year", "2023", "--format", "json", stdout=out)
    assert set(json.loads(out.getvalue())) == {
        "year",
        "incidents",
        "killed",
        "wounded",
        "kidnapped",
        "detained",
        "affected",
        "nationals",
        "internationals",
        "female",
    }


def test_the_demo_loader_twice_changes_nothing(demo_org):
    first = demo.load_demo(*demo_org)
    second = demo.load_demo(*demo_org)
    assert first["synthetic_un_incidents"] == second["synthetic_un_incidents"] == 0
    assert second["snapshot"] == "unchanged"


def test_rates_per_10000_staff_divide_by_the_matching_headcounts(demo_org):
    from django.db.models import Sum

    from salama.analytics.rates import rates_per_10000
    from salama.incidents.models import AffectedPerson

    snapshot.refresh()
    org = demo_org[0]["UNDEMO"]
    result = rates_per_10000("country", ["SS"], None, year_from=2023, year_to=2023)
    staff = Headcount.objects.get(organisation=org, country="SS", year=2023).staff
    affected = AffectedPerson.objects.filter(
        organisation=org, incident__country="SS", incident__date__year=2023
    ).aggregate(n=Sum("count"))["n"]
    assert result["columns"] == [2023]
    assert result["rows"] == [["South Sudan", f"{affected * 10000 / staff:.1f}"]]
    regions = rates_per_10000("region", [], None, year_from=2022, year_to=2023)
    assert {row[0] for row in regions["rows"]} >= {"Africa", "Asia"}
