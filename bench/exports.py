"""Export benchmark: a million incidents to CSV and Parquet, time and peak memory.

    .venv/bin/python bench/exports.py              # 1,000,000 synthetic incidents
    .venv/bin/python bench/exports.py --quick      # 50,000
    .venv/bin/python bench/exports.py --databases sqlite,postgresql --incidents 200000

For each database: a fresh scratch database (SQLite file in bench/out/, or PostgreSQL database
``salama_bench_exports``), migrated by ``salama migrate``, filled by ``salama generate
--incidents N --seed 1``; an analyst of an organisation that owns none of the incidents (so
sees the GREEN and CLEAR ones, most of them, through the door). Then, each in its own
process (peak RSS from ``os.wait4``):

- ``salama export``'s own function, ``run_export``, native scheme, to CSV and to Parquet, for
  every visible incident and for the newest tenth of them: if exports stream, peak memory
  is the same for both sizes (the ratio is reported);
- a baseline in the same run: the same incidents read through the same door with a plain
  ``values_list().iterator()`` over the incident table alone, written with ``csv.writer`` /
  one pyarrow table per 50,000 rows (no persons, totals, sources or road crashes, no scheme
  rules): the ratio export / baseline is what the related rows and the rules cost.

Results replace the ``## Exports`` section at the end of docs/benchmarks.md; raw JSON is kept
in bench/out/.
"""

import argparse
import base64
import datetime
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
DOC = ROOT / "docs" / "benchmarks.md"
PYTHON = sys.executable
SALAMA = str(Path(PYTHON).parent / "salama")
SECTION = "## Exports"
PRODUCTION = {
    "SALAMA_DEBUG": "false",
    "SALAMA_SECRET_KEY": secrets.token_urlsafe(48),
    "SALAMA_ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
    "SALAMA_SSL_REDIRECT": "false",
    "SALAMA_SECURE_COOKIES": "false",
    # A throw-away key: production mode requires one; nothing here is encrypted with it.
    "SALAMA_ENCRYPTION_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
}
ANALYST = "bench-export-analyst"
PG_DEFAULT = "postgres://salama:salama@127.0.0.1:5432"
PG_NAME = "salama_bench_exports"


# ------------------------------------------------------------------------- the worker side


def _django():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salama.settings")
    import django

    django.setup()


