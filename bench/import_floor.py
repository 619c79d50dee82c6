"""The floor under the import target: how fast could a million AWSD rows reach Salama's tables
on this machine if no Python code touched a row?

Issue 2 asks for 50,000 rows/s (a million rows in 20 s). This script measures what the
database alone costs, with every shortcut a bulk loader could take, so the target can be
weighed against the hardware and the schema rather than against the importer's code:

1. **parse**: DuckDB reads the CSV (every cell as text), both cores;
2. **convert**: DuckDB SQL turns it into rows of the tables' real shape and size: incidents,
   affected persons (the nationality × outcome counts), reported totals (the gender and
   organisation-type margins) and sources. A simplification of the AWSD rules (no
   crosswalk, no validation): a lower bound on the real conversion;
3. **insert**: the rows into a fresh, migrated database (``salama migrate``) whose secondary
   indexes and search index were dropped first, in one transaction. SQLite: through Python's
   ``sqlite3`` (the only driver there is), ``executemany`` with the constant columns written
   into the statement, the cheapest route it offers. PostgreSQL: ``COPY`` of the CSV that
   DuckDB writes, sent in 1 MiB blocks (no Python per row), with 1 GB of
   ``maintenance_work_mem`` and ``synchronous_commit`` off; foreign keys are checked (the
   importer cannot skip that there), while SQLite's are off, as in the importer;
4. **indexes**: the dropped secondary indexes built again, as the list page needs them
   (PostgreSQL's include the trigram GIN indexes its search uses);
5. **search index** (SQLite): the FTS5 trigram index built from scratch; the importer
   defers it (``salama.incidents.search_index``), so it is reported apart.

The insert and the index builds must run one after the other on the writing connection;
parsing and converting could overlap with them on the other core. So the best an import could
do here is ``rows / (insert + indexes)``: the "ceiling" column. Results go to
``bench/out/floor-*.json`` and the "Import floor" block of docs/benchmarks.md.

    .venv/bin/python bench/import_floor.py [--rows N] [--databases sqlite,postgresql]
"""

import argparse
import datetime
import json
import os
import sqlite3
import sys
import time
from pathlib import Path

import awsd_file
import duckdb
from run import OUT, Database, log, machine, postgres_available, write_doc

SECONDARY_INDEXES_SQL = """
    SELECT name, sql FROM sqlite_master
    WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN (
        'incidents_incident', 'incidents_affectedperson', 'incidents_reportedtotal',
        'incidents_source')
"""
PG_INDEXES_SQL = """
    SELECT i.indexname, i.indexdef FROM pg_indexes i
    WHERE i.tablename IN ('incidents_incident', 'incidents_affectedperson',
                          'incidents_reportedtotal', 'incidents_source')
      AND i.indexname NOT IN (SELECT conname FROM pg_constraint)
"""
NOW = "2026-01-01 00:00:00+00:00"


def _count(column: str) -> str:
    return f"coalesce(try_cast(nullif(trim(\"{column}\"), '') AS integer), 0)"


