"""The shared batch runner: encodings, chunks, quarantine, accounting, refusals."""

import datetime
from unittest import mock

import pytest
from django.utils import timezone

from salama.core.models import AuditEntry
from salama.incidents.models import Incident, Source
from salama.interchange import runner
from salama.interchange.formats import ImportRefused, UnknownFormat, registry
from salama.interchange.models import ImportBatch
from salama.interchange.runner import run_import
from salama.interchange.tests.helpers import (
    CURRENT,
    awsd_organisation,
    real_rows,
    write_csv,
)

pytestmark = pytest.mark.django_db

HEADER, ROWS = real_rows()


def rows(*ids, **changes):
    """Real rows by Incident ID, with ``changes`` applied to each."""
    return [{**ROWS[i], **changes} for i in ids]


def accounted(batch: ImportBatch) -> bool:
    return batch.rows_read == batch.created + batch.updated + batch.unchanged + batch.quarantined


def test_the_registry_finds_the_awsd_format():
    assert "awsd" in registry()


def test_an_unknown_format_is_refused_naming_the_known_ones(tmp_path):
    with pytest.raises(UnknownFormat, match="known formats: .*awsd"):
        run_import("nosuchformat", CURRENT, organisation=awsd_organisation())
    assert not ImportBatch.objects.exists()


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(ImportRefused, match="no such file"):
        run_import("awsd", tmp_path / "nowhere.csv", organisation=awsd_organisation())


def test_a_file_that_is_not_awsd_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("name,age\nAda,36\n")
    with pytest.raises(ImportRefused, match="not an AWSD file.*'Incident ID'"):
        run_import("awsd", path, organisation=awsd_organisation())
    assert not ImportBatch.objects.exists()


def test_an_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(ImportRefused, match="empty"):
        run_import("awsd", path, organisation=awsd_organisation())


def test_it_quarantines_a_row_dated_in_the_future(tmp_path):
    # The real case: incident 4386 dated 2025-12-19 in a file downloaded in April 2025.
    # Built from a real row; the clock is set to the day of that download.
    future = {**ROWS["4022"], "Incident ID": "4386", "Year": "2025", "Month": "12", "Day": "19"}
    path = write_csv(tmp_path / "awsd.csv", HEADER, [*rows("4022"), future])
    april_2025 = datetime.datetime(2025, 4, 30, 12, tzinfo=datetime.UTC)
    with mock.patch.object(timezone, "now", return_value=april_2025):
        batch = run_import("awsd", path, organisation=awsd_organisation())
    assert (batch.rows_read, batch.created, batch.quarantined) == (2, 1, 1)
    assert batch.reasons == {"future_date": 1}
    row = batch.quarantine.get()
    assert row.reason == "future_date"
    assert row.row_number == 3
    assert row.raw == future
    assert row.message == (
        "Row 3: Incident 4386: the date 2025-12-19 is in the future (later than 2025-05-01)."
    )
    assert not Source.objects.filter(external_id="4386").exists()


def test_a_date_after_today_is_in_the_future_whatever_today_is(tmp_path):
    next_year = str(timezone.now().year + 1)
    path = write_csv(tmp_path / "awsd.csv", HEADER, rows("4022", Year=next_year))
    batch = run_import("awsd", path, organisation=awsd_organisation())
    assert batch.reasons == {"future_date": 1}


def test_one_bad_row_never_loses_the_others(tmp_path):
    bad = {**ROWS["3"], "Nationals killed": "two"}
    impossible = {**ROWS["4"], "Month": "13"}
    nowhere = {**ROWS["5"], "Latitude": "north"}
    path = write_csv(
        tmp_path / "awsd.csv", HEADER, [ROWS["1"], bad, ROWS["2"], impossible, nowhere]
    )
    batch = run_import("awsd", path, organisation=awsd_organisation())
    assert (batch.rows_read, batch.created, batch.quarantined) == (5, 2, 3)
    assert batch.reasons == {"invalid_number": 1, "invalid_date": 1, "invalid_coordinates": 1}
    messages = dict(batch.quarantine.values_list("row_number", "message"))
    assert messages[3] == (
        "Row 3: Incident 3: Nationals killed is 'two', not a whole number of people."
    )
    assert "Year-Month-Day '1997-13-" in messages[5]
    assert "Latitude 'north'" in messages[6]


def test_a_record_the_csv_parser_cannot_read_is_quarantined_and_reading_goes_on(tmp_path):
    huge = {**ROWS["2"], "Details": "x" * 200_000}  # beyond the CSV module's field limit
    path = write_csv(tmp_path / "awsd.csv", HEADER, [ROWS["1"], huge, ROWS["3"]])
    batch = run_import("awsd", path, organisation=awsd_organisation())
    assert (batch.rows_read, batch.created, batch.quarantined) == (3, 2, 1)
    row = batch.quarantine.get()
    assert (row.reason, row.row_number) == ("unreadable_row", 3)
    assert "cannot be read as CSV" in row.message