def worker_setup() -> dict:
    """The analyst persona, and the date from which the newest tenth starts."""
    from django.contrib.auth import get_user_model

    from salama.incidents.models import Incident
    from salama.interchange.exports import filter_form, incidents_for
    from salama.organisations.choices import OrganisationType, Role
    from salama.organisations.models import Membership, Organisation

    user = get_user_model().objects.filter(username=ANALYST).first()
    if user is None:
        organisation, _ = Organisation.objects.get_or_create(
            acronym="BENCHX", defaults={"name": "Export bench", "type": OrganisationType.INGO}
        )
        user = get_user_model().objects.create_user(ANALYST, password=secrets.token_urlsafe())
        Membership.objects.create(user=user, organisation=organisation, role=Role.ANALYST)
    visible = incidents_for(user, filter_form({}))
    total = visible.count()
    tenth = visible.order_by("-date", "-id").values_list("date", flat=True)[total // 10]
    return {
        "incidents": Incident.objects.count(),
        "visible": total,
        "tenth_from": tenth.isoformat(),
        "tenth_visible": visible.filter(date__gte=tenth).count(),
    }


def worker_export(format_name: str, path: str, date_from: str) -> dict:
    from django.contrib.auth import get_user_model

    from salama.interchange.exports import run_export

    user = get_user_model().objects.get(username=ANALYST)
    filters = {"date_from": date_from} if date_from else {}
    started = time.perf_counter()
    with open(path, "wb") as out:
        result = run_export(user, format=format_name, scheme="native", filters=filters, out=out)
    seconds = time.perf_counter() - started
    return {"rows": result.rows, "seconds": seconds, "bytes": os.path.getsize(path)}


def worker_baseline(format_name: str, path: str, date_from: str) -> dict:
    """The same incidents through the same door, incident table only, no rules."""
    import csv

    from django.contrib.auth import get_user_model

    from salama.interchange.exports import INCIDENT_FIELDS, filter_form, incidents_for

    user = get_user_model().objects.get(username=ANALYST)
    filters = {"date_from": date_from} if date_from else {}
    fields = [f for f in INCIDENT_FIELDS if "__" not in f]
    rows = (
        incidents_for(user, filter_form(filters))
        .order_by("-date", "-id")
        .values_list(*fields)
        .iterator(chunk_size=2000)
    )
    started = time.perf_counter()
    count = 0
    if format_name == "csv":
        with open(path, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(fields)
            for row in rows:
                writer.writerow(row)
                count += 1
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        writer = None
        batch: list[tuple] = []

        def flush():
            nonlocal writer
            columns = {name: [r[i] for r in batch] for i, name in enumerate(fields)}
            table = pa.table(columns)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema, compression="zstd")
            writer.write_table(table.cast(writer.schema))

        for row in rows:
            batch.append(row)
            count += 1
            if len(batch) >= 50_000:
                flush()
                batch = []
        if batch:
            flush()
        if writer is not None:
            writer.close()
    seconds = time.perf_counter() - started
    return {"rows": count, "seconds": seconds, "bytes": os.path.getsize(path)}


def worker(argv: list[str]) -> None:
    _django()
    mode, *rest = argv
    if mode == "setup":
        result = worker_setup()
    elif mode == "export":
        result = worker_export(*rest)
    elif mode == "baseline":
        result = worker_baseline(*rest)
    else:
        raise SystemExit(f"unknown worker mode {mode!r}")
    print(json.dumps(result))


# ------------------------------------------------------------------------- the parent side


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def run(argv: list[str], env: dict) -> tuple[str, dict]:
    """Run ``argv``; return its output and its own peak RSS, CPU and wall time."""
    started = time.perf_counter()
    # Per parent process: two runs at once must not share their children's output files.
    out_path = OUT / f"exports-child-{os.getpid()}.out"
    err_path = OUT / f"exports-child-{os.getpid()}.err"
    with out_path.open("w") as out, err_path.open("w") as err:
        process = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    output, errors = out_path.read_text(), err_path.read_text()
    out_path.unlink(missing_ok=True)
    err_path.unlink(missing_ok=True)
    if code != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({code}):\n{errors[-4000:]}")
    return output, {
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "wall_s": round(wall, 1),
    }


def last_json(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


def machine() -> dict:
    def first(path, key):
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(key):
                    return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return "unknown"

    memory_kb = first("/proc/meminfo", "MemTotal").split()[0]
    try:
        uname = subprocess.run(["uname", "-srvm"], capture_output=True, text=True).stdout.strip()
    except OSError:
        uname = " ".join(platform.uname())
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "uname": uname,
        "cpu": first("/proc/cpuinfo", "model name"),
        "cores": os.cpu_count(),
        "ram_gib": round(int(memory_kb) / 1024 / 1024, 1) if memory_kb.isdigit() else None,
        "python": platform.python_version(),
        "load_before": [round(x, 2) for x in os.getloadavg()],
    }


def database_env(database: str, pg_url: str, stamp: str, reuse: bool = False) -> dict:
    env = {**os.environ, **PRODUCTION}
    if database == "sqlite":
        directory = OUT / f"exports-sqlite-{stamp}"
        directory.mkdir(parents=True, exist_ok=True)
        env["SALAMA_DATA_DIR"] = str(directory)
        env["DATABASE_URL"] = f"sqlite:///{directory / 'bench.sqlite3'}"
    else:
        import psycopg

        if not reuse:
            with psycopg.connect(f"{pg_url}/postgres", autocommit=True) as con:
                con.execute(f'DROP DATABASE IF EXISTS "{PG_NAME}"')
                con.execute(f'CREATE DATABASE "{PG_NAME}"')
        env["SALAMA_DATA_DIR"] = str(OUT / f"exports-pg-{stamp}")
        env["DATABASE_URL"] = f"{pg_url}/{PG_NAME}"
    return env


def drop(database: str, pg_url: str, env: dict) -> None:
    if database == "sqlite":
        shutil.rmtree(env["SALAMA_DATA_DIR"], ignore_errors=True)
    else:
        import psycopg

        with psycopg.connect(f"{pg_url}/postgres", autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{PG_NAME}"')


def bench_database(
    database: str, incidents: int, pg_url: str, stamp: str, reuse: bool = False
) -> dict:
    env = database_env(database, pg_url, stamp, reuse)
    result = {"database": database, "generate_s": None}
    try:
        if not reuse:
            log(f"{database}: migrate")
            run([SALAMA, "migrate", "-v0"], env)
            log(f"{database}: generate {incidents:,} incidents")
            argv = [SALAMA, "generate", "--incidents", str(incidents), "--seed", "1"]
            _, usage = run(argv, env)
            result["generate_s"] = usage["wall_s"]
        output, _ = run([PYTHON, __file__, "--worker", "setup"], env)
        result |= last_json(output)
        log(f"{database}: {result['visible']:,} incidents visible to the analyst")
        runs = []
        for format_name in ("csv", "parquet"):
            for scope, date_from in (("all", ""), ("tenth", result["tenth_from"])):
                for mode in ("export", "baseline"):
                    path = OUT / f"exports-{database}-{mode}-{scope}.{format_name}"
                    output, usage = run(
                        [PYTHON, __file__, "--worker", mode, format_name, str(path), date_from],
                        env,
                    )
                    measured = last_json(output) | usage
                    measured |= {"format": format_name, "scope": scope, "mode": mode}
                    measured["rows_per_second"] = measured["rows"] / measured["seconds"]
                    runs.append(measured)
                    log(
                        f"{database} {mode} {format_name} {scope}: {measured['rows']:,} rows "
                        f"in {measured['seconds']:.1f} s, peak {usage['peak_rss_mb']} MiB"
                    )
                    path.unlink(missing_ok=True)
        result["runs"] = runs
    finally:
        drop(database, pg_url, env)
    return result


# ------------------------------------------------------------------------- the report


def _find(runs, **match):
    return next(r for r in runs if all(r[k] == v for k, v in match.items()))


def markdown(results: list[dict], info: dict, args, minutes: float) -> str:
    lines = [
        SECTION,
        "",
        "`bench/exports.py` (`--quick`: 50,000 incidents). Written by the script; rerun it to "
        "refresh. Each export runs in its own process (peak RSS from `os.wait4`), as an analyst "
        "of an organisation that owns none of the incidents (sees the GREEN and CLEAR ones "
        "through `visible_to`), native scheme (every field, per-incident person counts, "
        "reported totals, sources, road-crash facts). *Baseline*: the same incidents through "
        "the same door, incident table only, via `values_list().iterator()` and `csv.writer` "
        "/ pyarrow, no related rows and no scheme rules. *Tenth*: the newest tenth of the "
        "same incidents (a `date_from` filter): streaming means the same peak memory for "
        "both sizes.",
        "",
        f"- Date: {info['date']}; command: `{' '.join(['bench/exports.py', *args])}`"
        + (f" ({minutes:.0f} min)" if minutes else ""),
        f"- Machine: `{info['uname']}`; CPU: {info['cpu']}, {info['cores']} cores; RAM "
        f"{info['ram_gib']} GiB; Python {info['python']}",
        f"- Load average before / after: {info['load_before'][0]} / {info['load_after'][0]} "
        "(the machine is shared: other work was running)",
        "- Settings as in production (`SALAMA_DEBUG=false`)",
        "",
        "| database | format | incidents exported | seconds | incidents/s | peak RSS | file | "
        "× baseline time | baseline peak RSS | tenth: peak RSS | peak all / tenth |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for result in results:
        runs = result["runs"]
        for format_name in ("csv", "parquet"):
            full = _find(runs, format=format_name, scope="all", mode="export")
            base = _find(runs, format=format_name, scope="all", mode="baseline")
            tenth = _find(runs, format=format_name, scope="tenth", mode="export")
            lines.append(
                f"| {result['database']} | {format_name} | {full['rows']:,} | "
                f"{full['seconds']:.1f} | {full['rows_per_second']:,.0f} | "
                f"{full['peak_rss_mb']:.0f} MiB | {full['bytes'] / 2**20:.1f} MiB | "
                f"{full['seconds'] / base['seconds']:.1f}× | {base['peak_rss_mb']:.0f} MiB | "
                f"{tenth['peak_rss_mb']:.0f} MiB ({tenth['rows']:,} rows) | "
                f"{full['peak_rss_mb'] / tenth['peak_rss_mb']:.2f} |"
            )
    lines += [
        "",
        "Generated with `salama generate --incidents N --seed 1`: "
        + "; ".join(
            f"{r['database']} {r['incidents']:,} incidents"
            + (f" in {r['generate_s']:.0f} s" if r["generate_s"] else "")
            + ", of which "
            f"the analyst sees {r['visible']:,} (the others are AMBER, AMBER+STRICT, RED or "
            "drafts of the owning organisation), so those are exported"
            for r in results
        )
        + ". Raw results: `bench/out/exports-*.json`.",
        "",
    ]
    return "\n".join(lines)


def write_section(text: str) -> None:
    """Replace the ``## Exports`` section (to the next ``## `` heading or the end)."""
    current = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    start = current.find(f"\n{SECTION}\n")
    if start == -1:
        updated = current.rstrip("\n") + "\n\n" + text
    else:
        end = current.find("\n## ", start + 1)
        rest = current[end:] if end != -1 else "\n"
        updated = current[: start + 1] + text.rstrip("\n") + "\n" + rest
    DOC.write_text(updated.rstrip("\n") + "\n", encoding="utf-8")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="50,000 incidents")
    parser.add_argument("--incidents", type=int)
    parser.add_argument("--databases", default="sqlite", help="sqlite,postgresql")
    parser.add_argument("--postgres", default=os.environ.get("SALAMA_BENCH_POSTGRES", PG_DEFAULT))
    parser.add_argument("--no-doc", action="store_true", help="do not touch docs/benchmarks.md")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="PostgreSQL: export from the database a previous run left, without generating",
    )
    parser.add_argument(
        "--from-json",
        metavar="PATH",
        nargs="+",
        help="write the section from saved runs (their results side by side), measure nothing",
    )
    args = parser.parse_args()
    if args.from_json:
        saved = [json.loads(Path(path).read_text()) for path in args.from_json]
        first = saved[0]
        results = [result for run_ in saved for result in run_["results"]]
        command = first.get("command", [])
        text = markdown(results, first["machine"], command, first.get("minutes", 0))
        for later in saved[1:]:
            machine_, databases = (
                later["machine"],
                ", ".join(r["database"] for r in later["results"]),
            )
            text = text.replace(
                "- Settings as in production",
                f"- The {databases} rows are from a later run, {machine_['date']}, command "
                f"`{' '.join(['bench/exports.py', *later.get('command', [])])}`, load average "
                f"before / after {machine_['load_before'][0]} / {machine_['load_after'][0]}\n"
                "- Settings as in production",
            )
        print(text)
        write_section(text)
        return
    incidents = args.incidents or (50_000 if args.quick else 1_000_000)
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    info = machine()
    started = time.perf_counter()
    results = [
        bench_database(database.strip(), incidents, args.postgres.rstrip("/"), stamp, args.reuse)
        for database in args.databases.split(",")
        if database.strip()
    ]
    info["load_after"] = [round(x, 2) for x in os.getloadavg()]
    minutes = (time.perf_counter() - started) / 60
    (OUT / f"exports-{stamp}.json").write_text(
        json.dumps(
            {
                "machine": info,
                "results": results,
                "command": sys.argv[1:],
                "minutes": minutes,
            },
            indent=2,
            default=str,
        )
    )
    text = markdown(results, info, sys.argv[1:], minutes)
    print(text)
    if not args.no_doc:
        write_section(text)


if __name__ == "__main__":
    main()
