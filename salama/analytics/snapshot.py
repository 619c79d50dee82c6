"""The analytical snapshot: incidents × affected persons as Parquet files, read by DuckDB.

Layout of ``DATA_DIR/analytics/``:

- ``state.json``: which files make up the snapshot now (written last, atomically);
- ``<table>-<generation>.parquet`` for the tables ``incidents`` (one row per incident),
  ``persons`` (one row per AffectedPerson row, carrying the incident's columns needed to count
  and to apply the permission door, so the annual table reads one file), ``recipients``
  (who is named on a TLP:RED incident) and ``totals`` (margins a source gave alone, e.g. AWSD's
  "Gender Female");
- ``changes-<generation>.parquet``: the incidents an incremental refresh replaced or deleted;
- ``series-<generation>.parquet``: major attacks a month per country, access class and owning
  organisation (incident by incident for TLP:RED), rewritten by every refresh from the current
  rows: the forecast's series through the door without scanning the incidents (forecast.py);
- ``backtests.json``: the forecast's backtest scores by series content, written by
  ``forecast.warm`` after each refresh (content-addressed: never stale).

Every row carries ``gen``, the generation of the file it came from. A row is current when no
later generation changed its incident; :func:`views_sql` builds the DuckDB views that say so.

An incremental refresh reads the versions (``updated_at``) of the incidents saved since the last
refresh started, less ``LATE_COMMIT_MARGIN``, and re-reads those that are new or differ. A plain
watermark would miss for ever a row committed after a refresh but stamped before it (a long
import); so when the incident counts then disagree, every incident's version is compared.
``updated_at`` changes on every save: edits, status moves, merges and import updates all save.

The database is read with plain cursors in chunks into Arrow record batches (DuckDB's
sqlite/postgres extensions cannot be installed offline), written with ``ParquetWriter`` to a
temporary name and renamed into place.
"""

import datetime
import fcntl
import json
import os
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from django.conf import settings
from django.db import connection

from salama.core import markings
from salama.incidents import choices as c
from salama.incidents.models import (
    AffectedPerson,
    Incident,
    IncidentRecipient,
    ReportedTotal,
    RoadCrash,
    Source,
)
from salama.organisations.models import Organisation

TABLES = ("incidents", "persons", "recipients", "totals")
CHUNK = 50_000
# How long after saving a row a transaction may commit and still be seen by an incremental
# refresh without comparing every incident (imports commit chunk by chunk, edits at once).
# Later commits are found by the count check or the next full refresh (run one nightly).
LATE_COMMIT_MARGIN = datetime.timedelta(minutes=10)
# Past this many incremental files, the next refresh compacts them into one generation.
MAX_DELTAS = 8
SYNTHETIC_SYSTEMS = ("synthetic-un",)
# Hexagons for the density map: resolution 3 is about 12,000 km² a cell (a city and its
# surroundings), coarse enough that no cell points at a single compound.
H3_RESOLUTION = 3
# The layout of the files; a snapshot written by another layout is ignored (refresh again).
FORMAT = 4

# Who may see a row, by its marking and status (the door's classes, precomputed so the door
# is a comparison of one small integer for most rows; see store.door_source):
ACCESS_EVERYONE = 0  # TLP:CLEAR and TLP:GREEN past draft: every signed-in user
ACCESS_ORGANISATION = 1  # TLP:AMBER+STRICT, and CLEAR, GREEN or AMBER drafts: the owner
ACCESS_NAMED = 2  # TLP:RED: the reporter and the people named on the record
ACCESS_NOBODY = 3  # an unknown marking
ACCESS_SHAREABLE = 4  # TLP:AMBER past draft: the owning organisation and those it shares with


