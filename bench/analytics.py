"""Analytics benchmark: the snapshot, the query layer and the dashboards, against baselines
measured in the same run.

    .venv/bin/python bench/analytics.py            # 1,000,000 incidents, 10,000,000 person rows
    .venv/bin/python bench/analytics.py --quick    # 20,000 incidents, 1,000,000 person rows

1. Snapshot: full refresh of N incidents (``salama generate --incidents N --seed 1`` into a
   scratch SQLite database in bench/out/analytics/), then an incremental refresh after 1,000
   incidents changed.
2. The disaggregated annual table (year × impact × cause × recruitment × gender) over a
   synthetic snapshot of M affected-person rows (written straight to Parquet): the query layer
   (``salama.analytics.query.run``), as the operator and through a user's door, against a
   hand-written DuckDB query over the same Parquet file; warm p50/p95 and the ratio.
3. The same table from the database with the Django ORM (N incidents), against the query
   layer over the snapshot of the same data: the ratio.
4. Dashboard pages (overview, compare, road safety) with N incidents: server time through
   Django's test client, p50/p95.

Results replace the ``## Analytics`` section of docs/benchmarks.md; raw JSON in bench/out/.
"""

import argparse
import datetime
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "analytics"
DOC = ROOT / "docs" / "benchmarks.md"
SECTION = "## Analytics"
PARTS = ("snapshot", "orm", "pages", "table")
TABLE_DIMS = ("year", "impact", "cause", "recruitment", "gender")


def log(message: str) -> None:
    print(f"[{datetime.datetime.now():%H:%M:%S}] {message}", flush=True)


def timed(function, repeat: int, warm: int = 2) -> dict:
    for _ in range(warm):
        function()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 1),
        "runs": repeat,
    }


