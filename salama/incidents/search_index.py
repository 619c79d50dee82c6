"""SQLite's text-search index over narrative and place, and its backlog.

Migration incidents/0002 keeps an FTS5 table (trigram tokenizer) over the incidents'
narrative and place, filled by triggers. Indexing a narrative costs several times the insert
of its incident: for a million imported or generated incidents about half a minute, more
than everything else those writes do. So large writes (an import, ``salama generate``)
**defer** it: inside their transaction they record the id range they wrote in the backlog
table ``incidents_search_backlog`` (migration 0006), the triggers leave incidents in a backlog
range alone, and :func:`catch_up` indexes the backlog afterwards in slices, each slice in its
own short transaction so that forms and edits are not held up.

Searching stays exact meanwhile: ``IncidentQuerySet.search`` treats every incident from the
backlog's lowest id upwards as a candidate and checks it with ``icontains`` as it checks the
index's candidates; only its speed suffers until the catch-up ends. Nothing else reads the
index. A catch-up cut short (the process stopped) resumes at the next import, generation or
``salama search_index``.

PostgreSQL's trigram GIN indexes keep up by themselves: nothing here applies to it.
"""

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction

SEARCH_TABLE = "incidents_incident_search"
BACKLOG_TABLE = "incidents_search_backlog"
INSERT_TRIGGER = "incidents_incident_search_insert"
# Incidents indexed per transaction by the catch-up (about a second of work each).
CATCH_UP_SLICE = 50_000

_NOT_IN_BACKLOG = (
    f"NOT EXISTS (SELECT 1 FROM {BACKLOG_TABLE} b WHERE {{row}}.id BETWEEN b.low AND b.high)"
)
# An external-content FTS5 table must be told the old values to forget a row; a row in the
# backlog was never told, so it must not be forgotten either (that would corrupt the index).
TRIGGERS = {
    "incidents_incident_search_insert": f"""
        CREATE TRIGGER incidents_incident_search_insert
        AFTER INSERT ON incidents_incident
        WHEN {_NOT_IN_BACKLOG.format(row="new")} BEGIN
            INSERT INTO {SEARCH_TABLE} (rowid, narrative, place)
            VALUES (new.id, new.narrative, new.place);
        END""",
    "incidents_incident_search_delete": f"""
        CREATE TRIGGER incidents_incident_search_delete
        AFTER DELETE ON incidents_incident
        WHEN {_NOT_IN_BACKLOG.format(row="old")} BEGIN
            INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}, rowid, narrative, place)
            VALUES ('delete', old.id, old.narrative, old.place);
        END""",
    "incidents_incident_search_update": f"""
        CREATE TRIGGER incidents_incident_search_update
        AFTER UPDATE OF narrative, place ON incidents_incident
        WHEN (old.narrative IS NOT new.narrative OR old.place IS NOT new.place)
             AND {_NOT_IN_BACKLOG.format(row="old")} BEGIN
            INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}, rowid, narrative, place)
            VALUES ('delete', old.id, old.narrative, old.place);
            INSERT INTO {SEARCH_TABLE} (rowid, narrative, place)
            VALUES (new.id, new.narrative, new.place);
        END""",
}


def applies() -> bool:
    """Whether this database has the deferred index (SQLite, migrated past 0006)."""
    if connection.vendor != "sqlite":
        return False
    return BACKLOG_TABLE in connection.introspection.table_names()


@contextlib.contextmanager
def deferred(cursor, first_id: int, last_id: int):
    """Write incidents ``first_id`` … ``last_id`` without indexing them; :func:`catch_up` will.

    Use it inside the transaction that writes them, around the writes. Their range goes to
    the backlog, and the insert trigger is set aside meanwhile and put back as it was before
    the transaction ends: a trigger on the table, even one that does nothing, doubles the
    cost of every insert. The transaction holds SQLite's write lock (transactions begin
    IMMEDIATE), so no other writer ever finds the trigger missing; a failure rolls all of it
    back, backlog entry included. On PostgreSQL (or a database without the backlog) it does
    nothing: the index keeps up by itself.
    """
    if first_id > last_id or not applies():
        yield
        return
    cursor.execute(
        f"INSERT INTO {BACKLOG_TABLE} (low, high) VALUES (%s, %s)",  # noqa: S608
        [first_id, last_id],
    )
    cursor.execute(f"DROP TRIGGER {INSERT_TRIGGER}")
    yield
    cursor.execute(TRIGGERS[INSERT_TRIGGER])


def backlog() -> int:
    """How many incident ids wait for the index (ids, not incidents: some may be gone)."""
    if not applies():
        return 0
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce(sum(high - low + 1), 0) FROM {BACKLOG_TABLE}")  # noqa: S608
        return cursor.fetchone()[0]


@dataclass
class CatchUp:
    """What one :func:`catch_up` did."""

    ids: int = 0
    seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.ids / self.seconds if self.seconds else 0.0


def catch_up(
    *, slice_size: int = CATCH_UP_SLICE, progress: Callable[[int, int], None] | None = None
) -> CatchUp:
    """Index every incident in the backlog, lowest ids first, ``slice_size`` per transaction.

    Each slice indexes the incidents as they are now and shrinks the backlog in the same
    transaction, so a slice is either done or not, and writes made meanwhile are indexed
    exactly once (by their trigger once their id has left the backlog, or by a later slice).
    ``progress(done, left)`` is called after each slice, with ids.
    """
    done = CatchUp()
    if not applies():
        return done
    started = time.perf_counter()
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            # Transactions begin IMMEDIATE (settings): nobody changes the backlog meanwhile.
            cursor.execute(
                f"SELECT rowid, low, high FROM {BACKLOG_TABLE} ORDER BY low LIMIT 1"  # noqa: S608
            )
            found = cursor.fetchone()
            if found is None:
                break
            rowid, low, high = found
            until = min(high, low + slice_size - 1)
            cursor.execute(
                f"INSERT INTO {SEARCH_TABLE} (rowid, narrative, place) "  # noqa: S608
                "SELECT id, narrative, place FROM incidents_incident WHERE id BETWEEN %s AND %s",
                [low, until],
            )
            if until == high:
                cursor.execute(f"DELETE FROM {BACKLOG_TABLE} WHERE rowid = %s", [rowid])  # noqa: S608
            else:
                cursor.execute(
                    f"UPDATE {BACKLOG_TABLE} SET low = %s WHERE rowid = %s",  # noqa: S608
                    [until + 1, rowid],
                )
        done.ids += until - low + 1
        if progress:
            progress(done.ids, backlog())
    done.seconds = time.perf_counter() - started
    return done


def install(cursor) -> None:
    """Create the backlog table and the triggers that respect it (migration 0006)."""
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS {BACKLOG_TABLE} "
        "(low integer NOT NULL, high integer NOT NULL, CHECK (low <= high))"
    )
    for name, sql in TRIGGERS.items():
        cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        cursor.execute(sql)
