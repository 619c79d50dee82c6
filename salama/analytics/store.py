"""DuckDB over the snapshot: the views, the UN M49 regions, and the permission door in SQL.

:func:`door_sql` is ``Incident.objects.visible_to`` written for DuckDB: the same CASE over
marking, status, owning organisation, reporter and named recipients, with the user's
organisations and id as bound parameters. ``test_door.py`` proves both doors agree for every
persona, TLP marking and status.
"""

import datetime
import threading
from pathlib import Path

import duckdb
from django.db.models import Count, Max
from django.utils import timezone

from salama.analytics import snapshot
from salama.core import markings
from salama.incidents import choices as c
from salama.organisations.models import organisation_ids

M49_FILE = Path(__file__).parent / "data" / "m49.csv"
# Incidents saved this long before a refresh started are checked against the database's door
# too (clock differences between servers, transactions committing during the refresh).
GUARD_MARGIN = datetime.timedelta(seconds=30)
ID_COLUMN = {"incidents": "id", "persons": "incident_id", "recipients": "incident_id"}
ID_COLUMN["totals"] = "incident_id"

_local = threading.local()


class NoSnapshot(Exception):
    """No snapshot has been made yet: run ``salama analytics refresh``."""


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def connect(state: "snapshot.State | None" = None, fresh: bool = False):
    """A DuckDB connection with the views ``incidents``, ``persons``, ``recipients``,
    ``totals`` and the table ``m49``. Cached per thread until the snapshot changes."""
    state = state or snapshot.State.load()
    if state is None:
        raise NoSnapshot("No analytics snapshot yet: run 'salama analytics refresh'.")
    if not fresh:
        cached = getattr(_local, "connection", None)
        if cached is not None and cached[0] == state.key:
            return cached[1]
        if cached is not None:
            cached[1].close()
    con = duckdb.connect()
    folder = snapshot.directory()
    con.execute(
        f"CREATE TABLE m49 AS SELECT * FROM read_csv({_literal(M49_FILE)}, all_varchar = true)"
    )
    if state.changes:
        files = ", ".join(_literal(folder / name) for name in state.changes)
        con.execute(
            f"CREATE TABLE changes AS SELECT incident_id, max(gen) AS gen "
            f"FROM read_parquet([{files}]) GROUP BY incident_id"
        )
    for table, names in state.files.items():
        files = ", ".join(_literal(folder / name) for name in names)
        source = f"read_parquet([{files}], union_by_name = true)"
        if state.changes:
            key = ID_COLUMN[table]
            con.execute(
                f"CREATE VIEW {table} AS SELECT t.* FROM {source} t "
                f"ANTI JOIN changes ch ON ch.incident_id = t.{key} AND ch.gen > t.gen"
            )
        else:
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM {source}")
    if not fresh:
        _local.connection = (state.key, con)
    return con


def door_sql(user, alias: str, id_column: str, con=None) -> tuple[str, list]:
    """The SQL condition (and its parameters) for rows of incidents ``user`` may see.

    ``user=None`` is the operator (commands run by whoever runs the server): everything.
    With ``con``, the user's named (TLP:RED) incidents are looked up once and bound as a list.
    """
    if user is None:
        return "TRUE", []
    if not getattr(user, "is_authenticated", False):
        return "FALSE", []
    own = [int(i) for i in organisation_ids(user)]
    if con is not None:
        named = [
            int(row[0])
            for row in con.execute(
                "SELECT DISTINCT incident_id FROM recipients WHERE user_id = ?", [int(user.pk)]
            ).fetchall()
        ]
        named_sql, named_params = in_list(f"{alias}.{id_column}", named)
    else:
        named_sql = (
            f"{alias}.{id_column} IN (SELECT r.incident_id FROM recipients r WHERE r.user_id = ?)"
        )
        named_params = [int(user.pk)]
    wide, wide_params = in_list(f"{alias}.marking", [str(m) for m in markings.INSTANCE_WIDE])
    org, org_params = in_list(f"{alias}.marking", [str(m) for m in markings.ORGANISATION_ONLY])
    red, red_params = in_list(f"{alias}.marking", [str(m) for m in markings.NAMED_ONLY])
    mine, mine_params = in_list(f"{alias}.organisation_id", own)
    sql = (
        f"(CASE WHEN {wide} THEN ({alias}.status <> ? OR {mine}) "
        f"WHEN {org} THEN {mine} "
        f"WHEN {red} THEN (coalesce({alias}.reported_by_id = ?, FALSE) OR {named_sql}) "
        f"ELSE FALSE END)"
    )
    params = [
        *wide_params,
        str(c.Status.DRAFT),
        *mine_params,
        *org_params,
        *mine_params,
        *red_params,
        int(user.pk),
        *named_params,
    ]
    return sql, params


def in_list(expression: str, values: list) -> tuple[str, list]:
    """``expression IN (?, ?, …)`` with one bound parameter per value (DuckDB's Python client
    is slow to bind list parameters); FALSE for no values."""
    if not values:
        return "FALSE", []
    return f"{expression} IN ({', '.join(['?'] * len(values))})", list(values)


def stale_guard(user, state: "snapshot.State") -> list[int]:
    """Hide, from ``user``'s figures, incidents changed since the snapshot that the database's
    door now hides from them (a marking raised to RED, a report sent back to draft…).

    Returns the ids of the incidents to leave out (usually none).
    Figures may lag behind edits until the next refresh; permissions do not. Incidents saved
    from shortly before the refresh started (``GUARD_MARGIN``, for clocks and short
    transactions) are checked; a long import transaction is followed by its own refresh.
    The answer is kept per user and snapshot while nothing else changes, so a page of
    several charts checks the database's door once.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return []  # the operator sees everything; an anonymous visitor nothing (door_sql)
    from salama.incidents.models import Incident

    started = state.started_at or state.refreshed_at
    since = datetime.datetime.fromtimestamp(started, tz=datetime.UTC) - GUARD_MARGIN
    if not timezone.is_aware(timezone.now()):
        since = since.replace(tzinfo=None)
    changed = Incident.objects.filter(updated_at__gte=since)
    # One cheap look (an index range) tells whether anything moved since the last check.
    seen = changed.aggregate(n=Count("id"), last=Max("updated_at"))
    key = (user.pk, tuple(organisation_ids(user)), state.key, seen["n"], seen["last"])
    cached = getattr(_local, "guard", None)
    if cached is not None and cached[0] == key:
        hidden = cached[1]
    elif not seen["n"]:
        hidden = []
    else:
        visible = set(changed.visible_to(user).values_list("pk", flat=True))
        hidden = [pk for pk in changed.values_list("pk", flat=True) if pk not in visible]
    _local.guard = (key, hidden)
    return hidden


def hidden_table(con, hidden: list[int]) -> str:
    """A temporary table of ``hidden`` incident ids on ``con`` (an anti-join against a table
    is fast; against a bound list it is not). Rebuilt only when the list changes."""
    key = (id(con), hash(tuple(hidden)))
    if getattr(_local, "hidden_key", None) != key:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE stale_hidden AS "
            "SELECT unnest(?::BIGINT[]) AS incident_id",
            [hidden],
        )
        _local.hidden_key = key
    return "stale_hidden"