def access_sql(marking: str = "marking", status: str = "status") -> str:
    """The DuckDB expression of a row's access class (``ACCESS_*``)."""

    def listed(values) -> str:
        return ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)

    return (
        f"CAST(CASE WHEN {marking} IN ({listed(markings.INSTANCE_WIDE)}) "
        f"THEN CASE WHEN {status} = '{c.Status.DRAFT}' THEN {ACCESS_ORGANISATION} "
        f"ELSE {ACCESS_EVERYONE} END "
        f"WHEN {marking} IN ({listed(markings.SHAREABLE)}) "
        f"THEN CASE WHEN {status} = '{c.Status.DRAFT}' THEN {ACCESS_ORGANISATION} "
        f"ELSE {ACCESS_SHAREABLE} END "
        f"WHEN {marking} IN ({listed(markings.ORGANISATION_ONLY)}) THEN {ACCESS_ORGANISATION} "
        f"WHEN {marking} IN ({listed(markings.NAMED_ONLY)}) THEN {ACCESS_NAMED} "
        f"ELSE {ACCESS_NOBODY} END AS UTINYINT)"
    )


# Full refreshes write rows in this order: the door's branches then skip whole row groups
# (store.door_source), and the usual groupings find long runs of equal keys (faster
# aggregation, smaller files).
SORT_KEYS = {
    "incidents": ("access", "year", "month", "country"),
    "persons": ("access", "year", "cause", "impact", "recruitment", "gender"),
}

# Incident columns read from the database: (column in the table, Arrow type).
INCIDENT_COLUMNS = (
    ("id", pa.int64()),
    ("reference", pa.string()),
    ("organisation_id", pa.int64()),
    ("reported_by_id", pa.int64()),
    ("status", pa.string()),
    ("marking", pa.string()),
    ("date", pa.date32()),
    ("country", pa.string()),
    ("category", pa.string()),
    ("subcategory", pa.string()),
    ("location_type", pa.string()),
    ("means_of_attack", pa.string()),
    ("attack_context", pa.string()),
    ("premises_hit", pa.bool_()),
    ("vehicles_hit", pa.bool_()),
    ("supplies_hit", pa.bool_()),
    ("health_facility_hit", pa.bool_()),
    ("latitude", pa.float64()),
    ("longitude", pa.float64()),
    ("updated_at", pa.string()),
)
PERSON_COLUMNS = (
    ("id", pa.int64()),
    ("count", pa.int64()),
    ("impact", pa.string()),
    ("cause", pa.string()),
    ("recruitment", pa.string()),
    ("gender", pa.string()),
    ("organisation_id", pa.int64()),
    ("organisation_type", pa.string()),
    ("is_medical", pa.bool_()),
    ("killed_in_captivity", pa.bool_()),
)
# Incident columns copied onto each person row (the door's and the dimensions').
PERSON_INCIDENT_COLUMNS = (
    "organisation_id",
    "reported_by_id",
    "status",
    "marking",
    "date",
    "country",
    "category",
    "subcategory",
    "location_type",
    "means_of_attack",
)


def directory() -> Path:
    return Path(settings.DATA_DIR) / "analytics"


@dataclass
class State:
    generation: int = 0
    files: dict = field(default_factory=dict)  # table -> [file names], oldest first
    changes: list = field(default_factory=list)  # change files, oldest first
    series: str = ""  # the major attacks a month by door class (see the module's docstring)
    refreshed_at: float = 0.0
    started_at: float = 0.0  # when the refresh that made this state began reading
    incidents: int = 0
    persons: int = 0
    format: int = FORMAT

    @classmethod
    def load(cls) -> "State | None":
        """The current state, or None when there is none or it was written in another
        layout (an upgrade): the next refresh is then a full one."""
        path = directory() / "state.json"
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        if data.get("format") != FORMAT:
            return None
        return cls(**data)

    def save(self) -> None:
        _atomic_write_text(directory() / "state.json", json.dumps(self.__dict__, indent=1))

    @property
    def key(self) -> tuple:
        return (str(directory()), self.generation, self.refreshed_at)


def outdated() -> bool:
    """Whether a snapshot exists that was written in another layout than ``FORMAT``."""
    try:
        data = json.loads((directory() / "state.json").read_text())
    except (FileNotFoundError, ValueError):
        return False
    return data.get("format") != FORMAT


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


