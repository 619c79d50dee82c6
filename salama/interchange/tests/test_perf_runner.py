"""The runner's speed-ups keep its behaviour: the second process that reads and converts the
rows, the batch's table of ids already taken, the search index filled per chunk, the
collector's thresholds, the reserved incident ids."""

import gc

import pytest
from django.db import connection

from salama.incidents.models import AffectedPerson, Incident, ReportedTotal, Source
from salama.interchange import runner
from salama.interchange.models import ImportBatch
from salama.interchange.runner import run_import
from salama.interchange.tests.helpers import (
    CURRENT,
    OLD_LATIN1,
    awsd_organisation,
    real_rows,
    write_csv,
)

pytestmark = pytest.mark.django_db

HEADER, ROWS = real_rows()
SEARCH_TABLE = "incidents_incident_search"


def facts_of_every_incident() -> list[tuple]:
    """Everything imported, without what differs from run to run (ids, references, times)."""
    skip = {"id", "reference", "created_at", "updated_at", "closed_at"}
    names = [f.attname for f in Incident._meta.concrete_fields if f.attname not in skip]
    by_id = {}
    for source in Source.objects.values("incident_id", "external_id", "kind", "content_hash"):
        by_id[source["incident_id"]] = (
            source["external_id"],
            source["kind"],
            source["content_hash"],
        )
    persons, totals = {}, {}
    for person in AffectedPerson.objects.values():
        key = person.pop("incident_id")
        person.pop("id")
        persons.setdefault(key, []).append(tuple(sorted(person.items())))
    for total in ReportedTotal.objects.values("incident_id", "dimension", "value", "count"):
        totals.setdefault(total.pop("incident_id"), []).append(tuple(sorted(total.items())))
    return sorted(
        (
            by_id[row["id"]],
            tuple(row[n] for n in names),
            tuple(sorted(persons.get(row["id"], []))),
            tuple(sorted(totals.get(row["id"], []))),
        )
        for row in Incident.objects.values("id", *names)
    )


def report(batch: ImportBatch) -> dict:
    shown = batch.report()
    return {k: v for k, v in shown.items() if k not in {"id", "batch", "started_at", "finished_at"}}


def quarantine(batch: ImportBatch) -> list[tuple]:
    return list(batch.quarantine.order_by("row_number").values_list("row_number", "reason", "raw"))


@pytest.mark.parametrize("path", [CURRENT, OLD_LATIN1], ids=["current", "old-latin1"])
def test_reading_in_a_second_process_imports_exactly_what_one_process_does(path):
    organisation = awsd_organisation()
    alone = run_import("awsd", path, organisation=organisation, chunk_size=700, parallel=False)
    expected = (facts_of_every_incident(), report(alone), quarantine(alone), alone.encoding)
    Incident.objects.all().delete()

    both = run_import("awsd", path, organisation=organisation, chunk_size=700, parallel=True)

    assert (facts_of_every_incident(), report(both), quarantine(both), both.encoding) == expected
    assert both.rows_read == both.created + both.updated + both.unchanged + both.quarantined
    assert both.created > 1000


def test_importing_again_in_a_second_process_changes_nothing(tmp_path):
    organisation = awsd_organisation()
    first = run_import("awsd", CURRENT, organisation=organisation, parallel=True)
    before = facts_of_every_incident()
    again = run_import("awsd", CURRENT, organisation=organisation, parallel=True, chunk_size=999)
    assert again.created == again.updated == 0
    assert again.unchanged == first.created and again.quarantined == first.quarantined
    assert facts_of_every_incident() == before


def test_a_repeated_id_is_quarantined_within_a_chunk_and_across_chunks(tmp_path):
    ids = ["1", "2", "3", "4"]
    repeated = [ROWS[i] for i in ids] + [ROWS["2"], ROWS["4"], {**ROWS["1"], "Year": "2001"}]
    path = write_csv(tmp_path / "awsd.csv", HEADER, repeated)
    batch = run_import("awsd", path, organisation=awsd_organisation(), chunk_size=3)
    assert (batch.created, batch.quarantined) == (4, 3)
    assert list(batch.quarantine.order_by("row_number").values_list("row_number", "reason")) == [
        (6, "duplicate_id"),
        (7, "duplicate_id"),
        (8, "duplicate_id"),
    ]


def test_the_table_of_ids_taken_is_dropped_with_the_batch(tmp_path):
    path = write_csv(tmp_path / "awsd.csv", HEADER, [ROWS["1"], ROWS["2"]])
    batch = run_import("awsd", path, organisation=awsd_organisation())
    name = f"salama_import_seen_{batch.pk}"
    with connection.cursor() as cursor, pytest.raises(Exception, match="(?i)no such table|exist"):
        cursor.execute(f"SELECT 1 FROM {connection.ops.quote_name(name)}")


