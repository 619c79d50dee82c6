"""Record linkage benchmarks: quality (pair precision, recall, F1) and time, DuckDB and Spark.

    .venv/bin/python bench/linkage.py             # both benchmarks + 1,000,000 incidents
    .venv/bin/python bench/linkage.py --quick     # both benchmarks + 100,000 incidents
    .venv/bin/python bench/linkage.py --engines duckdb,spark --scale 0

What it measures, each against a baseline run in the same process:

- (a) noisy copies of every real AWSD row (``salama/linkage/data/noise.json``) and (b) the
  hand-labelled AWSD × SiND pairs of 2020–2022 (``salama/linkage/data/awsd_sind_pairs.csv``):
  precision, recall and F1 of the model at its threshold, beside a deterministic rule (same
  country, dates at most one day apart, same numbers killed, injured and held) as baseline;
- time of the linkage itself (prepare + splink predict + best links) on those sets and on
  ``--scale`` incidents made from the AWSD rows (each row re-dated at random within ±12 years
  in its country, half with a noisy copy), beside the bare blocking join in DuckDB (the pairs
  the model scores, counted with one SQL query) as baseline;
- ``--end-to-end``: the whole ``salama link`` path (read the database in bulk, link, store the
  pairs) on a fresh SQLite database of ``--scale`` incidents written by ``salama generate``,
  half of them re-labelled as a second source system.

Results go to docs/benchmarks.md under "## Linkage" (this script's own section) and as JSON
to bench/out/linkage-*.json.
"""

import argparse
import datetime
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
DOC = ROOT / "docs" / "benchmarks.md"
SECTION = "## Linkage"
TARGETS = {"f1_noisy": 0.95, "f1_labelled": 0.85, "million_seconds": 600}

sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salama.settings")
os.environ.setdefault("SALAMA_DATA_DIR", str(OUT / "linkage-data"))


def setup_django():
    import django

    django.setup()


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
        "uname": " ".join(platform.uname()),
        "cpu": first("/proc/cpuinfo", "model name"),
        "cores": os.cpu_count(),
        "ram_gib": round(int(memory_kb) / 1024 / 1024, 1) if memory_kb.isdigit() else None,
        "python": platform.python_version(),
        "load_before": [round(x, 2) for x in os.getloadavg()],
    }


