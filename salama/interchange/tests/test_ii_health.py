"""The Insecurity Insight attacks-on-health-care importer (``salama import ii-health``)."""

import openpyxl
import pytest
from django.db import transaction
from django.db.models import Sum

from salama.incidents import choices as c
from salama.incidents.models import AffectedPerson, Incident
from salama.interchange.formats import DATA_DIR
from salama.interchange.runner import run_import, source_organisation

FOLDER = DATA_DIR / "ii-health"
AHC = FOLDER / "2016-2023-attacks-on-health-care-incident-data.xlsx"
MMR = FOLDER / "2023-mmr-attacks-on-health-care-incident-data.xlsx"


def health(path, **options):
    return run_import(
        "ii-health", path, organisation=source_organisation("ii-health"), options=options
    )


@pytest.fixture(scope="module")
def real(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        yield health(AHC)
        transaction.set_rollback(True)


def workers(impact) -> int:
    found = AffectedPerson.objects.filter(incident__sources__system="sind-health", impact=impact)
    return found.aggregate(n=Sum("count"))["n"] or 0


@pytest.mark.django_db
def test_the_real_file_is_read_under_its_hashtag_row(real):
    assert real.state == "done"
    assert real.layout == "attacks_on_health_care+hxl"
    assert (real.rows_read, real.created, real.quarantined) == (8854, 8851, 3)
    # Real problems of the file, left to a person: no country, a negative count.
    assert real.reasons == {"unknown_country": 2, "invalid_number": 1}
    countries = {r.raw["Country"] for r in real.quarantine.filter(reason="unknown_country")}
    assert countries == {"Unspecified", "International Waters"}


@pytest.mark.django_db
def test_the_health_workers_add_up_to_the_file(real):
    # File totals (the three quarantined rows count no health worker killed or injured).
    assert workers(c.Impact.KILLED) == 1634
    assert workers(c.Impact.INJURED) == 2519
    assert workers(c.Impact.SEXUAL_ASSAULT) == 72
    assert not AffectedPerson.objects.filter(
        incident__sources__system="sind-health", is_medical=False
    ).exists()


@pytest.mark.django_db
def test_one_event_in_detail(real):
    incident = Incident.objects.get(sources__system="sind-health", sources__external_id="42815")
    assert (incident.country, str(incident.date)) == ("PS", "2023-12-21")
    assert incident.admin1 == "Gaza Strip"
    assert incident.latitude == pytest.approx(31.5290924248)
    assert incident.means_of_attack == c.MeansOfAttack.AERIAL_BOMBARDMENT
    assert incident.subcategory == c.SubCategory.ARMED_CONFLICT
    assert incident.location_type == c.LocationType.PROJECT_SITE
    assert incident.narrative.startswith("December 2023: In Jabalia Refugee Camp")
    assert list(incident.persons.values_list("impact", "count", "is_medical")) == [
        ("injured", 1, True)
    ]


@pytest.mark.django_db
def test_importing_again_changes_nothing(real):
    again = health(AHC)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 8851)


@pytest.mark.django_db
def test_the_shcc_layout_gives_gender_and_updates_the_events_it_shares(real):
    batch = health(MMR)
    assert batch.layout == "shcc"
    assert batch.rows_read == 33
    assert batch.created + batch.updated + batch.unchanged == 33
    incident = Incident.objects.get(sources__system="sind-health", sources__external_id="38762")
    # One injured, one male injured: certainly a man.
    assert list(incident.persons.values_list("impact", "gender", "count", "is_medical")) == [
        ("injured", "male", 1, True)
    ]
    assert list(incident.totals.values_list("value", "count")) == [("male", 1)]


@pytest.mark.django_db
def test_the_sheet_can_be_named_and_a_missing_one_is_refused(tmp_path):
    from salama.interchange.formats import ImportRefused

    workbook = openpyxl.Workbook()
    workbook.active.title = "Notes"
    source = openpyxl.load_workbook(MMR, read_only=True).worksheets[0]
    sheet = workbook.create_sheet("Data")
    for row in source.iter_rows(values_only=True):
        sheet.append([f"x{v}" if v == 38762 else v for v in row])
    path = tmp_path / "two-sheets.xlsx"
    workbook.save(path)
    batch = health(path, sheet="Data")
    assert (batch.rows_read, batch.quarantined) == (33, 0)
    with pytest.raises(ImportRefused, match="no sheet 'Nope'"):
        health(path, sheet="Nope")
