"""SQLite's deferred search index: large writes leave their ids in a backlog, searching stays
exact meanwhile, and the catch-up indexes each incident once, as it is by then."""

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from salama.conftest import make_incident
from salama.incidents import search_index
from salama.incidents.models import Incident
from salama.incidents.search_index import BACKLOG_TABLE, SEARCH_TABLE
from salama.incidents.synthetic import reserve_incident_ids

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sqlite_only():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's FTS5 search index only (PostgreSQL's GIN indexes keep up)")


def indexed(text: str) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT rowid FROM {SEARCH_TABLE} WHERE {SEARCH_TABLE} MATCH %s",  # noqa: S608
            [f'"{text}"'],
        )
        return {row[0] for row in cursor.fetchall()}


def check_integrity() -> None:
    """Raises if the index and the incidents table differ in any row."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}, rank) VALUES ('integrity-check', 1)"
        )


def deferred_incidents(reporter, organisation, narratives: list[str]) -> list[Incident]:
    """Incidents written the way an import writes them: ids reserved, their index deferred."""
    ids = reserve_incident_ids(len(narratives))
    made = []
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        search_index.deferred(cursor, ids[0], ids[-1]),
    ):
        for incident_id, narrative in zip(ids, narratives, strict=True):
            made.append(make_incident(reporter, organisation, id=incident_id, narrative=narrative))
    return made


def triggers() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        return {row[0] for row in cursor.fetchall()}


def test_deferred_incidents_are_found_before_and_after_the_catch_up(reporter, undp):
    first, second = deferred_incidents(
        reporter, undp, ["Armed men stopped the Zwolle convoy.", "A clinic in Gulu was looted."]
    )
    assert search_index.backlog() == 2
    assert indexed("Zwolle") == set()  # not in the index yet …
    assert list(Incident.objects.search("zwolle CONVOY")) == [first]  # … and found anyway
    assert list(Incident.objects.search("gulu")) == [second]
    assert not Incident.objects.search("Timbuktoo").exists()

    done = search_index.catch_up()

    assert done.ids == 2
    assert search_index.backlog() == 0
    assert indexed("Zwolle") == {first.pk}
    assert list(Incident.objects.search("zwolle CONVOY")) == [first]
    check_integrity()


def test_edits_and_deletions_in_the_backlog_leave_the_index_sound(reporter, undp):
    kept, edited, deleted = deferred_incidents(
        reporter, undp, ["Road crash near Bor.", "Shooting at Kismayo port.", "Fire in Goma."]
    )
    Incident.objects.filter(pk=edited.pk).update(narrative="Shooting at Baidoa market.")
    Incident.objects.filter(pk=deleted.pk).delete()
    assert list(Incident.objects.search("Baidoa")) == [edited]

    search_index.catch_up()

    assert indexed("Baidoa") == {edited.pk}
    assert indexed("Kismayo") == indexed("Goma") == set()
    assert indexed("Bor.") == {kept.pk}
    check_integrity()
    # Once out of the backlog, the triggers keep the index in step again.
    Incident.objects.filter(pk=kept.pk).update(narrative="Road crash near Malakal.")
    assert indexed("Malakal") == {kept.pk}
    check_integrity()


def test_writes_outside_the_backlog_are_indexed_at_once(reporter, undp):
    deferred_incidents(reporter, undp, ["Looting in Rumbek."])
    form = make_incident(reporter, undp, narrative="Carjacking in Nairobi.")
    assert indexed("Nairobi") == {form.pk}
    assert indexed("Rumbek") == set()
    search_index.catch_up()
    check_integrity()


def test_the_catch_up_goes_slice_by_slice_and_resumes(reporter, undp):
    incidents = deferred_incidents(reporter, undp, [f"Ambush number {n}." for n in range(7)])
    seen = []
    done = search_index.catch_up(slice_size=3, progress=lambda d, left: seen.append((d, left)))
    assert seen == [(3, 4), (6, 1), (7, 0)]
    assert done.ids == 7
    assert indexed("Ambush") == {i.pk for i in incidents}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {BACKLOG_TABLE}")  # noqa: S608
        assert cursor.fetchone()[0] == 0
    check_integrity()


def test_a_failed_write_takes_its_backlog_entry_with_it(reporter, undp):
    ids = reserve_incident_ids(2)
    with (
        pytest.raises(RuntimeError),
        transaction.atomic(),
        connection.cursor() as cursor,
        search_index.deferred(cursor, ids[0], ids[-1]),
    ):
        raise RuntimeError("the batch failed")
    assert search_index.backlog() == 0
    assert set(search_index.TRIGGERS) <= triggers()


def test_the_trigger_is_back_after_a_deferred_write(reporter, undp):
    deferred_incidents(reporter, undp, ["Looting in Rumbek."])
    assert set(search_index.TRIGGERS) <= triggers()


def test_the_command_reports_and_catches_up(reporter, undp, capsys):
    deferred_incidents(reporter, undp, ["Abduction near Kidal.", "Shelling in Kharkiv."])
    call_command("search_index", "--status")
    assert "2 incidents wait" in capsys.readouterr().out
    call_command("search_index")
    out = capsys.readouterr().out
    assert "Indexed 2 incidents" in out
    assert search_index.backlog() == 0
    call_command("search_index", "--status")
    assert "up to date" in capsys.readouterr().out
