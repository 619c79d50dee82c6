"""The Insecurity Insight aid-worker events importer (``salama import kika``), on the real file."""

import copy
import io
import json

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Sum

from salama.incidents import choices as c
from salama.incidents.models import AffectedPerson, Incident, ReportedTotal, Source
from salama.interchange.formats import DATA_DIR
from salama.interchange.runner import run_import, source_organisation

KIKA = DATA_DIR / "kika" / "aidWorkerKIKA.json"
RECORDS = json.loads(KIKA.read_text(encoding="utf-8"))
BY_ID = {r["SiND Event ID"]: r for r in RECORDS}


def renumbered(records, start):
    """Copies of ``records`` with IDs no other test uses (the real file stays imported)."""
    return [{**r, "SiND Event ID": start + i} for i, r in enumerate(copy.deepcopy(records))]


def file_total(outcome: str) -> int:
    return sum(int(r[f"Aid Workers {outcome}"] or 0) for r in RECORDS)


@pytest.fixture(scope="module")
def real(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        batch = run_import("kika", KIKA, organisation=source_organisation("kika"))
        yield batch
        transaction.set_rollback(True)


def kika(tmp_path, records, name="kika.json"):
    path = tmp_path / name
    path.write_text(json.dumps(records), encoding="utf-8")
    return run_import("kika", path, organisation=source_organisation("kika"))


def persons(**filters) -> int:
    found = AffectedPerson.objects.filter(incident__sources__system="sind-kika", **filters)
    return found.aggregate(n=Sum("count"))["n"] or 0


@pytest.mark.django_db
def test_every_event_of_the_real_file_is_imported(real):
    assert real.state == "done"
    assert (real.rows_read, real.created, real.quarantined) == (1299, 1299, 0)
    assert real.layout == "kika_json"
    assert Source.objects.filter(system="sind-kika").count() == 1299


@pytest.mark.django_db
def test_the_killed_and_injured_are_those_of_the_file(real):
    assert persons(impact=c.Impact.KILLED) == file_total("Killed") == 593
    assert persons(impact=c.Impact.KILLED, killed_in_captivity=True) == 60
    assert persons(impact=c.Impact.INJURED) == file_total("Injured")


@pytest.mark.django_db
def test_killed_in_captivity_are_stored_once_not_also_as_kidnapped(real):
    overlap = real.notes["captivity_overlap"]
    assert overlap["count"] == 31
    kidnapped_or_arrested = persons(impact=c.Impact.ABDUCTED) + persons(
        impact=c.Impact.ARRESTED_DETAINED
    )
    # 53 of the 60 killed in captivity were counted again as kidnapped or arrested.
    assert kidnapped_or_arrested == file_total("Kidnapped") + file_total("Arrested") - 53


@pytest.mark.django_db
def test_one_event_in_detail(real):
    incident = Incident.objects.get(sources__system="sind-kika", sources__external_id="44580")
    assert incident.country == "PS"
    assert str(incident.date) == "2024-02-26"
    assert incident.date_precision == c.DatePrecision.DAY
    assert incident.marking == "GREEN"
    assert incident.status == c.Status.CLOSED
    assert incident.means_of_attack == c.MeansOfAttack.SHOOTING
    assert incident.perpetrator_type == c.PerpetratorType.STATE_HOST
    assert incident.perpetrator_name == "Israeli Defence Forces"
    assert incident.coordinate_precision == c.CoordinatePrecision.PLACE
    (person,) = incident.persons.all()
    assert (person.count, person.impact, person.recruitment) == (1, "killed", "national")
    assert person.organisation_type == c.AffectedOrgType.NRCS_IFRC


@pytest.mark.django_db
def test_gender_is_joined_only_where_the_source_makes_it_certain(real):
    # 44693: one national killed, one male killed: certainly a national man.
    incident = Incident.objects.get(sources__external_id="44693", sources__system="sind-kika")
    assert list(incident.persons.values_list("count", "recruitment", "gender")) == [
        (1, "national", "male")
    ]
    assert list(incident.totals.values_list("value", "count")) == [("male", 1)]


@pytest.mark.django_db
def test_importing_the_same_file_again_changes_nothing(real):
    again = run_import("kika", KIKA, organisation=source_organisation("kika"))
    assert (again.rows_read, again.created, again.updated, again.unchanged) == (1299, 0, 0, 1299)
    assert Incident.objects.filter(sources__system="sind-kika").count() == 1299


@pytest.mark.django_db
def test_a_newer_version_updates_the_events_it_shares_and_creates_the_new(real, tmp_path):
    newer = copy.deepcopy(RECORDS[:3])
    newer[0]["Aid Workers Injured"] = "2"
    newer[0]["National Aid Workers Injured"] = "2"
    extra = {**copy.deepcopy(RECORDS[5]), "SiND Event ID": 99999901}
    batch = kika(tmp_path, [*newer, extra])
    assert (batch.created, batch.updated, batch.unchanged) == (1, 1, 2)
    incident = Incident.objects.get(sources__external_id="44580", sources__system="sind-kika")
    assert incident.persons.filter(impact="injured").get().count == 2


def hostile_records():
    base = BY_ID[44580]
    return [
        {**base, "SiND Event ID": None},
        {**base, "SiND Event ID": 1, "Date": "2024-13-40"},
        {**base, "SiND Event ID": 2, "Date": "2999-01-01"},
        {**base, "SiND Event ID": 3, "Country ISO": "", "Country": "Atlantis"},
        {**base, "SiND Event ID": 4, "Aid Workers Killed": "two"},
        {**base, "SiND Event ID": 5, "Latitude": "north", "Longitude": "34.3"},
        {
            **base,
            "SiND Event ID": 6,
            "Aid Workers Killed": "1,000",
            "National Aid Workers Killed": 0,
        },  # noqa: E501
        "not an object",
    ]


@pytest.mark.django_db
def test_rows_it_cannot_place_are_quarantined_with_a_reason(tmp_path):
    batch = kika(tmp_path, hostile_records())
    assert batch.rows_read == 8
    assert batch.created == 1
    assert batch.reasons == {
        "missing_id": 1,
        "invalid_date": 1,
        "future_date": 1,
        "unknown_country": 1,
        "invalid_number": 1,
        "invalid_coordinates": 1,
        "not_a_record": 1,
    }
    assert batch.created + batch.quarantined == batch.rows_read
    # The thousands separator is read: 1,000 killed, nationality unknown.
    created = Incident.objects.get(sources__system="sind-kika", sources__external_id="6")
    assert list(created.persons.values_list("count", "recruitment")) == [(1000, "unknown")]
    rows = {r.reason: r for r in batch.quarantine.all()}
    assert "Atlantis" in rows["unknown_country"].message
    assert rows["unknown_country"].raw["Country"] == "Atlantis"


@pytest.mark.django_db
def test_a_coordinate_that_lost_its_decimal_point_is_repaired_inside_its_country(tmp_path):
    base = BY_ID[43870]  # South Sudan, 4.1247635, 33.8017048
    records = [
        {**base, "SiND Event ID": 11, "Latitude": "41.247.635", "Longitude": "33.8017048"},
        # Placed anywhere, the point is not in South Sudan: refused, not guessed.
        {**base, "SiND Event ID": 12, "Latitude": "1.407.092.855", "Longitude": "33.8017048"},
    ]
    batch = kika(tmp_path, records)
    assert (batch.created, batch.quarantined) == (1, 1)
    incident = Incident.objects.get(sources__external_id="11", sources__system="sind-kika")
    assert incident.latitude == pytest.approx(4.1247635)
    assert incident.coordinate_check == c.CoordinateCheckStatus.REPAIRED
    assert "'41.247.635' as 4.1247635" in incident.coordinate_note
    assert batch.notes["coordinates_repaired"]["count"] == 1
    assert batch.quarantine.get().reason == "invalid_coordinates"


@pytest.mark.django_db
def test_a_cut_off_file_keeps_the_records_before_the_cut(tmp_path):
    text = json.dumps(renumbered(RECORDS[:5], 88000000))
    path = tmp_path / "cut.json"
    path.write_text(text[: len(text) - 300], encoding="utf-8")
    batch = run_import("kika", path, organisation=source_organisation("kika"))
    assert batch.state == "done"
    assert (batch.rows_read, batch.created, batch.quarantined) == (5, 4, 1)
    assert batch.reasons == {"unreadable_record": 1}


@pytest.mark.django_db
def test_the_command_prints_the_same_json_report_as_for_awsd(tmp_path):
    path = tmp_path / "k.json"
    path.write_text(json.dumps(renumbered(RECORDS[:4], 89000000)), encoding="utf-8")
    out = io.StringIO()
    call_command("import", "kika", str(path), "--format", "json", stdout=out)
    report = json.loads(out.getvalue())
    assert {"batch", "rows_read", "created", "updated", "unchanged", "quarantined"} <= set(report)
    assert (report["rows_read"], report["created"], report["format"]) == (4, 4, "kika")
    assert ReportedTotal.objects.filter(incident__sources__system="sind-kika").exists()