def test_a_blank_line_and_a_hashtag_row_keep_row_numbers_as_a_spreadsheet_shows(tmp_path):
    path = write_csv(tmp_path / "awsd.csv", HEADER, [ROWS["1"], {**ROWS["4"], "Year": ""}])
    lines = path.read_text().splitlines(keepends=True)
    hashtags = ",".join("#x" for _ in HEADER) + "\r\n"
    path.write_text(lines[0] + "\r\n" + hashtags + "".join(lines[1:]))
    batch = run_import("awsd", path, organisation=awsd_organisation())
    assert batch.layout == "current_41+hxl"
    assert batch.quarantine.get().row_number == 5


def test_rows_read_is_always_created_plus_updated_plus_unchanged_plus_quarantined(tmp_path):
    first = write_csv(tmp_path / "a.csv", HEADER, rows("1", "2", "3"))
    run_import("awsd", first, organisation=awsd_organisation())
    mixed = [
        ROWS["1"],  # unchanged
        {**ROWS["2"], "Details": "corrected"},  # updated
        ROWS["4"],  # created
        {**ROWS["5"], "Country Code": "", "Country": "Atlantis"},  # quarantined
    ]
    batch = run_import(
        "awsd", write_csv(tmp_path / "b.csv", HEADER, mixed), organisation=awsd_organisation()
    )
    assert (batch.unchanged, batch.updated, batch.created, batch.quarantined) == (1, 1, 1, 1)
    assert batch.rows_read == 4 and accounted(batch)


def test_a_repeated_id_in_one_file_is_quarantined_after_its_first_row(tmp_path):
    path = write_csv(tmp_path / "awsd.csv", HEADER, [ROWS["1"], ROWS["2"], ROWS["1"]])
    batch = run_import("awsd", path, organisation=awsd_organisation(), chunk_size=2)
    assert (batch.created, batch.quarantined) == (2, 1)
    assert batch.quarantine.get().reason == "duplicate_id"


def test_small_chunks_give_the_same_result_as_one(tmp_path):
    first_forty = list(ROWS.values())[:40]  # incident 61, the 36th, has no country
    path = write_csv(tmp_path / "awsd.csv", HEADER, first_forty)
    batch = run_import("awsd", path, organisation=awsd_organisation(), chunk_size=7)
    assert (batch.rows_read, batch.created, batch.quarantined) == (40, 39, 1)
    assert batch.quarantine.get().raw["Incident ID"] == "61"
    assert Incident.objects.count() == 39


def test_a_row_the_database_refuses_is_quarantined_and_the_rest_of_its_chunk_kept(tmp_path):
    path = write_csv(tmp_path / "awsd.csv", HEADER, rows("1", "2", "3"))
    # Every reference the same: the chunk's insert fails, then row by row only the first fits.
    same = mock.patch.object(runner, "new_references", side_effect=lambda n: ["SAL-SAME"] * n)
    with same:
        batch = run_import("awsd", path, organisation=awsd_organisation())
    assert (batch.created, batch.quarantined) == (1, 2)
    assert batch.reasons == {"database_error": 2}
    assert accounted(batch)


def test_a_file_with_a_byte_order_mark_is_read_as_utf8(tmp_path):
    path = write_csv(tmp_path / "awsd.csv", HEADER, rows("1", "2"), encoding="utf-8-sig")
    batch = run_import("awsd", path, organisation=awsd_organisation())
    assert batch.encoding == "utf-8-sig"
    assert batch.created == 2


def test_a_cp1252_file_is_read_as_cp1252(tmp_path):
    quoted = {**ROWS["1"], "Details": "“Staff” killed – 1 € paid"}
    path = write_csv(tmp_path / "awsd.csv", HEADER, [quoted], encoding="cp1252")
    batch = run_import("awsd", path, organisation=awsd_organisation())
    assert batch.encoding == "cp1252"
    assert Incident.objects.get().narrative == "“Staff” killed – 1 € paid"


def test_a_batch_records_its_file_and_who_ran_it(tmp_path, reporter):
    path = write_csv(tmp_path / "awsd.csv", HEADER, rows("1"))
    batch = run_import("awsd", path, organisation=awsd_organisation(), user=reporter)
    assert batch.filename == "awsd.csv" and len(batch.sha256) == 64
    assert batch.started_by == reporter and batch.finished_at is not None
    assert Incident.objects.get().reported_by == reporter
    entry = AuditEntry.objects.get(action="import")
    assert entry.actor == reporter


def test_progress_is_reported_per_chunk(tmp_path):
    path = write_csv(tmp_path / "awsd.csv", HEADER, rows(*[str(i) for i in range(1, 11)]))
    calls = []
    run_import(
        "awsd",
        path,
        organisation=awsd_organisation(),
        chunk_size=4,
        progress=lambda done, total, read: calls.append((done, total, read)),
    )
    assert [read for _, _, read in calls] == [4, 8, 10]
    assert calls[-1][0] == calls[-1][1] == path.stat().st_size


def test_references_are_unique_and_shaped_like_the_services_ones():
    references = runner.new_references(2000)
    assert len(set(references)) == 2000
    assert all(len(r) == 14 and r.startswith("SAL-") for r in references)
    assert set("".join(r[4:] for r in references)) <= set(runner.REFERENCE_ALPHABET)
