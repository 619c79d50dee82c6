"""DuckDB over the snapshot: the views, the UN M49 regions, and the permission door in SQL.

:func:`door_source` is ``Incident.objects.visible_to`` written for DuckDB: the same rules over
each row's access class (from marking and status), owning organisation, reporter and named
recipients, with the user's organisations and id as bound parameters. ``test_door.py``
proves both doors agree for every persona, TLP marking and status.
"""

import datetime
import threading
from pathlib import Path

import duckdb
from django.db.models import Count, Max
from django.utils import timezone

from salama.analytics import snapshot
from salama.incidents import grants
from salama.organisations.models import organisation_ids

M49_FILE = Path(__file__).parent / "data" / "m49.csv"
# Incidents saved this long before a refresh started are checked against the database's door
# too (clock differences between servers, transactions committing during the refresh).
GUARD_MARGIN = datetime.timedelta(seconds=30)
ID_COLUMN = {"incidents": "id", "persons": "incident_id", "recipients": "incident_id"}
ID_COLUMN["totals"] = "incident_id"
# The forecast's series table (snapshot.State.series): ``id`` is set on its TLP:RED rows only,
# the one branch of the door that asks for it.
ID_COLUMN["major_series"] = "id"

_local = threading.local()


class NoSnapshot(Exception):
    """No snapshot has been made yet: run ``salama analytics refresh``."""


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def connect(state: "snapshot.State | None" = None, fresh: bool = False):
    """A DuckDB connection with the views ``incidents``, ``persons``, ``recipients``,
    ``totals``, ``major_series`` (when the snapshot has one) and the table ``m49``. Cached per
    thread until the snapshot changes."""
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
    if state.series:
        # Rewritten whole by each refresh from the current rows: no changes to subtract.
        series = _literal(folder / state.series)
        con.execute(f"CREATE VIEW major_series AS SELECT * FROM read_parquet({series})")
    if not fresh:
        _local.connection = (state.key, con)
    return con


def door_source(user, table: str, con) -> tuple[str, list]:
    """What to put after ``FROM`` to read only the rows of ``table`` (``incidents`` or
    ``persons``) that ``user`` may see, and its parameters.

    ``user=None`` is the operator (commands run by whoever runs the server): everything.
    Otherwise a UNION ALL of the access classes (``snapshot.ACCESS_*``, computed from
    marking and status when the row was written) with the user's organisations, sharing
    grants (``incidents.grants``, read at each call) and id: each branch is a plain filter
    that DuckDB pushes into the Parquet scan, and the files are sorted by access class
    first, so the organisation's, shared and named branches skip most of the file.
    """
    if user is None:
        return table, []
    if not getattr(user, "is_authenticated", False):
        return f"(SELECT * FROM {table} WHERE FALSE)", []
    id_column = ID_COLUMN[table]
    own = [int(i) for i in organisation_ids(user)]
    named = [
        int(row[0])
        for row in con.execute(
            "SELECT DISTINCT incident_id FROM recipients WHERE user_id = ?", [int(user.pk)]
        ).fetchall()
    ]
    branches = [f"SELECT * FROM {table} WHERE access = {snapshot.ACCESS_EVERYONE}"]
    params = []
    if own:
        mine, mine_params = in_list("organisation_id", own)
        branches.append(
            f"SELECT * FROM {table} WHERE access IN "
            f"({snapshot.ACCESS_ORGANISATION}, {snapshot.ACCESS_SHAREABLE}) AND {mine}"
        )
        params += mine_params
    if shared := grants.for_user(user):
        # Other organisations' TLP:AMBER rows under a sharing agreement (never the user's own
        # organisations: grants leave those out, so no row comes through two branches).
        conditions = []
        for grant in shared:
            if grant.countries is None:
                conditions.append("organisation_id = ?")
                params.append(int(grant.organisation_id))
            else:
                countries, country_params = in_list("country", list(grant.countries))
                conditions.append(f"(organisation_id = ? AND {countries})")
                params += [int(grant.organisation_id), *country_params]
        branches.append(
            f"SELECT * FROM {table} WHERE access = {snapshot.ACCESS_SHAREABLE} "
            f"AND ({' OR '.join(conditions)})"
        )
    named_sql, named_params = in_list(id_column, named)
    branches.append(
        f"SELECT * FROM {table} WHERE access = {snapshot.ACCESS_NAMED} "
        f"AND (coalesce(reported_by_id = ?, FALSE) OR {named_sql})"
    )
    params += [int(user.pk), *named_params]
    return "(" + " UNION ALL ".join(branches) + ")", params


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
        return []  # the operator sees everything; an anonymous visitor nothing (door_source)
    from salama.incidents.models import Incident

    started = state.started_at or state.refreshed_at
    since = datetime.datetime.fromtimestamp(started, tz=datetime.UTC) - GUARD_MARGIN
    if not timezone.is_aware(timezone.now()):
        since = since.replace(tzinfo=None)
    changed = Incident.objects.filter(updated_at__gte=since)
    # One cheap look (an index range) tells whether anything moved since the last check.
    seen = changed.aggregate(n=Count("id"), last=Max("updated_at"))
    shared = tuple(grants.for_user(user))
    key = (user.pk, tuple(organisation_ids(user)), shared, state.key, seen["n"], seen["last"])
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