@contextmanager
def _locked():
    """One refresh at a time, across processes (the worker, a command, a test)."""
    folder = directory()
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# -- reading the database -----------------------------------------------------------------


def _arrow(values: list, kind: pa.DataType) -> pa.Array:
    """Database values as an Arrow array of ``kind``: SQLite hands back dates and times as
    text and booleans as integers, PostgreSQL as Python objects; both end up the same."""
    if kind == pa.bool_():
        try:
            return pa.array(values, pa.bool_())
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # SQLite: 0 and 1
            return pc.cast(pa.array(values, pa.int8()), pa.bool_())
    if kind == pa.date32():  # read as text (no per-row converter), parsed in one go
        return pc.cast(pa.array(values, pa.string()), pa.date32())
    return pa.array(values, kind)


def _batches(sql: str, params: list, columns: tuple):
    """Record batches of ``sql``'s rows, ``CHUNK`` at a time."""
    schema = pa.schema(list(columns))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while True:
            rows = cursor.fetchmany(CHUNK)
            if not rows:
                break
            data = list(zip(*rows, strict=True))
            arrays = [
                _arrow(list(values), kind) for values, (_, kind) in zip(data, columns, strict=True)
            ]
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)


def _in_clause(column: str, ids: list[int] | None) -> tuple[str, list]:
    if ids is None:
        return "", []
    if not ids:
        return " WHERE 1 = 0", []
    return f" WHERE {column} IN ({', '.join(['%s'] * len(ids))})", list(ids)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _table_name(model) -> str:
    return _q(model._meta.db_table)


def _updated_at(alias: str) -> str:
    """``updated_at`` as the database's own text, compared as is between refreshes (exact to
    the microsecond on both databases, and no time-zone conversion on the way)."""
    return f"CAST({alias}.{_q('updated_at')} AS text)"


def _column(alias: str, name: str, kind) -> str:
    if name == "updated_at":
        return _updated_at(alias)
    if kind == pa.date32():
        return f"CAST({alias}.{_q(name)} AS text)"
    return f"{alias}.{_q(name)}"


def _synthetic_ids() -> pa.Array:
    """Incidents reported by a synthetic source (demo data), to label them in the snapshot."""
    ids = Source.objects.filter(system__in=SYNTHETIC_SYSTEMS).values_list("incident_id", flat=True)
    return pa.array(sorted(set(ids)), pa.int64())


def _incident_query(ids):
    inc, org = _table_name(Incident), _table_name(Organisation)
    columns = ", ".join(_column("i", name, kind) for name, kind in INCIDENT_COLUMNS)
    crash = _table_name(RoadCrash)
    where, params = _in_clause("i.id", ids)
    sql = (
        f"SELECT {columns}, o.type, "
        "rc.third_party_killed, rc.third_party_seriously_injured, "
        "rc.third_party_slightly_injured "
        f"FROM {inc} i JOIN {org} o ON o.id = i.organisation_id "
        f"LEFT JOIN {crash} rc ON rc.incident_id = i.id{where}"
    )
    columns_out = (
        *INCIDENT_COLUMNS,
        ("owner_type", pa.string()),
        ("third_party_killed", pa.int64()),
        ("third_party_seriously_injured", pa.int64()),
        ("third_party_slightly_injured", pa.int64()),
    )
    return sql, params, columns_out