def convert(con: duckdb.DuckDBPyConnection, path: Path) -> dict:
    """Stages 1 and 2, in DuckDB; the tables ``inc``, ``per``, ``tot`` are left behind."""
    timings = {}
    started = time.perf_counter()
    con.execute(
        "CREATE TABLE raw AS SELECT row_number() OVER () AS n, * "
        "FROM read_csv(?, all_varchar = true, header = true)",
        [str(path)],
    )
    timings["parse"] = time.perf_counter() - started
    started = time.perf_counter()
    con.execute(
        """
        CREATE TABLE inc AS SELECT
            n AS id, 'SAL-F' || n AS reference, trim("Incident ID") AS external_id,
            make_date(try_cast("Year" AS integer),
                      coalesce(try_cast(nullif("Month", '') AS integer), 1),
                      coalesce(try_cast(nullif("Day", '') AS integer), 1))::varchar AS date,
            CASE WHEN "Day" <> '' THEN 'day' WHEN "Month" <> '' THEN 'month' ELSE 'year' END
                AS date_precision,
            coalesce(left(upper(trim("Country Code")), 2), '') AS country,
            coalesce(left(trim("Region"), 120), '') AS admin1,
            coalesce(left(trim("District"), 120), '') AS admin2,
            coalesce(left(trim("City"), 200), '') AS place,
            try_cast("Latitude" AS double) AS latitude,
            try_cast("Longitude" AS double) AS longitude,
            coalesce(left(lower(trim("Location")), 20), '') AS location_type,
            coalesce(left(lower(trim("Means of attack")), 24), '') AS means_of_attack,
            coalesce(left(lower(trim("Attack context")), 20), '') AS attack_context,
            coalesce(left(lower(trim("Actor type")), 20), '') AS perpetrator_type,
            coalesce(left(trim("Actor name"), 200), '') AS perpetrator_name,
            coalesce(left(lower(trim("Motive")), 12), '') AS motive,
            coalesce(trim("Details"), '') AS narrative,
            coalesce(left(lower(trim("Verified")), 12), '') AS verification,
            sha256(concat_ws(chr(31), COLUMNS(* EXCLUDE (n, "Incident ID")))) AS content_hash
        FROM raw
        WHERE try_cast("Year" AS integer) BETWEEN 1900 AND 2100
          AND (try_cast("Latitude" AS double) IS NULL) = (try_cast("Longitude" AS double) IS NULL)
        """
    )
    outcomes = {"killed": "killed", "wounded": "injured", "kidnapped": "abducted"}
    groups = {"Nationals": "national", "Internationals": "international"}
    person_selects = [
        f"SELECT n AS incident_id, {_count(f'{group} {outcome}')} AS count, "
        f"'{impact}' AS impact, '{recruitment}' AS recruitment FROM raw"
        for group, recruitment in groups.items()
        for outcome, impact in outcomes.items()
    ]
    con.execute(
        "CREATE TABLE per AS SELECT * FROM ("
        + " UNION ALL ".join(person_selects)
        + ") WHERE count > 0 AND incident_id IN (SELECT id FROM inc) ORDER BY incident_id"
    )
    margins = {
        "Gender Male": ("gender", "male"),
        "Gender Female": ("gender", "female"),
        "Gender Unknown": ("gender", "unknown"),
        "UN": ("organisation_type", "un"),
        "INGO": ("organisation_type", "ingo"),
        "ICRC": ("organisation_type", "icrc"),
        "NRCS and IFRC": ("organisation_type", "nrcs_ifrc"),
        "NNGO": ("organisation_type", "nngo"),
        "Other": ("organisation_type", "other"),
    }
    total_selects = [
        f"SELECT n AS incident_id, '{dimension}' AS dimension, '{value}' AS value, "
        f"{_count(column)} AS count FROM raw"
        for column, (dimension, value) in margins.items()
    ]
    con.execute(
        "CREATE TABLE tot AS SELECT * FROM ("
        + " UNION ALL ".join(total_selects)
        + ") WHERE count > 0 AND incident_id IN (SELECT id FROM inc) ORDER BY incident_id"
    )
    timings["convert"] = time.perf_counter() - started
    con.execute("DROP TABLE raw")
    return timings


