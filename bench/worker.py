"""What a benchmark runs inside its own process, against the database in DATABASE_URL.

``python bench/worker.py import FILE`` times ``run_import("awsd", FILE)``;
``python bench/worker.py list --requests 30 --warmup 5`` times the incident list page with
Django's test client. Each prints one JSON object on its last line of output.
"""

import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salama.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

# The list's filters and search, as GET parameters of incidents:list (see IncidentFilterForm).
SCENARIOS = {
    "no filters": {},
    "country + period + sub-category + search": {
        "country": "AF",
        "date_from": "2015-01-01",
        "date_to": "2020-12-31",
        "subcategory": "armed_conflict",
        "q": "Kabul",
    },
    "search only (a place name)": {"q": "Jalalabad"},
    "search with no match (worst case)": {"q": "Timbuktoo"},
}
# The same page for an analyst of an organisation that receives a full sharing agreement from
# the incidents' owner, for one country: the door's TLP:AMBER branch with a grant.
PARTNER = "partner under a full agreement (AF): "
PARTNER_SCENARIOS = {
    name: SCENARIOS[name] for name in ("no filters", "country + period + sub-category + search")
}


def import_file(path: str) -> dict:
    from salama.interchange import formats
    from salama.interchange.runner import run_import
    from salama.organisations.models import Organisation

    default = formats.get("awsd").DEFAULT_ORGANISATION
    organisation, _ = Organisation.objects.get_or_create(
        acronym=default["acronym"], defaults={"name": default["name"], "type": default["type"]}
    )
    started = time.perf_counter()
    batch = run_import("awsd", path, organisation=organisation)
    seconds = time.perf_counter() - started
    # The runner reads and converts in a forked child (see runner._Conversions): its peak
    # memory is reported beside this process's, and the two are added up against the target.
    own = resource.getrusage(resource.RUSAGE_SELF)
    reader = resource.getrusage(resource.RUSAGE_CHILDREN)
    return batch.report() | {
        "seconds": seconds,
        "rows_per_second": batch.rows_read / seconds,
        "writer_peak_rss_mb": round(peak_of_this_program_kib() / 1024, 1),
        "reader_peak_rss_mb": round(reader.ru_maxrss / 1024, 1),
        "writer_cpu_s": round(own.ru_utime + own.ru_stime, 1),
        "reader_cpu_s": round(reader.ru_utime + reader.ru_stime, 1),
    }


def peak_of_this_program_kib() -> int:
    """This process's peak RSS since it started this program (VmHWM).

    Not ``getrusage``: Linux carries a process's peak across ``exec``, so a worker started by
    a large parent (the benchmark, after DuckDB) would report the parent's size.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def list_pages(requests: int, warmup: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from salama.incidents.models import Incident
    from salama.organisations.choices import OrganisationType, Role
    from salama.organisations.models import Membership, Organisation

    # An analyst of an organisation that owns none of the incidents: sees GREEN and CLEAR.
    organisation, _ = Organisation.objects.get_or_create(
        acronym="BENCH", defaults={"name": "Benchmark readers", "type": OrganisationType.OTHER}
    )
    user, _ = get_user_model().objects.get_or_create(username="bench_analyst")
    Membership.objects.get_or_create(user=user, organisation=organisation, role=Role.ANALYST)
    url = reverse("incidents:list")
    results = {"incidents": Incident.objects.count(), "scenarios": {}}
    partner = _partner()
    personas = [(user, "", SCENARIOS), (partner, PARTNER, PARTNER_SCENARIOS)]
    for reader, prefix, scenarios in personas:
        client = Client()
        client.force_login(reader)
        for name, params in scenarios.items():
            results["scenarios"][prefix + name] = _time_page(client, url, params, requests, warmup)
    return results


def _partner():
    """An analyst of "BENCH-SLT", which receives the synthetic incidents' owner's TLP:AMBER
    incidents in Afghanistan under a full agreement (made by the two sides' admins)."""
    from django.contrib.auth import get_user_model

    from salama.incidents.synthetic import synthetic_organisation
    from salama.organisations.choices import OrganisationType, Role
    from salama.organisations.models import Membership, Organisation
    from salama.sharing import agreements
    from salama.sharing.models import Agreement

    User = get_user_model()
    owner = synthetic_organisation()
    partner, _ = Organisation.objects.get_or_create(
        acronym="BENCH-SLT", defaults={"name": "Benchmark partner", "type": OrganisationType.INGO}
    )
    admins = []
    for username, organisation in (("bench_owner_admin", owner), ("bench_slt_admin", partner)):
        admin, _ = User.objects.get_or_create(username=username)
        Membership.objects.get_or_create(user=admin, organisation=organisation, role=Role.ORG_ADMIN)
        admins.append(admin)
    if not Agreement.objects.filter(provider=owner, recipient=partner).exists():
        made = agreements.propose(
            owner, partner, level="full", purpose="benchmark", by=admins[0], countries=["AF"]
        )
        agreements.accept(made, by=admins[1])
    reader, _ = User.objects.get_or_create(username="bench_slt_analyst")
    Membership.objects.get_or_create(user=reader, organisation=partner, role=Role.ANALYST)
    return reader


def _time_page(client, url, params, requests: int, warmup: int) -> dict:
    """p50 / p95 / max of the page's server time after ``warmup`` requests, and what one
    request's SQL costs."""
    for _ in range(warmup):
        assert client.get(url, params).status_code == 200
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url, params)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.get(url, params)
        total = (time.perf_counter() - started) * 1000
    sql = sum(float(q["time"]) for q in queries.captured_queries) * 1000
    slowest = max(queries.captured_queries, key=lambda q: float(q["time"]))
    return {
        "params": params,
        "p50_ms": statistics.median(times),
        "p95_ms": percentile(times, 0.95),
        "max_ms": max(times),
        "requests": requests,
        "rows_on_page": response.content.count(b'class="status status-'),
        "queries": len(queries.captured_queries),
        "sql_ms": sql,
        "sample_ms": total,
        "slowest_sql_ms": float(slowest["time"]) * 1000,
        "slowest_sql": slowest["sql"][:2000],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    importing = commands.add_parser("import")
    importing.add_argument("path")
    listing = commands.add_parser("list")
    listing.add_argument("--requests", type=int, default=30)
    listing.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()
    if args.command == "import":
        result = import_file(args.path)
    else:
        result = list_pages(args.requests, args.warmup)
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