def cpu_seconds(spark=None) -> float:
    """CPU time of this process, all threads (DuckDB's included), and of Spark's JVM when one
    runs (a live child, so not in RUSAGE_CHILDREN: read from /proc)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    total = own.ru_utime + own.ru_stime
    proc = getattr(getattr(getattr(spark, "sparkContext", None), "_gateway", None), "proc", None)
    if proc is not None:
        try:
            fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            pass
    return total


def log(message: str) -> None:
    print(f"[{datetime.datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- baselines


def rule_pairs(records: list[dict]) -> dict:
    """The deterministic baseline: same country, dates ≤ 1 day apart (both to the day), same
    numbers killed, injured and held, other origin. Returns {(a, b): 1.0}."""
    import duckdb

    from salama.linkage.benchmark import table_of

    con = duckdb.connect()
    con.register("r", table_of(records))
    rows = con.sql(
        """
        SELECT least(l.id, r.id), greatest(l.id, r.id) FROM r l JOIN r ON l.country = r.country
        AND l.origin < r.origin AND l.date_precision = 'day' AND r.date_precision = 'day'
        AND abs(l.date - r.date) <= 1 AND l.killed = r.killed AND l.injured = r.injured
        AND l.abducted + l.detained = r.abducted + r.detained
        """
    ).fetchall()
    return {tuple(row): 1.0 for row in rows}


def blocking_join_seconds(table) -> tuple[float, int]:
    """The bare blocking join (the pairs splink scores), counted by DuckDB: the floor of any
    linkage with these blocking rules."""
    import duckdb

    from salama.linkage import engine

    con = duckdb.connect()
    began = time.perf_counter()
    prepared = engine.prepare(table, con)
    con.register("p", prepared)
    # The rules find disjoint pairs (same bucket, next bucket either way, month-only dates),
    # so their counts add up; each is a hash join on its equalities, as splink runs them.
    count = sum(
        con.sql(
            f"SELECT count(*) FROM p l JOIN p r ON ({rule}) AND l.unique_id < r.unique_id"
        ).fetchone()[0]
        for rule in engine.BLOCKING_RULES
    )
    return time.perf_counter() - began, count


# --------------------------------------------------------------------------- quality


def quality(engines: list[str], spark) -> dict:
    from salama.linkage import benchmark

    results = {}
    awsd = benchmark.awsd_records()
    data, truth = benchmark.noisy_dataset(awsd)
    baseline_a = benchmark.score_pairs(set(rule_pairs(data)), truth)
    labels = benchmark.load_labels()
    labelled_records = [
        r for r in awsd + benchmark.sind_records() if 2020 <= r["date"].year <= 2022
    ]
    rule_b = rule_pairs(labelled_records)
    tp = fp = fn = 0
    for label in labels:
        key = (
            int(label["awsd_incident_id"]),
            benchmark.SIND_ID_OFFSET + int(label["sind_event_id"]),
        )
        said, real = key in rule_b, label["same_event"] == "yes"
        tp, fp, fn = tp + (said and real), fp + (said and not real), fn + (real and not said)
    baseline_b = benchmark.Score(tp, fp, fn)
    for name in engines:
        log(f"benchmark (a), {name}")
        a = benchmark.run_noisy(engine_name=name, spark=spark, records=awsd)
        log(f"benchmark (b), {name}")
        b = benchmark.run_labelled(engine_name=name, spark=spark)
        results[name] = {
            "noisy": _result(a),
            "labelled": _result(b),
        }
    results["baseline"] = {"noisy": baseline_a.as_dict(), "labelled": baseline_b.as_dict()}
    return results


def _result(result) -> dict:
    return {
        "records": result.records,
        "true_pairs": result.true_pairs,
        "candidates": result.candidates,
        "seconds": round(result.seconds, 2),
        "threshold": result.threshold,
        **result.score.as_dict(),
        "errors": [list(map(str, e)) for e in result.errors[:10]],
    }


# --------------------------------------------------------------------------- scale


def scaled_records(size: int, seed: int = 2) -> list[dict]:
    """``size`` AWSD-shaped records: rows re-dated within ±12 years, half with a noisy copy."""
    from salama.linkage import benchmark

    rng = random.Random(seed)
    awsd = [r for r in benchmark.awsd_records() if r["date_precision"] != "year"]
    originals = []
    next_id = 1
    target = int(size / 1.5)
    while len(originals) < target:
        for record in awsd:
            if len(originals) >= target:
                break
            offset = datetime.timedelta(days=rng.randint(-12 * 365, 12 * 365))
            originals.append(dict(record, id=next_id, date=record["date"] + offset))
            next_id += 1
    rules = json.loads(benchmark.NOISE.read_text(encoding="utf-8"))
    copies = []
    for record in originals:
        if len(originals) + len(copies) >= size:
            break
        if rng.random() < 0.5:
            copies.append(benchmark.noisy_copy(record, rng, rules, next_id))
            next_id += 1
    return originals + copies


def scale(size: int, engines: list[str], spark) -> dict:
    from salama.linkage import benchmark, engine

    log(f"making {size:,} records")
    table = benchmark.table_of(scaled_records(size))
    log("blocking join baseline")
    join_s, blocked = blocking_join_seconds(table)
    out = {"records": table.num_rows, "blocked_pairs": blocked, "blocking_join_s": round(join_s, 1)}
    for name in engines:
        log(f"linking {table.num_rows:,} with {name}")
        began, cpu = time.perf_counter(), cpu_seconds(spark)
        found = engine.predict(table, engine=name, spark=spark)
        seconds, cpu = time.perf_counter() - began, cpu_seconds(spark) - cpu
        out[name] = {
            "seconds": round(seconds, 1),
            "cpu_seconds": round(cpu, 1),
            "pairs": len(found),
            "x_blocking_join": round(seconds / join_s, 1),
        }
        log(f"{name}: {seconds:.1f} s ({cpu:.1f} s of CPU), {len(found):,} pairs")
    return out


def end_to_end(size: int) -> dict:
    """``run_linkage`` on a fresh SQLite database of ``size`` generated incidents."""
    data_dir = OUT / f"linkage-e2e-{size}"
    db = data_dir / "db.sqlite3"
    if db.exists():
        db.unlink()
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "SALAMA_DATA_DIR": str(data_dir), "DATABASE_URL": f"sqlite:///{db}"}
    salama = str(Path(sys.executable).parent / "salama")
    log(f"end to end: migrate and generate {size:,} incidents")
    subprocess.run([salama, "migrate", "-v", "0"], env=env, check=True)
    began = time.perf_counter()
    subprocess.run(
        [salama, "generate", "--incidents", str(size), "--seed", "3", "--format", "json"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    generate_s = time.perf_counter() - began
    # Half the incidents become another source's: linkage only compares across sources.
    import sqlite3

    con = sqlite3.connect(db)
    con.execute("UPDATE incidents_source SET system = 'other' WHERE incident_id % 2 = 0")
    con.execute("UPDATE incidents_incident SET status = 'closed' WHERE status = 'draft'")
    con.commit()
    con.close()
    log("end to end: salama link")
    began = time.perf_counter()
    result = subprocess.run(
        [salama, "link", "--format", "text"], env=env, check=True, capture_output=True, text=True
    )
    seconds = time.perf_counter() - began
    return {
        "incidents": size,
        "generate_s": round(generate_s, 1),
        "link_s": round(seconds, 1),
        "output": result.stdout.strip().splitlines()[0][:300],
    }


# --------------------------------------------------------------------------- spark


def spark_session():
    from salama.linkage.spark import local_session

    return local_session()


# --------------------------------------------------------------------------- the page


def write_doc(report: dict) -> None:
    m = report["machine"]
    lines = [
        SECTION,
        "",
        "`bench/linkage.py` (this section is rewritten by each run; `--quick` for a short one). "
        "The model is `salama/linkage/engine.py`: blocking on country and a date window "
        f"(±{report['window_days']} days, or the same month when one date is known only to the "
        "month), Fellegi–Sunter weights set by hand, threshold "
        f"{report['threshold']}, each record's best pair per other source kept.",
        "",
        f"- Run: {m['date']}; `{m['uname']}`",
        f"- CPU: {m['cpu']}, {m['cores']} cores; RAM {m['ram_gib']} GiB; Python {m['python']}",
        f"- Load average before / after: {m['load_before']} / {report['load_after']} "
        "(the machine is shared)",
        f"- Command: `{report['command']}` ({report['minutes']} min)",
        "",
        "### Quality",
        "",
        "| benchmark | engine | records | true pairs | precision | recall | F1 | target | "
        "seconds |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    quality_ = report["quality"]
    for key, label, target in (
        ("noisy", "(a) noisy copies of AWSD rows", TARGETS["f1_noisy"]),
        ("labelled", "(b) hand-labelled AWSD × SiND 2020–2022", TARGETS["f1_labelled"]),
    ):
        for name in report["engines"]:
            r = quality_[name][key]
            met = "met" if r["f1"] >= target else "**missed**"
            lines.append(
                f"| {label} | {name} | {r['records']:,} | {r['true_pairs']:,} | "
                f"{r['precision']:.3f} | {r['recall']:.3f} | **{r['f1']:.3f}** | {met} (≥ "
                f"{target}) | {r['seconds']} |"
            )
        base = quality_["baseline"][key]
        lines.append(
            f"| {label} | rule baseline | | | {base['precision']:.3f} | {base['recall']:.3f} | "
            f"{base['f1']:.3f} | | |"
        )
    b = quality_[report["engines"][0]]["labelled"]
    labelled_total = sum(
        b[k] or 0
        for k in ("true_positives", "false_positives", "false_negatives", "true_negatives")
    )
    lines += [
        "",
        f"(b) has {b['true_pairs']} same-event pairs among {labelled_total} "
        "labelled pairs; the rule baseline is same country, dates ≤ 1 day apart, same numbers "
        "killed, injured and held. Missed or wrong pairs of (b), with the model's probability "
        "(0 when the pair was not kept: not blocked, or the record has a better pair with the "
        "same source):",
        "",
    ]
    for error in b["errors"]:
        lines.append(
            f"- AWSD {error[0]} × SiND {error[1]}: p = {error[2]}, labelled {error[3]} ({error[4]})"
        )
    lines += [
        "",
        "How these were made, so they can be judged: the m/u weights and the threshold were set "
        "by hand before either benchmark was scored. After the first score of (a) (F1 0.947: "
        'AWSD\'s own split records and admin-1 suffixes such as "Lowgar Prefecture"), two '
        "changes were made to the model, not to the data: admin-1 type words (province, region, "
        "state…) are dropped before comparing, and each record keeps only its best pair per "
        "other source. (b) scored F1 0.952 both before and after. The 127 pairs of (b) were "
        "labelled by reading both records side by side (AWSD CSV row, KIKA JSON event), before "
        "the model was run on them; ambiguous pairs (a SiND event that could be either of two "
        "AWSD rows, two SiND events for one AWSD row) were left out rather than guessed. "
        "Incidents dated only to the year are not linked (about 1% of the true pairs of (a)).",
    ]
    for s in report.get("scales") or ([report["scale"]] if report.get("scale") else []):
        lines += [
            "",
            f"### Scale: {s['records']:,} incidents",
            "",
            f"AWSD rows re-dated at random within ±12 years in their country, half of them "
            f"with a noisy copy (a third of all records are copies); {s['blocked_pairs']:,} pairs "
            f"pass the blocking rules. Baseline: the bare blocking join counted by DuckDB, "
            f"{s['blocking_join_s']} s. The machine was shared (see the load average): wall "
            "seconds depend on what else ran; CPU seconds (this process and Spark's JVM) less so.",
            "",
            "| engine | seconds | CPU seconds | pairs proposed | × blocking join | target |",
            "| --- | ---: | ---: | ---: | ---: | --- |",
        ]
        for name in report["engines"]:
            if name in s:
                r = s[name]
                met = "met" if r["seconds"] <= TARGETS["million_seconds"] else "**missed**"
                target = f"{met} (≤ 600 s at 1,000,000)" if s["records"] >= 1_000_000 else "—"
                lines.append(
                    f"| {name} | {r['seconds']} | {r.get('cpu_seconds', '—')} | {r['pairs']:,} | "
                    f"{r['x_blocking_join']} | {target} |"
                )
    if report.get("end_to_end"):
        e = report["end_to_end"]
        lines += [
            "",
            f"End to end (`salama link` on a fresh SQLite database of {e['incidents']:,} "
            f"incidents from `salama generate`, half re-labelled as a second source): "
            f"**{e['link_s']} s** (reading the database in bulk, linking, storing the pairs); "
            f"`salama generate` took {e['generate_s']} s. Output: `{e['output']}`",
        ]
    lines.append("")
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    start = text.find(SECTION + "\n")
    if start >= 0:
        end = text.find("\n## ", start + len(SECTION))
        text = text[:start] + "\n".join(lines) + ("\n" + text[end + 1 :] if end >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + "\n".join(lines)
    DOC.write_text(text, encoding="utf-8")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100,000 incidents for the scale run")
    parser.add_argument("--scale", type=int, help="incidents for the scale run (0: none)")
    parser.add_argument("--engines", default="duckdb", help="duckdb,spark")
    parser.add_argument(
        "--end-to-end",
        action="store_true",
        help="also time salama link on a generated SQLite database",
    )
    parser.add_argument("--no-doc", action="store_true", help="do not touch docs/benchmarks.md")
    parser.add_argument(
        "--doc-from", metavar="JSON", help="only rewrite the doc section from a saved result"
    )
    args = parser.parse_args(argv)
    if args.doc_from:
        return write_doc(json.loads(Path(args.doc_from).read_text(encoding="utf-8")))
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    size = args.scale if args.scale is not None else (100_000 if args.quick else 1_000_000)
    OUT.mkdir(parents=True, exist_ok=True)
    setup_django()
    from salama.linkage import engine

    began = time.perf_counter()
    report = {
        "machine": machine(),
        "command": "bench/linkage.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "engines": engines,
        "window_days": engine.WINDOW_DAYS,
        "threshold": engine.DEFAULT_THRESHOLD,
    }
    spark = spark_session() if "spark" in engines else None
    try:
        report["quality"] = quality(engines, spark)
        if size:
            report["scale"] = scale(size, engines, spark)
        if args.end_to_end and size:
            report["end_to_end"] = end_to_end(size)
    finally:
        if spark is not None:
            spark.stop()
    report["load_after"] = [round(x, 2) for x in os.getloadavg()]
    report["minutes"] = round((time.perf_counter() - began) / 60, 1)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    (OUT / f"linkage-{stamp}.json").write_text(json.dumps(report, indent=2, default=str))
    print(json.dumps(report, default=str))
    if not args.no_doc:
        write_doc(report)


if __name__ == "__main__":
    main()