def setup_django(data_dir: Path) -> None:
    os.environ["SALAMA_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salama.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def database(incidents: int) -> dict:
    from django.core.management import call_command

    from salama.incidents.models import AffectedPerson, Incident

    call_command("migrate", verbosity=0)
    if Incident.objects.count() != incidents:
        log(f"generating {incidents:,} incidents")
        start = time.perf_counter()
        with open(os.devnull, "w") as quiet:
            call_command("generate", incidents=incidents, seed=1, verbosity=0, stdout=quiet)
        log(f"  generated in {time.perf_counter() - start:.0f} s")
    return {"incidents": Incident.objects.count(), "person_rows": AffectedPerson.objects.count()}


def bench_snapshot() -> dict:
    from django.db import connection
    from django.utils import timezone

    from salama.analytics import snapshot
    from salama.incidents.models import Incident

    # A database of a million incidents grew over years: its rows were not all saved in the
    # last minutes (as ``salama generate`` just did). Stamp them a day old once, so the
    # incremental refresh sees what it would see in service.
    day_ago = connection.ops.adapt_datetimefield_value(timezone.now() - datetime.timedelta(days=1))
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(Incident._meta.db_table)
        cursor.execute(
            f"UPDATE {table} SET updated_at = %s WHERE updated_at > %s", [day_ago, day_ago]
        )
    log("full refresh")
    full = snapshot.refresh(full=True)
    ids = list(Incident.objects.values_list("pk", flat=True)[:200_000])
    changed = random.Random(7).sample(ids, min(1000, len(ids)))
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(Incident._meta.db_table)
        marks = ", ".join(["%s"] * len(changed))
        cursor.execute(
            f"UPDATE {table} SET updated_at = %s, location_type = 'road' WHERE id IN ({marks})",
            [now, *changed],
        )
    log("incremental refresh after 1,000 changes")
    incremental = snapshot.refresh()
    compact = snapshot.refresh(full=True)
    return {
        "full_refresh_s": round(full.seconds, 2),
        "incremental_refresh_s": round(incremental.seconds, 2),
        "incremental_changed": incremental.changed,
        "full_after_s": round(compact.seconds, 2),
    }


def analyst():
    import secrets

    from django.contrib.auth import get_user_model

    from salama.organisations.choices import OrganisationType, Role
    from salama.organisations.models import Membership, Organisation

    user = get_user_model().objects.filter(username="bench-analytics").first()
    if user is None:
        organisation, _ = Organisation.objects.get_or_create(
            acronym="BENCHA", defaults={"name": "Analytics bench", "type": OrganisationType.INGO}
        )
        user = get_user_model().objects.create_user(
            "bench-analytics", password=secrets.token_urlsafe()
        )
        Membership.objects.create(user=user, organisation=organisation, role=Role.ANALYST)
    return user


def bench_orm(repeat: int) -> dict:
    from django.db.models import Sum

    from salama.analytics import query
    from salama.incidents import choices as c
    from salama.incidents.models import AffectedPerson

    def orm():
        return list(
            AffectedPerson.objects.exclude(incident__status=c.Status.MERGED)
            .values("incident__date__year", "impact", "cause", "recruitment", "gender")
            .annotate(n=Sum("count"))
        )

    def layer():
        return query.run("persons", TABLE_DIMS)

    assert sum(r["n"] for r in orm()) == sum(r["value"] for r in layer())
    orm_t = timed(orm, max(3, repeat // 5), warm=1)
    layer_t = timed(layer, repeat)
    return {
        "orm": orm_t,
        "query_layer": layer_t,
        "ratio_orm_over_layer": round(orm_t["p50_ms"] / layer_t["p50_ms"], 1),
    }


def bench_pages(repeat: int) -> dict:
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(analyst())
    pages = {
        "overview": reverse("analytics:overview") + "?year_from=2013&year_to=2022",
        "compare": reverse("analytics:compare") + "?by=region&year_from=2013&year_to=2022",
        "road_safety": reverse("analytics:theme", args=["road-safety"]),
    }
    out = {}
    for name, url in pages.items():
        assert client.get(url).status_code == 200, name
        out[name] = timed(lambda url=url: client.get(url), repeat)
    return out


def synthetic_snapshot(folder: Path, rows: int) -> None:
    """A snapshot of ``rows`` affected-person rows written straight to Parquet by DuckDB."""
    import duckdb

    from salama.analytics import snapshot

    folder.mkdir(parents=True, exist_ok=True)
    persons = folder / "persons-000001.parquet"
    written = folder / "persons-raw.parquet"  # as read from a database; finish() lays it out
    layout_file = folder / "layout.json"  # the snapshot layout the file was written in
    layout = json.dumps({"format": snapshot.FORMAT, "sort": snapshot.SORT_KEYS["persons"]})
    if (
        not persons.exists()
        or not layout_file.exists()
        or layout_file.read_text() != layout
        or duckdb.sql(f"SELECT count(*) FROM read_parquet('{persons}')").fetchone()[0] != rows
    ):
        log(f"writing {rows:,} synthetic person rows")
        impacts = (
            "['killed','abducted','sexual_assault','injured','arrested_detained','missing',"
            "'physical_assault','robbery','burglary','intimidation_harassment','other']"
        )
        duckdb.sql("CREATE OR REPLACE MACRO pick(h, n) AS CAST(1 + h % n AS BIGINT)")
        duckdb.sql(
            f"""COPY (SELECT i // 2 AS incident_id, i AS person_id,
                 CAST(1 + CAST(hash(i) % 3 = 0 AS INTEGER) AS BIGINT) AS count,
                 {impacts}[pick(hash(i * 7), 11)] AS impact,
                 ['violence','safety'][pick(hash(i * 11), 2)] AS cause,
                 ['international','national','locally_recruited','unknown'][pick(hash(i * 13), 4)]
                   AS recruitment,
                 ['female','male','unknown'][pick(hash(i * 17), 3)] AS gender,
                 CAST(NULL AS BIGINT) AS person_organisation_id,
                 ['un','ingo','nngo','unknown'][pick(hash(i * 19), 4)] AS organisation_type,
                 FALSE AS is_medical, FALSE AS killed_in_captivity,
                 CAST(1 + (i // 2) % 50 AS BIGINT) AS organisation_id,
                 CAST(NULL AS BIGINT) AS reported_by_id,
                 ['endorsed','closed','submitted','merged'][pick(hash(i // 2), 4)] AS status,
                 ['GREEN','CLEAR','AMBER','RED'][pick(hash(i // 2 * 3), 4)] AS marking,
                 DATE '1997-01-01' + CAST((i // 2) % 10000 AS INTEGER) AS date,
                 ['AF','SS','SO','SY','CD','YE','ML','UA'][pick(hash(i // 2 * 5), 8)] AS country,
                 'violence' AS category, 'crime' AS subcategory, 'road' AS location_type,
                 'shooting' AS means_of_attack,
                 CAST(year(DATE '1997-01-01' + CAST((i // 2) % 10000 AS INTEGER)) AS SMALLINT)
                   AS year,
                 CAST(month(DATE '1997-01-01' + CAST((i // 2) % 10000 AS INTEGER)) AS TINYINT)
                   AS month,
                 CAST(1 AS INTEGER) AS gen
               FROM range({rows}) t(i))
               TO '{written}' (FORMAT parquet, COMPRESSION lz4)"""
        )
        snapshot.finish(written, persons, "persons")
        written.unlink()
        layout_file.write_text(layout)
    for table, sql in {
        "incidents": "SELECT 1::BIGINT AS id, 'x' AS status, 'GREEN' AS marking, "
        "1::BIGINT AS organisation_id, NULL::BIGINT AS reported_by_id, 2000::SMALLINT AS year, "
        "'' AS updated_at, 1::INTEGER AS gen, 0::UTINYINT AS access LIMIT 0",
        "recipients": "SELECT 1::BIGINT AS incident_id, 1::BIGINT AS user_id, 1::INTEGER AS gen",
        "totals": "SELECT 1::BIGINT AS incident_id, 'gender' AS dimension, 'female' AS value, "
        "1::BIGINT AS count, 1::INTEGER AS gen LIMIT 0",
    }.items():
        duckdb.sql(f"COPY ({sql}) TO '{folder / f'{table}-000001.parquet'}' (FORMAT parquet)")
    state = snapshot.State(
        generation=1,
        files={
            t: [f"{t}-000001.parquet"] for t in ("incidents", "persons", "recipients", "totals")
        },
        refreshed_at=time.time(),
        persons=rows,
    )
    (folder / "state.json").write_text(json.dumps(state.__dict__))


def bench_table(rows: int, repeat: int) -> dict:
    import duckdb
    from django.conf import settings

    from salama.analytics import query, store

    folder = OUT / "ten-million"
    synthetic_snapshot(folder / "analytics", rows)
    original = settings.DATA_DIR
    settings.DATA_DIR = folder
    try:
        store._local.__dict__.clear()
        persons = folder / "analytics" / "persons-000001.parquet"
        hand = duckdb.connect()
        hand_sql = (
            "SELECT year, impact, cause, recruitment, gender, sum(count) FROM "
            f"read_parquet('{persons}') WHERE status <> 'merged' GROUP BY ALL"
        )
        user = analyst()

        def layer():
            return query.run("persons", TABLE_DIMS)

        def layer_user():
            return query.run("persons", TABLE_DIMS, user=user)

        def handwritten():
            return hand.execute(hand_sql).fetchall()

        assert sum(r["value"] for r in layer()) == sum(r[-1] for r in handwritten())
        result = {
            "person_rows": rows,
            "handwritten": timed(handwritten, repeat),
            "query_layer_operator": timed(layer, repeat),
            "query_layer_user": timed(layer_user, repeat),
        }
    finally:
        settings.DATA_DIR = original
        store._local.__dict__.clear()
    base = result["handwritten"]["p50_ms"]
    result["ratio_operator"] = round(result["query_layer_operator"]["p50_ms"] / base, 2)
    result["ratio_user"] = round(result["query_layer_user"]["p50_ms"] / base, 2)
    return result


def write_section(result: dict) -> None:
    t, s, o, p = result["table"], result["snapshot"], result["orm"], result["pages"]
    lines = [
        SECTION,
        "",
        f"`bench/analytics.py{' --quick' if result['quick'] else ''}`, {result['date']}, "
        f"{result['machine']}; SQLite. Raw: `bench/out/analytics/result.json`. Load average "
        f"{result.get('load_start', '?')} at the start, {result.get('load_end', '?')} at the end "
        "(other benchmarks and test runs shared the two cores: absolute times are inflated by "
        "about the load divided by the cores; the ratios, measured in the same minutes, hold)."
        + (
            f" Parts not rerun are from the run of {result['kept_from']}."
            if result.get("kept_from")
            else ""
        ),
        "",
        f"**Disaggregated annual table** (year × impact × cause × recruitment × gender) over "
        f"{t['person_rows']:,} affected-person rows, warm, {t['handwritten']['runs']} runs:",
        "",
        "| query | p50 ms | p95 ms | ratio to hand-written (p50) | target |",
        "| --- | --- | --- | --- | --- |",
        f"| hand-written DuckDB over the Parquet file | {t['handwritten']['p50_ms']} | "
        f"{t['handwritten']['p95_ms']} | 1 | |",
        f"| query layer, operator | {t['query_layer_operator']['p50_ms']} | "
        f"{t['query_layer_operator']['p95_ms']} | {t['ratio_operator']} | ≤ 3×, p95 ≤ 250 ms |",
        f"| query layer, an analyst (door in SQL + stale check) | "
        f"{t['query_layer_user']['p50_ms']} | {t['query_layer_user']['p95_ms']} | "
        f"{t['ratio_user']} | ≤ 3×, p95 ≤ 250 ms |",
        "",
        f"**Snapshot** of {result['database']['incidents']:,} incidents "
        f"({result['database']['person_rows']:,} person rows): full refresh "
        f"{s['full_refresh_s']} s (target ≤ 60 s); incremental after "
        f"{s['incidents_changed'] if 'incidents_changed' in s else s['incremental_changed']:,} "
        f"changed incidents {s['incremental_refresh_s']} s (target ≤ 2 s).",
        "",
        f"**Django ORM vs the query layer**, same table, same {result['database']['incidents']:,} "
        f"incidents: ORM p50 {o['orm']['p50_ms']} ms, query layer p50 "
        f"{o['query_layer']['p50_ms']} ms: the ORM takes {o['ratio_orm_over_layer']}× as long.",
        "",
        f"**Dashboard pages**, server time (Django test client), "
        f"{result['database']['incidents']:,} incidents (target p95 ≤ 300 ms):",
        "",
        "| page | p50 ms | p95 ms |",
        "| --- | --- | --- |",
        *[f"| {name} | {v['p50_ms']} | {v['p95_ms']} |" for name, v in p.items()],
        "",
    ]
    checks = [
        ("annual table ≤ 3× hand-written (analyst)", t["ratio_user"] <= 3),
        ("annual table p95 ≤ 250 ms", t["query_layer_user"]["p95_ms"] <= 250),
        ("full refresh ≤ 60 s", s["full_refresh_s"] <= 60),
        ("incremental refresh ≤ 2 s", s["incremental_refresh_s"] <= 2),
        ("dashboard p95 ≤ 300 ms", all(v["p95_ms"] <= 300 for v in p.values())),
    ]
    lines += [
        "Against the targets in this run: "
        + "; ".join(f"{name}: {'met' if ok else 'NOT met'}" for name, ok in checks)
        + ".",
        "",
    ]
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    if SECTION in text:
        start = text.index(SECTION)
        following = text.find("\n## ", start + len(SECTION))
        text = text[:start] + (text[following + 1 :] if following != -1 else "")
        text = text.rstrip() + "\n"
    DOC.write_text(text.rstrip() + "\n\n" + "\n".join(lines))


def rewrite(notes: dict) -> None:
    """Write the section again from the last raw result (``--rewrite``), with ``notes``."""
    result = json.loads((OUT / "result.json").read_text())
    result.update(notes)
    write_section(result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--incidents", type=int)
    parser.add_argument("--person-rows", type=int)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument(
        "--parts",
        default=",".join(PARTS),
        help="which parts to run (the others are kept from the last result.json)",
    )
    parser.add_argument("--rewrite", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--load-start", default="?", help=argparse.SUPPRESS)
    parser.add_argument("--load-end", default="?", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rewrite:
        rewrite({"load_start": args.load_start, "load_end": args.load_end})
        return
    incidents = args.incidents or (20_000 if args.quick else 1_000_000)
    person_rows = args.person_rows or (1_000_000 if args.quick else 10_000_000)
    data_dir = OUT / f"db-{incidents}"
    data_dir.mkdir(parents=True, exist_ok=True)
    setup_django(data_dir)
    result = {
        "date": f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} CPU, Python {platform.python_version()}"
        ),
        "quick": args.quick,
        "database": database(incidents),
    }
    parts = set(args.parts.split(","))
    previous = OUT / "result.json"
    if parts != set(PARTS) and previous.exists():
        kept = json.loads(previous.read_text())
        result.update({k: kept[k] for k in PARTS if k not in parts and k in kept})
        result["kept_from"] = kept.get("date")
    result["load_start"] = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    if "snapshot" in parts:
        result["snapshot"] = bench_snapshot()
    if "orm" in parts:
        log("ORM vs query layer")
        result["orm"] = bench_orm(args.repeat)
    if "pages" in parts:
        log("dashboard pages")
        result["pages"] = bench_pages(args.repeat)
    if "table" in parts:
        log("the annual table over the large snapshot")
        result["table"] = bench_table(person_rows, args.repeat)
    result["load_end"] = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    (OUT / "result.json").write_text(json.dumps(result, indent=1))
    write_section(result)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