def _person_query(ids):
    inc, person = _table_name(Incident), _table_name(AffectedPerson)
    person_cols = ", ".join(f"p.{_q(name)}" for name, _ in PERSON_COLUMNS)
    types = dict(INCIDENT_COLUMNS)
    incident_cols = ", ".join(_column("i", name, types[name]) for name in PERSON_INCIDENT_COLUMNS)
    where, params = _in_clause("p.incident_id", ids)
    sql = (
        f"SELECT p.incident_id, {person_cols}, {incident_cols} "
        f"FROM {person} p JOIN {inc} i ON i.id = p.incident_id{where}"
    )
    types = dict(INCIDENT_COLUMNS)
    renamed = {"id": "person_id", "organisation_id": "person_organisation_id"}
    columns = (
        ("incident_id", pa.int64()),
        *[(renamed.get(name, name), kind) for name, kind in PERSON_COLUMNS],
        # The incident's owner keeps the name the door uses: ``organisation_id``.
        *[(name, types[name]) for name in PERSON_INCIDENT_COLUMNS],
    )
    return sql, params, columns


def _recipient_query(ids):
    where, params = _in_clause("incident_id", ids)
    sql = f"SELECT incident_id, user_id FROM {_table_name(IncidentRecipient)}{where}"
    return sql, params, (("incident_id", pa.int64()), ("user_id", pa.int64()))


def _total_query(ids):
    where, params = _in_clause("incident_id", ids)
    sql = (
        f"SELECT incident_id, dimension, value, {_q('count')} "
        f"FROM {_table_name(ReportedTotal)}{where}"
    )
    columns = (
        ("incident_id", pa.int64()),
        ("dimension", pa.string()),
        ("value", pa.string()),
        ("count", pa.int64()),
    )
    return sql, params, columns


QUERIES = {
    "incidents": _incident_query,
    "persons": _person_query,
    "recipients": _recipient_query,
    "totals": _total_query,
}


def _with_derived(
    batch: pa.RecordBatch, generation: int, synthetic: pa.Array | None = None
) -> pa.RecordBatch:
    """Add ``gen``, the year and month of the incident date, the H3 cell of the incident's
    coordinates and whether a synthetic source reported it, where they apply."""
    arrays, names = list(batch.columns), list(batch.schema.names)
    if synthetic is not None:
        arrays.append(pc.is_in(batch.column(names.index("id")), value_set=synthetic))
        names.append("synthetic")
    if "date" in names:
        date = batch.column(names.index("date"))
        arrays += [pc.cast(pc.year(date), pa.int16()), pc.cast(pc.month(date), pa.int8())]
        names += ["year", "month"]
    if "latitude" in names:
        arrays.append(
            _h3_cells(batch.column(names.index("latitude")), batch.column(names.index("longitude")))
        )
        names.append("h3")
    arrays.append(pa.array([generation] * batch.num_rows, pa.int32()))
    names.append("gen")
    return pa.RecordBatch.from_arrays(arrays, names=names)


def _h3_cells(latitudes: pa.Array, longitudes: pa.Array) -> pa.Array:
    """The H3 cell (resolution ``H3_RESOLUTION``) of each incident with coordinates."""
    import h3

    cells = [
        None if lat is None or lon is None else h3.latlng_to_cell(lat, lon, H3_RESOLUTION)
        for lat, lon in zip(latitudes.to_pylist(), longitudes.to_pylist(), strict=True)
    ]
    return pa.array(cells, pa.string())


def _write(table: str, ids, generation: int) -> tuple[str, int]:
    """Write the rows of ``table`` (for the incidents ``ids``, or all) to a new file."""
    folder = directory()
    name = f"{table}-{generation:06d}.parquet"
    tmp = folder / f".{name}.{uuid.uuid4().hex}.tmp"
    sql, params, columns = QUERIES[table](ids)
    empty_schema = pa.schema(list(columns))
    empty = pa.RecordBatch.from_arrays(
        [pa.array([], f.type) for f in empty_schema], schema=empty_schema
    )
    synthetic = _synthetic_ids() if table == "incidents" else None
    schema = _with_derived(empty, generation, synthetic).schema
    rows = 0
    try:
        # Read fast and lightly compressed, then ``finish`` adds the access class and sorts.
        with pq.ParquetWriter(tmp, schema, compression="lz4") as writer:
            for batch in _batches(sql, params, columns):
                writer.write_batch(_with_derived(batch, generation, synthetic))
                rows += batch.num_rows
        finish(tmp, folder / name, table, sort=ids is None)
    finally:
        if tmp.exists():
            tmp.unlink()
    return name, rows