INCIDENT_COLUMNS = [
    "id",
    "reference",
    "date",
    "date_precision",
    "country",
    "admin1",
    "admin2",
    "place",
    "latitude",
    "longitude",
    "location_type",
    "means_of_attack",
    "attack_context",
    "perpetrator_type",
    "perpetrator_name",
    "motive",
    "narrative",
    "verification",
]
INCIDENT_CONSTANTS = {
    "status": "'closed'",
    "coordinate_precision": "'approximate'",
    "coordinates_obfuscated": "true",
    "coordinate_check": "'inside'",
    "coordinate_note": "''",
    "category": "'violence'",
    "subcategory": "'violence_unknown'",
    "premises_hit": "false",
    "vehicles_hit": "false",
    "supplies_hit": "false",
    "health_facility_hit": "false",
    "marking": "'green'",
    "version": "1",
    "created_at": f"'{NOW}'",
    "updated_at": f"'{NOW}'",
    "closed_at": f"'{NOW}'",
}
TABLES = {
    # table: (DuckDB query, its columns, constant columns)
    "incidents_incident": (
        "SELECT " + ", ".join(INCIDENT_COLUMNS) + " FROM inc",
        INCIDENT_COLUMNS,
        INCIDENT_CONSTANTS,
    ),
    "incidents_affectedperson": (
        "SELECT incident_id, count, impact, recruitment FROM per",
        ["incident_id", "count", "impact", "recruitment"],
        {
            "cause": "'violence'",
            "gender": "'unknown'",
            "organisation_type": "'unknown'",
            "killed_in_captivity": "false",
        },
    ),
    "incidents_reportedtotal": (
        "SELECT incident_id, dimension, value, count FROM tot",
        ["incident_id", "dimension", "value", "count"],
        {},
    ),
    "incidents_source": (
        "SELECT id AS incident_id, external_id, content_hash FROM inc",
        ["incident_id", "external_id", "content_hash"],
        {
            "kind": "'database_import'",
            "system": "'awsd'",
            "url": "''",
            "note": "'Imported by the floor benchmark'",
        },
    ),
}


def insert_sqlite(con, path: Path, organisation: int) -> dict:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA cache_size = -131072")
    db.execute("PRAGMA foreign_keys = OFF")
    indexes = db.execute(SECONDARY_INDEXES_SQL).fetchall()
    for name, _ in indexes:
        db.execute(f'DROP INDEX "{name}"')
    db.execute("DROP TRIGGER incidents_incident_search_insert")
    timings = {}
    started = time.perf_counter()
    db.execute("BEGIN")
    for table, (query, columns, constants) in TABLES.items():
        constants = {**constants}
        if table == "incidents_incident":
            constants["organisation_id"] = str(organisation)
            constants = {
                k: v.replace("true", "1").replace("false", "0") for k, v in constants.items()
            }
        elif table == "incidents_affectedperson":
            constants["killed_in_captivity"] = "0"
        names = ", ".join([*columns, *constants])
        marks = ", ".join(["?"] * len(columns) + list(constants.values()))
        sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"
        for batch in con.execute(query).to_arrow_reader(50_000):
            db.executemany(sql, zip(*(c.to_pylist() for c in batch.columns), strict=True))
    db.execute("COMMIT")
    timings["insert"] = time.perf_counter() - started
    started = time.perf_counter()
    db.execute("BEGIN")
    for _, sql in indexes:
        db.execute(sql)
    db.execute("COMMIT")
    timings["indexes"] = time.perf_counter() - started
    started = time.perf_counter()
    db.execute(
        "INSERT INTO incidents_incident_search (incidents_incident_search) VALUES ('rebuild')"
    )
    timings["search_index"] = time.perf_counter() - started
    db.close()
    return timings


def insert_postgres(con, url: str, organisation: int, scratch: Path) -> dict:
    import psycopg

    timings = {}
    with psycopg.connect(url, autocommit=True) as conn:
        # What a bulk load would set for its own session: memory to sort index keys in, and
        # no wait for the WAL to reach the disk at commit.
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("SET synchronous_commit = off")
        indexes = conn.execute(PG_INDEXES_SQL).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        started = time.perf_counter()
        with conn.transaction():
            for table, (query, columns, constants) in TABLES.items():
                constants = {**constants}
                if table == "incidents_incident":
                    constants["organisation_id"] = str(organisation)
                select = ", ".join([*columns, *(f"{v} AS {k}" for k, v in constants.items())])
                names = ", ".join([*columns, *constants])
                csv = scratch / f"{table}.csv"
                con.execute(f"COPY (SELECT {select} FROM ({query})) TO '{csv}' (HEADER false)")
                with (
                    conn.cursor().copy(f"COPY {table} ({names}) FROM STDIN (FORMAT csv)") as copy,
                    csv.open("rb") as handle,
                ):
                    while block := handle.read(1 << 20):
                        copy.write(block)
                csv.unlink()
        timings["insert"] = time.perf_counter() - started
        started = time.perf_counter()
        for _, sql in indexes:
            conn.execute(sql)
        timings["indexes"] = time.perf_counter() - started
    return timings


