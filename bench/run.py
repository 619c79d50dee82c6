"""Salama's benchmarks (``make bench``): import speed and memory, and list-page latency.

    .venv/bin/python bench/run.py                 # full size: 1,000,000 rows / incidents
    .venv/bin/python bench/run.py --quick         # 50,000, to try it out
    .venv/bin/python bench/run.py --only import --databases sqlite

Each measurement runs in its own process against a fresh scratch database (SQLite files in
bench/out/, PostgreSQL databases ``salama_bench_*``), migrated by ``salama migrate``. Results
replace this mode's block in docs/benchmarks.md and are kept as JSON in bench/out/.

- import: a CSV in the AWSD public layout, resampled from the shipped file with new Incident
  IDs, imported end to end with ``run_import("awsd", …)``; rows/s and the import process's
  peak RSS; beside it, in the same run, DuckDB reading the same file.
- list: ``salama generate`` writes the incidents (its incidents/s is reported too); then the
  incident list page is requested with Django's test client, signed in as an analyst of an
  organisation that owns none of them (so sees the GREEN and CLEAR ones), then as an analyst
  of a partner under a full sharing agreement (the door's grant branch): p50 / p95 server
  time after a warm-up, with and without filters.
"""

import argparse
import base64
import datetime
import json
import os
import platform
import secrets
import subprocess
import sys
import time
from pathlib import Path

import awsd_file

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
DOC = ROOT / "docs" / "benchmarks.md"
PYTHON = sys.executable
SALAMA = str(Path(PYTHON).parent / "salama")

# Measured as deployed: DEBUG off (with DEBUG on, Django keeps the SQL of the last 9,000
# queries, bulk inserts included, which costs time and, on a million rows, hundreds of MB).
PRODUCTION = {
    "SALAMA_DEBUG": "false",
    "SALAMA_SECRET_KEY": secrets.token_urlsafe(48),
    "SALAMA_ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
    "SALAMA_SSL_REDIRECT": "false",
    "SALAMA_SECURE_COOKIES": "false",
    # The page is measured, not the sign-in: no second factor for the benchmark's users.
    "SALAMA_REQUIRE_TWO_FACTOR": "false",
    # Production refuses to start without one; nothing the benchmarks do is encrypted.
    "SALAMA_ENCRYPTION_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
}
TARGETS = {"import_rows_per_second": 50_000, "import_peak_mb": 1024, "list_p95_ms": 300}
GENERATE_TARGET = 20_000  # incidents/s into SQLite
# A full run also imports this many rows into SQLite, to compare the peak memory with.
MEMORY_CHECK_ROWS = 100_000


# --------------------------------------------------------------------------- the machine