def finish(source: Path, target: Path, table: str, sort: bool = True) -> None:
    """Write ``source`` (a Parquet file of ``table``'s rows) to ``target`` as the snapshot
    keeps it: with the ``access`` class where rows carry a marking, in ``SORT_KEYS`` order
    (``sort``; deltas of an incremental refresh are small and left as read), compressed."""
    import duckdb

    def literal(path: Path) -> str:
        return "'" + str(path).replace("'", "''") + "'"

    con = duckdb.connect()
    try:
        # A large sort spills to disk: next to the snapshot, not in the server's working folder.
        con.execute(f"SET temp_directory = {literal(target.parent / '.sort-spill')}")
        names = {
            row[0]
            for row in con.execute(
                f"DESCRIBE SELECT * FROM read_parquet({literal(source)})"
            ).fetchall()
        }
        extra = f", {access_sql()} AS access" if {"marking", "status"} <= names else ""
        order = ""
        if sort and table in SORT_KEYS:
            order = " ORDER BY " + ", ".join(SORT_KEYS[table])
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        try:
            con.execute(
                f"COPY (SELECT *{extra} FROM read_parquet({literal(source)}){order}) "
                f"TO {literal(tmp)} (FORMAT parquet, COMPRESSION zstd)"
            )
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
    finally:
        con.close()


# -- refreshing -----------------------------------------------------------------------------


@dataclass
class RefreshResult:
    kind: str  # "full", "incremental", "unchanged"
    changed: int = 0
    deleted: int = 0
    seconds: float = 0.0
    generation: int = 0


def forget() -> bool:
    """Drop the snapshot's state, so the pages say there is none until the next refresh,
    which is then a full one. For a database that was replaced under the snapshot (a
    restore): its incidents may be older than the snapshot's, which an incremental refresh
    would not see. The files go at the next refresh. Returns whether there was a snapshot."""
    with _locked():
        path = directory() / "state.json"
        existed = path.exists()
        path.unlink(missing_ok=True)
    return existed


def refresh(full: bool = False) -> RefreshResult:
    """Bring the snapshot up to date with the database: incrementally when a snapshot exists
    (only what changed is read), in full when asked, when none exists, or to compact."""
    started = time.perf_counter()
    with _locked():
        state = State.load()
        if state is None or full or len(state.changes) >= MAX_DELTAS:
            result = _full(state)
        else:
            result = _incremental(state)
    result.seconds = time.perf_counter() - started
    return result


def _full(previous: State | None) -> RefreshResult:
    generation = (previous.generation + 1) if previous else 1
    state = State(generation=generation, started_at=time.time())
    counts = {}
    for table in TABLES:
        name, counts[table] = _write(table, None, generation)
        state.files[table] = [name]
    state.incidents, state.persons = counts["incidents"], counts["persons"]
    state.series = _write_series(state)
    state.refreshed_at = time.time()
    state.save()
    _remove_unlisted(state, keep=previous)
    return RefreshResult("full", changed=counts["incidents"], generation=generation)


def _database_versions(since: datetime.datetime | None = None) -> pa.Table:
    """(id, updated_at) of every incident, or of those saved since ``since``."""
    sql = f"SELECT i.id, {_updated_at('i')} FROM {_table_name(Incident)} i"
    params = []
    if since is not None:
        sql += f" WHERE i.{_q('updated_at')} >= %s"
        params.append(since)
    columns = (("id", pa.int64()), ("updated_at", pa.string()))
    schema = pa.schema(list(columns))
    return pa.Table.from_batches(list(_batches(sql, params, columns)), schema=schema)


