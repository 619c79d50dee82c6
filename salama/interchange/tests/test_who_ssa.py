"""The WHO SSA importer (``salama import who-ssa``): the real XLSX, and CSV exports after it."""

import csv
import datetime

import openpyxl
import pytest
from django.db import transaction
from django.db.models import Sum

from salama.incidents import choices as c
from salama.incidents.models import AffectedPerson, Incident
from salama.interchange.formats import DATA_DIR
from salama.interchange.runner import run_import, source_organisation

XLSX = DATA_DIR / "who-ssa" / "who_ssa_attacks_on_health_care_2020-2024.xlsx"


def xlsx_rows(limit=None) -> tuple[list[str], list[tuple]]:
    workbook = openpyxl.load_workbook(XLSX, read_only=True)
    rows = workbook.worksheets[0].iter_rows(values_only=True)
    header = list(next(rows))
    body = [row for _, row in zip(range(limit), rows, strict=False)] if limit else list(rows)
    workbook.close()
    return header, body


HEADER, FIRST = xlsx_rows(200)


def as_csv_export(path, rows, *, delimiter=",", encoding="utf-8", header=HEADER):
    """Rows written as the SSA dashboard's CSV export writes them: ``2/8/24 12:00 AM``."""
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        for row in rows:
            cells = []
            for value in row:
                if isinstance(value, datetime.datetime):
                    value = f"{value.month}/{value.day}/{value:%y} 12:00 AM"
                cells.append("" if value is None else value)
            writer.writerow(cells)
    return path


def ssa(path):
    return run_import("who-ssa", path, organisation=source_organisation("who-ssa"))


@pytest.fixture(scope="module")
def real(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        yield ssa(XLSX)
        transaction.set_rollback(True)


def total(column: str) -> int:
    return sum(row[HEADER.index(column)] or 0 for row in xlsx_rows()[1])


@pytest.mark.django_db
def test_every_attack_of_the_real_file_is_imported_but_one_left_to_a_person(real):
    assert real.state == "done"
    assert (real.rows_read, real.created, real.quarantined) == (6030, 6029, 1)
    assert real.reasons == {"unknown_country": 1}
    row = real.quarantine.get()
    assert row.raw["Country / Territory"] == "Nagorno-Karabakh"
    assert row.raw["Attack ID"] == "NGK004990"


@pytest.mark.django_db
def test_deaths_and_injuries_add_up_to_the_file(real):
    found = AffectedPerson.objects.filter(incident__sources__system="who-ssa")
    killed = found.filter(impact="killed").aggregate(n=Sum("count"))["n"]
    # Minus the two deaths of the quarantined Nagorno-Karabakh row.
    assert killed == total("Total Death") - 2
    workers = found.filter(is_medical=True, impact="abducted").aggregate(n=Sum("count"))["n"]
    assert workers == total("HW Abduction")


@pytest.mark.django_db
def test_one_attack_in_detail(real):
    incident = Incident.objects.get(sources__system="who-ssa", sources__external_id="SDN012200")
    assert (incident.country, str(incident.date)) == ("SD", "2024-12-25")
    assert incident.time is None  # "Time Unknown"
    assert incident.verification == c.Verification.VERIFIED
    assert incident.subcategory == c.SubCategory.ARMED_CONFLICT
    assert incident.health_facility_hit and incident.supplies_hit and not incident.vehicles_hit
    # Two attack types in one cell, the second holding commas of its own.
    assert "Psychological violence/threat of violence/intimidation; Violence with heavy" in (
        incident.narrative
    )
    assert list(incident.persons.values_list("impact", "count", "is_medical")) == [
        ("killed", 1, None)
    ]
    timed = Incident.objects.get(sources__system="who-ssa", sources__external_id="SYR012213")
    assert timed.time == datetime.time(14, 5)


@pytest.mark.django_db
def test_a_csv_export_after_the_xlsx_updates_what_it_shares_and_creates_the_new(real, tmp_path):
    rows = [list(row) for row in FIRST[:100]]
    deaths = HEADER.index("Total Death")
    rows[0][deaths] = (rows[0][deaths] or 0) + 3
    newer = [list(FIRST[1]), list(FIRST[2])]
    newer[0][0], newer[1][0] = "UKR999001", "UKR999002"
    path = as_csv_export(tmp_path / "ssa.csv", rows + newer)
    batch = ssa(path)
    assert batch.layout == "who_ssa_csv"
    assert (batch.rows_read, batch.created, batch.updated, batch.unchanged) == (102, 2, 1, 99)
    updated = Incident.objects.get(sources__external_id=FIRST[0][0], sources__system="who-ssa")
    assert updated.persons.get(impact="killed").count == (FIRST[0][deaths] or 0) + 3


@pytest.mark.django_db
def test_the_real_file_again_changes_nothing(real):
    again = ssa(XLSX)
    assert (again.created, again.updated, again.unchanged, again.quarantined) == (0, 0, 6029, 1)


@pytest.mark.django_db
def test_a_semicolon_cp1252_csv_with_spaced_headers_is_read(tmp_path):
    rows = [list(row) for row in FIRST[:3]]
    for row in rows:
        row[0] = "X" + row[0]
    rows[0][HEADER.index("Facility Other")] = "Centre de santé – Bangui"
    header = [f"{name} " for name in HEADER]
    path = tmp_path / "ssa.csv"
    as_csv_export(path, rows, delimiter=";", encoding="cp1252", header=header)
    batch = ssa(path)
    assert (batch.rows_read, batch.created, batch.quarantined) == (3, 3, 0)
    incident = Incident.objects.get(sources__external_id="X" + FIRST[0][0])
    assert "Centre de santé – Bangui" in incident.narrative


@pytest.mark.django_db
def test_bad_rows_are_quarantined_with_their_reason(tmp_path):
    rows = [list(row) for row in FIRST[:6]]
    for i, row in enumerate(rows):
        row[0] = f"BAD{i}"
    rows[0][0] = ""
    rows[1][HEADER.index("Attack Date")] = "31/31/24 12:00 AM"
    rows[2][HEADER.index("Attack Date")] = "1/1/2999 12:00 AM"
    rows[3][HEADER.index("Country / Territory")] = "Narnia"
    rows[4][HEADER.index("Total Death")] = "many"
    path = as_csv_export(tmp_path / "ssa.csv", rows)
    batch = ssa(path)
    assert batch.reasons == {
        "missing_id": 1,
        "invalid_date": 1,
        "future_date": 1,
        "unknown_country": 1,
        "invalid_number": 1,
    }
    assert (batch.rows_read, batch.created) == (6, 1)


@pytest.mark.django_db
def test_a_file_in_another_layout_is_refused_before_any_batch(tmp_path):
    from salama.interchange.formats import NotThisFormat
    from salama.interchange.models import ImportBatch

    path = tmp_path / "other.csv"
    path.write_text("Incident ID,Year\n1,2020\n", encoding="utf-8")
    batches = ImportBatch.objects.count()
    with pytest.raises(NotThisFormat, match="not a WHO SSA export"):
        ssa(path)
    assert ImportBatch.objects.count() == batches