def uname() -> str:
    try:
        return subprocess.run(["uname", "-a"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return " ".join(platform.uname())


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
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "uname": uname(),
        "cpu": first("/proc/cpuinfo", "model name"),
        "cores": os.cpu_count(),
        "ram_gib": round(int(memory_kb) / 1024 / 1024, 1) if memory_kb.isdigit() else None,
        "python": platform.python_version(),
        "load_before": os.getloadavg(),
    }


# --------------------------------------------------------------------------- databases


class Database:
    """A scratch database, created empty and migrated, and the URL to reach it."""

    def __init__(self, vendor: str, name: str, pg_url: str):
        self.vendor, self.name, self.pg_url = vendor, name, pg_url.rstrip("/")
        if vendor == "sqlite":
            self.path = OUT / f"{name}.sqlite3"
            self.url = f"sqlite:///{self.path}"
        else:
            self.url = f"{self.pg_url}/{name}"

    def fresh(self) -> "Database":
        if self.vendor == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        else:
            import psycopg

            with psycopg.connect(f"{self.pg_url}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{self.name}"')
        run([SALAMA, "migrate", "--noinput", "-v", "0"], self.env())
        return self

    def env(self) -> dict:
        return os.environ | PRODUCTION | {"DATABASE_URL": self.url}

    def analyze(self) -> None:
        """PostgreSQL: VACUUM ANALYZE, as autovacuum soon would after a bulk load. SQLite is
        left as Django leaves it (no ANALYZE statistics)."""
        if self.vendor == "postgresql":
            import psycopg

            with psycopg.connect(self.url, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")

    def size_mb(self) -> float | None:
        if self.vendor == "sqlite":
            return round(
                sum(
                    Path(f"{self.path}{s}").stat().st_size
                    for s in ("", "-wal")
                    if Path(f"{self.path}{s}").exists()
                )
                / 2**20,
                1,
            )
        import psycopg

        with psycopg.connect(self.url) as conn:
            size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        return round(size / 2**20, 1)


def postgres_available(pg_url: str) -> str:
    """'' if PostgreSQL answers at ``pg_url``, else why not."""
    try:
        import psycopg

        with psycopg.connect(f"{pg_url.rstrip('/')}/postgres", connect_timeout=5):
            return ""
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".strip()


# --------------------------------------------------------------------------- processes


def run(argv: list[str], env: dict) -> tuple[str, dict]:
    """Run ``argv``; return its output and its own resource usage (peak RSS, CPU, wall)."""
    started = time.perf_counter()
    out_path, err_path = OUT / "child.out", OUT / "child.err"
    with out_path.open("w") as out, err_path.open("w") as err:
        process = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=out, stderr=err)
        # wait4 gives this child's own usage; RUSAGE_CHILDREN would mix every child's.
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    output, errors = out_path.read_text(), err_path.read_text()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({process.returncode}):\n{errors[-4000:]}")
    return output, {
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "wall_s": round(wall, 1),
    }


def last_json(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --------------------------------------------------------------------------- benchmarks


DUCKDB_SCRIPT = """
import json, sys, time
import duckdb
path = sys.argv[1]
con = duckdb.connect()
started = time.perf_counter()
rows = con.execute("SELECT count(*) FROM read_csv(?)", [path]).fetchall()[0][0]
count_s = time.perf_counter() - started
started = time.perf_counter()
con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?)", [path])
load_s = time.perf_counter() - started
print(json.dumps({"rows": rows, "count_s": count_s, "load_s": load_s}))
"""


def duckdb_read(path: Path) -> dict:
    """DuckDB on the same file, in a process of its own: Linux carries a process's peak RSS
    across fork and exec, so a DuckDB table loaded here (1 GB at a million rows) would show
    up as the peak of every import worker started afterwards."""
    output, _ = run([PYTHON, "-c", DUCKDB_SCRIPT, str(path)], os.environ.copy())
    return last_json(output)


def total_peak(report: dict, usage: dict) -> float:
    """Peak memory of an import: the writing process's plus the reading one's, if any."""
    if "writer_peak_rss_mb" not in report:
        return usage["peak_rss_mb"]
    return round(report["writer_peak_rss_mb"] + report.get("reader_peak_rss_mb", 0), 1)


def bench_memory(rows: int, database: Database) -> dict:
    """The same import at another size: memory must not grow with the file."""
    path = awsd_file.cached(rows, OUT)
    database.fresh()
    log(f"import: {database.vendor}: {rows:,} rows, for the memory comparison")
    output, usage = run([PYTHON, "bench/worker.py", "import", str(path)], database.env())
    report = last_json(output)
    return report | usage | {"rows": rows, "peak_rss_mb": total_peak(report, usage)}


def bench_import(rows: int, databases: list[Database], memory_rows: int = 0) -> dict:
    log(f"import: making a {rows:,}-row AWSD-layout file")
    path = awsd_file.cached(rows, OUT)
    result = {"rows": rows, "file_mb": round(path.stat().st_size / 2**20, 1), "runs": {}}
    result["duckdb"] = duckdb_read(path)
    log(f"import: DuckDB counts it in {result['duckdb']['count_s']:.2f} s")
    for database in databases:
        log(f"import: {database.vendor}: fresh database")
        database.fresh()
        log(f"import: {database.vendor}: importing")
        output, usage = run([PYTHON, "bench/worker.py", "import", str(path)], database.env())
        report = last_json(output)
        run_result = report | usage | {"database_mb": database.size_mb()}
        # wait4 reports the larger of the two processes' peaks; the target is on their sum.
        run_result["peak_rss_mb"] = total_peak(report, usage)
        run_result["vs_duckdb_count"] = report["seconds"] / result["duckdb"]["count_s"]
        run_result["vs_duckdb_load"] = report["seconds"] / result["duckdb"]["load_s"]
        result["runs"][database.vendor] = run_result
        log(
            f"import: {database.vendor}: {report['rows_per_second']:,.0f} rows/s, "
            f"peak {run_result['peak_rss_mb']:,.0f} MB"
        )
    if memory_rows and databases:
        result["memory"] = bench_memory(memory_rows, databases[0])
    return result


def bench_generate(incidents: int, databases: list[Database]) -> dict:
    """``salama generate`` alone, into a fresh database each."""
    result = {"incidents": incidents, "runs": {}}
    for database in databases:
        log(f"generate: {database.vendor}: fresh database")
        database.fresh()
        output, usage = run(
            [SALAMA, "generate", "--incidents", str(incidents), "--seed", "1", "--format", "json"],
            database.env(),
        )
        generated = last_json(output) | usage
        log(f"generate: {database.vendor}: {generated['incidents_per_second']:,} incidents/s")
        result["runs"][database.vendor] = {
            "generate": generated,
            "database_mb": database.size_mb(),
        }
    return result


def bench_list(incidents: int, databases: list[Database], requests: int, warmup: int) -> dict:
    result = {"incidents": incidents, "requests": requests, "warmup": warmup, "runs": {}}
    for database in databases:
        log(f"list: {database.vendor}: fresh database")
        database.fresh()
        log(f"list: {database.vendor}: generating {incidents:,} incidents")
        output, usage = run(
            [SALAMA, "generate", "--incidents", str(incidents), "--seed", "1", "--format", "json"],
            database.env(),
        )
        generated = last_json(output) | usage
        log(f"list: {database.vendor}: {generated['incidents_per_second']:,} incidents/s")
        database.analyze()
        log(f"list: {database.vendor}: timing the list page")
        output, _ = run(
            [
                PYTHON,
                "bench/worker.py",
                "list",
                "--requests",
                str(requests),
                "--warmup",
                str(warmup),
            ],
            database.env(),
        )
        result["runs"][database.vendor] = {
            "generate": generated,
            "database_mb": database.size_mb(),
        } | last_json(output)
    return result


# --------------------------------------------------------------------------- the report


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _index_time(generated: dict) -> str:
    """SQLite's search index catching up after the writing (``search_index``), in seconds."""
    seconds = generated.get("index_seconds")
    return f"{seconds:,.1f} s" if seconds else "—"


def markdown(mode: str, results: dict) -> str:
    m = results["machine"]
    lines = [
        f"### {mode.capitalize()} run, {m['date']}",
        "",
        f"- Machine: `{m['uname']}`",
        f"- CPU: {m['cpu']}, {m['cores']} cores; RAM {m['ram_gib']} GiB; Python {m['python']}",
        f"- Load average before / after: {m['load_before'][0]:.2f} / "
        f"{m['load_after'][0]:.2f} (the machine is shared: other work was running)",
        f"- Command: `{results['command']}` ({results['minutes']:.0f} min); settings as in "
        "production (`SALAMA_DEBUG=false`)",
        "",
    ]
    if "import" in results:
        r = results["import"]
        duck = r["duckdb"]
        lines += [
            f"#### Import: {r['rows']:,} AWSD rows ({r['file_mb']:,} MiB CSV)",
            "",
            "| database | rows/s | seconds | peak RSS (writer + reader) | CPU writer / reader "
            "| created | quarantined | DB size | "
            "× DuckDB count | × DuckDB load | rows/s target | memory target |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
        ]
        for vendor, run_result in r["runs"].items():
            lines.append(
                f"| {vendor} | {run_result['rows_per_second']:,.0f} | "
                f"{run_result['seconds']:,.1f} | {run_result['peak_rss_mb']:,.0f} MiB "
                f"({run_result.get('writer_peak_rss_mb', 0):,.0f} + "
                f"{run_result.get('reader_peak_rss_mb', 0):,.0f}) | "
                f"{run_result.get('writer_cpu_s', 0):,.0f} s / "
                f"{run_result.get('reader_cpu_s', 0):,.0f} s | "
                f"{run_result['created']:,} | {run_result['quarantined']:,} | "
                f"{run_result['database_mb']:,} MiB | {run_result['vs_duckdb_count']:,.0f}× | "
                f"{run_result['vs_duckdb_load']:,.0f}× | "
                f"{verdict(run_result['rows_per_second'] >= TARGETS['import_rows_per_second'])}"
                f" (≥ 50,000) | "
                f"{verdict(run_result['peak_rss_mb'] <= TARGETS['import_peak_mb'])} (≤ 1 GiB) |"
            )
        lines += [
            "",
            f"DuckDB on the same file, same run: `SELECT count(*) FROM read_csv(…)` "
            f"{duck['count_s']:.2f} s ({duck['rows'] / duck['count_s']:,.0f} rows/s); "
            f"`CREATE TABLE … AS SELECT * FROM read_csv(…)` {duck['load_s']:.2f} s.",
            "",
        ]
        if "memory" in r:
            m_run = r["memory"]
            big = max(r["runs"].values(), key=lambda x: x["peak_rss_mb"])
            lines += [
                f"Memory against file size ({next(iter(r['runs']))}): "
                f"{m_run['rows']:,} rows peak {m_run['peak_rss_mb']:,.0f} MiB "
                f"({m_run.get('writer_peak_rss_mb', 0):,.0f} + "
                f"{m_run.get('reader_peak_rss_mb', 0):,.0f}), {r['rows']:,} rows "
                f"{big['peak_rss_mb']:,.0f} MiB.",
                "",
            ]
    if "generate" in results:
        r = results["generate"]
        lines += [
            f"#### Generate: {r['incidents']:,} synthetic incidents",
            "",
            "| database | incidents/s | seconds | then the search index | persons rows "
            "| DB size | peak RSS | target (SQLite ≥ 20,000/s) |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for vendor, run_result in r["runs"].items():
            g = run_result["generate"]
            target = (
                verdict(g["incidents_per_second"] >= GENERATE_TARGET) if vendor == "sqlite" else "—"
            )
            lines.append(
                f"| {vendor} | {g['incidents_per_second']:,} | {g['seconds']:,.1f} | "
                f"{_index_time(g)} | {g['persons']:,} | {run_result['database_mb']:,} MiB | "
                f"{g['peak_rss_mb']:,.0f} MiB | {target} |"
            )
        lines.append("")
    if "list" in results:
        r = results["list"]
        lines += [
            f"#### Generate, then the incident list: {r['incidents']:,} synthetic incidents",
            "",
            "| database | generate incidents/s | then the search index | persons rows | DB size "
            "| target (SQLite ≥ 20,000/s) |",
            "| --- | ---: | ---: | ---: | ---: | --- |",
        ]
        for vendor, run_result in r["runs"].items():
            g = run_result["generate"]
            target = (
                verdict(g["incidents_per_second"] >= GENERATE_TARGET) if vendor == "sqlite" else "—"
            )
            lines.append(
                f"| {vendor} | {g['incidents_per_second']:,} | {_index_time(g)} | "
                f"{g['persons']:,} | {run_result['database_mb']:,} MiB | {target} |"
            )
        lines += [
            "",
            f"List page (`incidents:list`), {r['requests']} requests after {r['warmup']} "
            "warm-up, signed in as an analyst who sees the GREEN and CLEAR incidents (and, in "
            "the partner rows, an analyst whose organisation also receives the owner's TLP:AMBER "
            "incidents in Afghanistan under a full sharing agreement):",
            "",
            "| database | scenario | p50 | p95 | max | rows | SQL in one request | "
            "target p95 ≤ 300 ms |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for vendor, run_result in r["runs"].items():
            for name, s in run_result["scenarios"].items():
                params = "&".join(f"{k}={v}" for k, v in s["params"].items()) or "—"
                lines.append(
                    f"| {vendor} | {name} (`{params}`) | {s['p50_ms']:,.0f} ms | "
                    f"{s['p95_ms']:,.0f} ms | {s['max_ms']:,.0f} ms | {s['rows_on_page']} | "
                    f"{s['sql_ms']:,.0f} of {s['sample_ms']:,.0f} ms ({s['queries']} queries) | "
                    f"{verdict(s['p95_ms'] <= TARGETS['list_p95_ms'])} |"
                )
        lines.append("")
    return "\n".join(lines)


SKELETON = """# Benchmarks

Run with `make bench` (full size, takes a while) or `.venv/bin/python bench/run.py --quick`
(50,000 rows). `bench/run.py --help` lists the options. The blocks below are rewritten by each
run of their mode; the rest of this page is written by people.

## Results

<!-- results:full:start -->
(no full run yet)
<!-- results:full:end -->

<!-- results:quick:start -->
(no quick run yet)
<!-- results:quick:end -->
"""


def write_doc(mode: str, block: str) -> None:
    text = DOC.read_text() if DOC.exists() else SKELETON
    start, end = f"<!-- results:{mode}:start -->", f"<!-- results:{mode}:end -->"
    if start not in text:
        text = text.rstrip() + f"\n\n{start}\n{end}\n"
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(f"{head}{start}\n{block}\n{end}{tail}")


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="50,000 rows and incidents")
    parser.add_argument("--rows", type=int, help="rows to import (default 1,000,000)")
    parser.add_argument("--incidents", type=int, help="incidents to list (default 1,000,000)")
    parser.add_argument(
        "--only",
        choices=["import", "generate", "list"],
        action="append",
        help="run only this (repeatable); generate is included in list",
    )
    parser.add_argument(
        "--databases", default="sqlite,postgresql", help="comma-separated: sqlite,postgresql"
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("SALAMA_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432"),
        help="PostgreSQL server for the scratch databases (no database name)",
    )
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--no-doc", action="store_true", help="do not touch docs/benchmarks.md")
    parser.add_argument(
        "--render",
        metavar="JSON",
        help="only rewrite the doc from a saved bench/out/results-*.json",
    )
    args = parser.parse_args()
    if args.render:
        mode = Path(args.render).name.split("-")[1]
        write_doc(mode, markdown(mode, json.loads(Path(args.render).read_text())))
        return

    size = 50_000 if args.quick else 1_000_000
    mode = "quick" if args.quick else "full"
    if args.rows or args.incidents:
        mode = "custom"
    only = args.only or ["import", "list"]
    vendors = [v.strip() for v in args.databases.split(",") if v.strip()]
    if "postgresql" in vendors and (why := postgres_available(args.pg_url)):
        log(f"PostgreSQL is not reachable at {args.pg_url}, skipped: {why}")
        vendors.remove("postgresql")
    OUT.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    results = {"machine": machine(), "command": " ".join(["bench/run.py", *sys.argv[1:]])}
    if "import" in only:
        databases = [Database(v, "salama_bench_import", args.pg_url) for v in vendors]
        memory_rows = 0 if args.quick or args.rows else MEMORY_CHECK_ROWS
        results["import"] = bench_import(args.rows or size, databases, memory_rows)
    if "generate" in only:
        databases = [Database(v, "salama_bench_generate", args.pg_url) for v in vendors]
        results["generate"] = bench_generate(args.incidents or size, databases)
    if "list" in only:
        databases = [Database(v, "salama_bench_list", args.pg_url) for v in vendors]
        results["list"] = bench_list(args.incidents or size, databases, args.requests, args.warmup)
    results["machine"]["load_after"] = os.getloadavg()
    results["minutes"] = (time.perf_counter() - started) / 60

    stamp = time.strftime("%Y%m%d-%H%M%S")
    (OUT / f"results-{mode}-{stamp}.json").write_text(json.dumps(results, indent=1, default=str))
    block = markdown(mode, results)
    print(block)
    if not args.no_doc:
        write_doc(mode, block)
        log(f"wrote the {mode} block of {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