def test_an_error_in_the_reading_process_fails_the_batch_and_keeps_earlier_chunks(
    tmp_path, monkeypatch
):
    path = write_csv(tmp_path / "awsd.csv", HEADER, [ROWS[i] for i in ("1", "2", "3", "4", "5")])
    convert = runner._Run.convert

    def breaks_on_the_second_chunk(self, rows):
        if rows[0].number > 3:
            raise ValueError("the disk went away")
        return convert(self, rows)

    monkeypatch.setattr(runner._Run, "convert", breaks_on_the_second_chunk)
    with pytest.raises(ValueError, match="the disk went away"):
        run_import("awsd", path, organisation=awsd_organisation(), chunk_size=2, parallel=True)
    batch = ImportBatch.objects.get()
    assert batch.state == ImportBatch.State.FAILED
    assert batch.error == "ValueError: the disk went away"
    assert (batch.rows_read, batch.created) == (2, 2) and Incident.objects.count() == 2


def test_a_database_error_ends_the_reading_process_too(tmp_path, monkeypatch):
    path = write_csv(tmp_path / "awsd.csv", HEADER, [ROWS[i] for i in ("1", "2", "3", "4", "5")])
    children = []
    enter = runner._Conversions.__enter__

    def remember(self):
        entered = enter(self)
        children.append(self.pid)
        return entered

    def refuses(self, rows):
        raise RuntimeError("the database is full")

    monkeypatch.setattr(runner._Conversions, "__enter__", remember)
    monkeypatch.setattr(runner._Run, "import_chunk", refuses)
    with pytest.raises(RuntimeError, match="database is full"):
        run_import("awsd", path, organisation=awsd_organisation(), chunk_size=2, parallel=True)
    assert children and children[0]
    with pytest.raises(ChildProcessError):  # already waited for: no zombie, no orphan
        runner.os.waitpid(children[0], runner.os.WNOHANG)


def test_the_collector_gets_its_thresholds_back(tmp_path):
    before = gc.get_threshold()
    path = write_csv(tmp_path / "awsd.csv", HEADER, [ROWS["1"]])
    run_import("awsd", path, organisation=awsd_organisation())
    assert gc.get_threshold() == before


def test_imported_incidents_are_found_by_the_search(tmp_path):
    narrative = "Armed men stopped the Zwolle convoy at Qaryat al-Ulya and took two drivers."
    row = {**ROWS["1"], "Details": narrative, "City": "Qaryat al-Ulya"}
    path = write_csv(tmp_path / "awsd.csv", HEADER, [row, ROWS["2"], ROWS["3"]])
    run_import("awsd", path, organisation=awsd_organisation(), chunk_size=2, parallel=True)
    incident = Incident.objects.get(sources__external_id="1")
    assert list(Incident.objects.search("zwolle convoy")) == [incident]
    assert list(Incident.objects.search("QARYAT AL-U")) == [incident]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {SEARCH_TABLE}")
            assert cursor.fetchone()[0] == Incident.objects.count() == 3
            # The trigger that the chunk set aside is back, as it was.
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = %s",
                [f"{SEARCH_TABLE}_insert"],
            )
            assert cursor.fetchone()[0] == 1
            # Raises if the index and the incidents table differ in any row.
            cursor.execute(
                f"INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}, rank) VALUES ('integrity-check', 1)"
            )


def test_incident_ids_are_reserved_so_later_incidents_never_reuse_them(tmp_path, reporter, undp):
    from salama.conftest import make_incident

    path = write_csv(tmp_path / "awsd.csv", HEADER, [ROWS["1"], ROWS["2"]])
    run_import("awsd", path, organisation=awsd_organisation())
    imported = set(Incident.objects.values_list("id", flat=True))
    later = make_incident(reporter, undp)
    assert later.pk > max(imported)


def test_a_large_batch_leaves_sqlite_with_planner_statistics(tmp_path, monkeypatch):
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL gathers its own statistics (and the batch ANALYZEs as it goes)")
    monkeypatch.setattr(runner, "ANALYZE_FROM", 2)
    path = write_csv(tmp_path / "awsd.csv", HEADER, [ROWS["1"], ROWS["2"], ROWS["3"]])
    run_import("awsd", path, organisation=awsd_organisation())
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'incidents_incident'")
        assert cursor.fetchone()[0] > 0
