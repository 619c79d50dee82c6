"""Importing the real AWSD file (1997–2022, 41 columns), imported once for this module."""

import datetime

import pytest

from salama.core.models import AuditEntry
from salama.incidents import choices as c
from salama.incidents.models import AffectedPerson, Incident, ReportedTotal, Source
from salama.interchange.models import ImportBatch
from salama.interchange.runner import run_import
from salama.interchange.tests.helpers import (
    CURRENT,
    awsd_organisation,
    imported_for_the_module,
    real_rows,
    write_csv,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def first(django_db_setup, django_db_blocker):
    with imported_for_the_module(django_db_blocker) as batch:
        yield batch


def awsd(external_id: str) -> Incident:
    return Source.objects.get(system="awsd", external_id=external_id).incident


def accounted(batch: ImportBatch) -> bool:
    return batch.rows_read == batch.created + batch.updated + batch.unchanged + batch.quarantined


def test_it_imports_every_row_of_the_real_file_and_accounts_for_each(first):
    assert first.state == ImportBatch.State.DONE
    assert (first.format, first.layout, first.encoding) == ("awsd", "current_41", "utf-8")
    assert first.rows_read == 3656
    assert (first.created, first.updated, first.unchanged) == (3650, 0, 0)
    assert first.quarantined == 6
    assert first.reasons == {"unknown_country": 6}
    assert accounted(first)
    assert Incident.objects.count() == 3650


def test_importing_the_same_file_twice_changes_nothing(first):
    incidents_before = Incident.objects.count()
    second = run_import("awsd", CURRENT, organisation=awsd_organisation())
    assert (second.created, second.updated) == (0, 0)
    assert second.unchanged == first.created
    assert second.quarantined == first.quarantined
    assert accounted(second)
    assert Incident.objects.count() == incidents_before
    assert not Incident.objects.filter(version__gt=1).exists()


def test_it_writes_one_audit_entry_per_batch_not_one_per_incident(first):
    entries = AuditEntry.objects.filter(object_type="interchange.importbatch")
    assert list(entries.values_list("action", "object_id")) == [("import", str(first.pk))]
    assert not AuditEntry.objects.filter(object_type="incidents.incident").exists()
    entry = entries.get()
    assert entry.after["created"] == 3650
    assert entry.after["reasons"] == {"unknown_country": 6}


def test_each_row_becomes_one_incident_with_aggregate_persons_and_margins(first):
    # Incident 2: Rwanda, Jan 1997 (no day), 3 international INGO staff killed and 1 wounded,
    # gender 3 male and 1 female, source "Archived".
    incident = awsd("2")
    assert incident.organisation.acronym == "AWSD"
    assert (incident.date, incident.date_precision) == (
        datetime.date(1997, 1, 1),
        c.DatePrecision.MONTH,
    )
    assert (incident.country, incident.admin1, incident.admin2, incident.place) == (
        "RW",
        "Northern",
        "Musanze",
        "Ruhengeri",
    )
    assert incident.marking == "GREEN"
    assert incident.status == c.Status.CLOSED
    assert incident.verification == c.Verification.ARCHIVED
    assert (incident.category, incident.subcategory) == (
        c.Category.VIOLENCE,
        c.SubCategory.VIOLENCE_UNKNOWN,
    )
    assert (incident.means_of_attack, incident.attack_context, incident.location_type) == (
        c.MeansOfAttack.SHOOTING,
        c.AttackContext.RAID,
        c.LocationType.OFFICE_COMPOUND,
    )
    assert incident.coordinate_precision == c.CoordinatePrecision.APPROXIMATE
    assert incident.coordinates_obfuscated is True
    assert incident.narrative.startswith("3 INGO international (Spanish) staff killed")
    persons = set(incident.persons.values_list("recruitment", "impact", "count", "gender", "cause"))
    assert persons == {
        ("international", "killed", 3, "unknown", "violence"),
        ("international", "injured", 1, "unknown", "violence"),
    }
    totals = set(incident.totals.values_list("dimension", "value", "count"))
    assert totals == {
        ("gender", "male", 3),
        ("gender", "female", 1),
        ("organisation_type", "ingo", 4),
    }
    source = incident.sources.get()
    assert (source.kind, source.system, source.external_id) == ("database_import", "awsd", "2")
    assert source.note == f"Imported by batch #{first.pk}"
    assert len(source.content_hash) == 64


def test_a_day_and_a_month_left_blank_lower_the_date_precision(first):
    # Incident 61 has neither month nor day but no country either; 3 (Tajikistan) has a month.
    assert awsd("3").date_precision == c.DatePrecision.MONTH
    year_only = Incident.objects.filter(date_precision=c.DatePrecision.YEAR)
    assert year_only.exists()
    assert all((i.date.month, i.date.day) == (1, 1) for i in year_only)
    assert awsd("4022").date == datetime.date(2022, 10, 23)
    assert awsd("4022").date_precision == c.DatePrecision.DAY


def test_the_killed_of_a_kidnap_killing_are_killed_in_captivity(first):
    incident = awsd("3277")  # Kidnap-killing, 1 national killed
    assert incident.means_of_attack == c.MeansOfAttack.KIDNAP_KILLING
    killed = incident.persons.get(impact=c.Impact.KILLED)
    assert killed.killed_in_captivity is True
    assert not AffectedPerson.objects.filter(
        killed_in_captivity=True, incident__means_of_attack=c.MeansOfAttack.SHOOTING
    ).exists()


def test_it_reads_truncated_and_variant_spellings_through_the_crosswalk(first):
    pending = awsd("1431")  # Verified "Pen", Actor type "Host State"
    assert pending.verification == c.Verification.PENDING
    assert pending.perpetrator_type == c.PerpetratorType.STATE_HOST
    assert awsd("3310").sources.get().kind == c.SourceKind.OFFICIAL_REPORT  # "Official Report "
    assert "unmapped_value" not in first.notes
    landmines = Incident.objects.filter(means_of_attack=c.MeansOfAttack.LANDMINE).count()
    assert landmines == 34  # "Landmine " with its trailing space
    assert Incident.objects.filter(perpetrator_type=c.PerpetratorType.NSAG_GLOBAL).count() == 32
    assert awsd("520").verification == c.Verification.UNVERIFIED  # Verified left blank


def test_it_keeps_the_threat_unknown_unless_the_row_makes_it_evident(first):
    assert awsd("2").subcategory == c.SubCategory.VIOLENCE_UNKNOWN
    criminal = Incident.objects.filter(perpetrator_type=c.PerpetratorType.CRIMINAL)
    assert criminal.exists()
    assert set(criminal.values_list("subcategory", flat=True)) == {c.SubCategory.CRIME}
    bombed = Incident.objects.filter(means_of_attack=c.MeansOfAttack.AERIAL_BOMBARDMENT)
    assert set(bombed.values_list("subcategory", flat=True)) <= {
        c.SubCategory.ARMED_CONFLICT,
        c.SubCategory.CRIME,
    }


def test_rows_without_a_country_code_take_it_from_the_country_name(first):
    assert awsd("16").country == "RU"  # Chechnya
    assert first.notes["country_from_name"]["count"] == 26


def test_it_quarantines_rows_whose_country_cannot_be_resolved_with_their_raw_content(first):
    rows = {row.raw["Incident ID"]: row for row in first.quarantine.all()}
    assert set(rows) == {"61", "94", "136", "165", "275", "214"}
    kashmir = rows["214"]
    assert kashmir.reason == "unknown_country"
    assert kashmir.raw["Country"] == "Kashmir"
    assert kashmir.raw["Details"]
    assert "Kashmir" in kashmir.message and f"Row {kashmir.row_number}" in kashmir.message
    assert "neither a country code nor a country name" in rows["61"].message


def test_a_coordinate_outside_its_country_is_kept_and_flagged(first):
    incident = awsd("68")  # Sudan, placed 67 km outside it
    assert incident.coordinate_check == c.CoordinateCheckStatus.OUTSIDE
    assert "67.0 km outside Sudan" in incident.coordinate_note
    assert incident.latitude is not None
    assert awsd("2").coordinate_check == c.CoordinateCheckStatus.INSIDE
    assert (
        first.notes["coordinates_outside"]["count"]
        == Incident.objects.filter(coordinate_check=c.CoordinateCheckStatus.OUTSIDE).count()
    )


def test_the_real_file_has_consistent_totals(first):
    assert "totals_mismatch" not in first.notes
    assert "margins_mismatch" not in first.notes


def test_a_changed_row_updates_its_incident_with_an_audit_entry(first, tmp_path):
    header, rows = real_rows()
    changed = dict(rows["2"])
    changed.update(
        {"Internationals wounded": "2", "Total internationals": "5", "Total wounded": "2"}
    )
    changed.update({"Total affected": "5", "Gender Unknown": "1", "INGO": "5"})
    changed["Details"] += " A second staff member was wounded (corrected)."
    path = write_csv(tmp_path / "awsd_corrected.csv", header, [changed, rows["3"]])
    before = awsd("2")

    batch = run_import("awsd", path, organisation=awsd_organisation())

    assert (batch.rows_read, batch.updated, batch.unchanged, batch.created) == (2, 1, 1, 0)
    incident = awsd("2")
    assert incident.pk == before.pk and incident.version == before.version + 1
    assert incident.persons.get(impact=c.Impact.INJURED).count == 2
    assert incident.totals.get(dimension="gender", value="unknown").count == 1
    assert incident.sources.get().note == f"Updated by batch #{batch.pk} (row 2)"
    entry = AuditEntry.objects.get(action="import:update", object_id=str(incident.pk))
    assert entry.before["narrative"] == before.narrative
    assert entry.after["narrative"].endswith("(corrected).")
    assert {"count": 1, "impact": "injured"}.items() <= entry.before["persons"][1].items()
    assert ReportedTotal.objects.filter(incident=incident).count() == 4

    again = run_import("awsd", path, organisation=awsd_organisation())
    assert (again.updated, again.unchanged) == (0, 2)


def test_it_does_not_change_another_organisations_incident(first, tmp_path, undp):
    header, rows = real_rows()
    changed = {**rows["2"], "Details": "changed"}
    path = write_csv(tmp_path / "awsd.csv", header, [changed])
    batch = run_import("awsd", path, organisation=undp)
    assert (batch.updated, batch.quarantined) == (0, 1)
    assert batch.reasons == {"owned_by_another_organisation": 1}
    assert awsd("2").narrative != "changed"