def organisation_id(database: Database) -> int:
    if database.vendor == "sqlite":
        db = sqlite3.connect(database.path)
        found = db.execute(
            "INSERT INTO organisations_organisation (name, acronym, type, created_at) "
            f"VALUES ('AWSD floor', 'AWSDF', 'other', '{NOW}') RETURNING id"
        ).fetchone()[0]
        db.commit()
        db.close()
        return found
    import psycopg

    with psycopg.connect(database.url, autocommit=True) as conn:
        return conn.execute(
            "INSERT INTO organisations_organisation (name, acronym, type, created_at) "
            f"VALUES ('AWSD floor', 'AWSDF', 'other', '{NOW}') RETURNING id"
        ).fetchone()[0]


def markdown(result: dict) -> str:
    m = result["machine"]
    lines = [
        f"### Import floor, {m['date']}",
        "",
        f"- Machine: `{m['uname']}`",
        f"- CPU: {m['cpu']}, {m['cores']} cores; RAM {m['ram_gib']} GiB; Python {m['python']}",
        f"- Load average before / after: {result['load'][0]:.2f} / {result['load'][1]:.2f}",
        f"- Command: `bench/import_floor.py --rows {result['rows']}` "
        f"({result['rows']:,} AWSD rows, {result['file_mb']:,.1f} MiB; "
        f"{result['incidents']:,} incidents, {result['persons']:,} person rows, "
        f"{result['totals']:,} total rows kept)",
        "",
        "| database | parse | convert | insert (no indexes) | indexes | search index "
        "| ceiling: rows / (insert + indexes) | target |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for vendor, t in result["runs"].items():
        ceiling = result["rows"] / (t["insert"] + t["indexes"])
        search = f"{t['search_index']:.1f} s" if "search_index" in t else "(in indexes)"
        lines.append(
            f"| {vendor} | {result['parse']:.1f} s | {result['convert']:.1f} s "
            f"| {t['insert']:.1f} s | {t['indexes']:.1f} s | {search} "
            f"| {ceiling:,.0f} rows/s | {'reachable' if ceiling >= 50_000 else '**out of reach**'}"
            " (≥ 50,000) |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="50,000 rows")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("SALAMA_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432"),
    )
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.rows = 50_000
    OUT.mkdir(parents=True, exist_ok=True)
    path = awsd_file.cached(args.rows, OUT)
    load_before = os.getloadavg()[0]
    con = duckdb.connect()
    con.execute("SET threads = 2")
    log(f"floor: DuckDB parses and converts {args.rows:,} rows")
    result = {"machine": machine(), "rows": args.rows, "file_mb": path.stat().st_size / 2**20}
    result |= convert(con, path)
    for table, key in (("inc", "incidents"), ("per", "persons"), ("tot", "totals")):
        result[key] = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
    result["runs"] = {}
    for vendor in args.databases.split(","):
        if vendor == "postgresql" and (why := postgres_available(args.pg_url)):
            log(f"floor: PostgreSQL skipped: {why}")
            continue
        database = Database(vendor, "salama_bench_floor", args.pg_url).fresh()
        organisation = organisation_id(database)
        log(f"floor: {vendor}: inserting")
        if vendor == "sqlite":
            result["runs"][vendor] = insert_sqlite(con, database.path, organisation)
        else:
            result["runs"][vendor] = insert_postgres(con, database.url, organisation, OUT)
        log(f"floor: {vendor}: {json.dumps(result['runs'][vendor])}")
    result["load"] = (load_before, os.getloadavg()[0])
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d-%H%M%S")
    (OUT / f"floor-{stamp}.json").write_text(json.dumps(result, indent=2, default=str))
    block = markdown(result)
    print(block)
    if not args.no_doc:
        write_doc("floor", block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