def _compare(con, database: pa.Table) -> tuple[list[int], list[int], int]:
    """Incidents new or changed in ``database`` compared with the snapshot; those the snapshot
    has and ``database`` has not (deleted, when ``database`` holds every incident); and how
    many of the changed ones are new."""
    con.register("db_versions", database)
    rows = con.execute(
        "SELECT d.id, s.id IS NULL FROM db_versions d LEFT JOIN incidents s ON s.id = d.id "
        "WHERE s.id IS NULL OR s.updated_at IS DISTINCT FROM d.updated_at"
    ).fetchall()
    changed = [row[0] for row in rows]
    new = sum(1 for row in rows if row[1])
    deleted = [
        row[0]
        for row in con.execute(
            "SELECT s.id FROM incidents s ANTI JOIN db_versions d ON d.id = s.id"
        ).fetchall()
    ]
    con.unregister("db_versions")
    return changed, deleted, new


def _incremental(state: State) -> RefreshResult:
    """Read only what changed. First the incidents saved since the last refresh started (less
    ``LATE_COMMIT_MARGIN``); if the counts then disagree (a deletion, or a row committed
    later than the margin), every incident's version is compared instead."""
    from salama.analytics.store import connect

    started = time.time()
    since = (
        datetime.datetime.fromtimestamp((state.started_at or state.refreshed_at), tz=datetime.UTC)
        - LATE_COMMIT_MARGIN
    )
    if not settings.USE_TZ:
        since = since.replace(tzinfo=None)
    con = connect(state, fresh=True)
    try:
        changed, _, new = _compare(con, _database_versions(since))
        in_snapshot = con.execute("SELECT count(*) FROM incidents").fetchone()[0]
        deleted = []
        if Incident.objects.count() != in_snapshot + new:
            changed, deleted, _ = _compare(con, _database_versions())
    finally:
        con.close()
    if not changed and not deleted:
        state.started_at = started  # nothing changed before this: a narrower stale check
        state.save()
        return RefreshResult("unchanged", generation=state.generation)
    generation = state.generation + 1
    for table in TABLES:
        name, _ = _write(table, changed, generation)
        state.files[table].append(name)
    changes_name = f"changes-{generation:06d}.parquet"
    tmp = directory() / f".{changes_name}.tmp"
    pq.write_table(
        pa.table(
            {
                "incident_id": pa.array(changed + deleted, pa.int64()),
                "gen": pa.array([generation] * (len(changed) + len(deleted)), pa.int32()),
            }
        ),
        tmp,
    )
    os.replace(tmp, directory() / changes_name)
    state.changes.append(changes_name)
    state.generation = generation
    state.started_at = started
    state.refreshed_at = time.time()
    state.incidents = state.incidents + len(changed) - len(deleted)  # approximate until compact
    state.series = _write_series(state)
    state.save()
    return RefreshResult(
        "incremental", changed=len(changed), deleted=len(deleted), generation=generation
    )


def _write_series(state: State) -> str:
    """Write the forecast's series table of ``state`` (its files as listed, before the state
    is saved) and return its name. A few thousand rows: a scan of the incidents now, so that
    no page view makes one (``query.major_attacks_by_month``)."""
    from salama.analytics import query
    from salama.analytics.store import connect

    name = f"series-{state.generation:06d}.parquet"
    tmp = directory() / f".{name}.{uuid.uuid4().hex}.tmp"
    con = connect(state, fresh=True)
    try:
        sql, params = query.series_table_sql()
        table = con.execute(sql, params).to_arrow_table()
    finally:
        con.close()
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, directory() / name)
    finally:
        tmp.unlink(missing_ok=True)
    return name


def _remove_unlisted(state: State, keep: State | None) -> None:
    """Delete files no state lists; the previous state's stay one round for open readers."""
    listed = {name for names in state.files.values() for name in names} | set(state.changes)
    listed.add(state.series)
    if keep is not None:
        listed |= {name for names in keep.files.values() for name in names} | set(keep.changes)
        listed.add(keep.series)
    for path in directory().glob("*.parquet"):
        if path.name not in listed:
            path.unlink(missing_ok=True)
