"""Synthetic incidents for demos, load tests and benchmarks, shaped like the real thing.

Distributions (countries, places, dates, means of attack, victims by impact, recruitment and
gender) come from the Aid Worker Security Database and are shipped as
``data/synthetic_distributions.json``, so generating needs no CSV. What AWSD does not record
(crime, safety incidents, markings, workflow) comes from the "assumptions" section of the
same file. Rebuild it with ``salama generate --write-distributions AWSD.csv``.

Every synthetic incident is labelled: its reference starts with ``SYN-``, it has a Source with
system "synthetic", its narrative ends with "(Synthetic record.)", and by default it belongs
to the organisation "Synthetic data (generated)".

Speed (the aim is 20,000 incidents/s into SQLite; docs/benchmarks.md has what it gets) comes
from raw ``executemany`` (SQLite) or ``COPY`` (PostgreSQL) in large batches, one transaction
per batch, with incident ids reserved up front so persons and sources can point at them without
reading anything back. Most of the time is the databases' own work: SQLite's B-trees for the
incident's indexes, PostgreSQL's trigram indexes. SQLite's text-search index is deferred
(``search_index``): the run's ids go to its backlog and are indexed after the last batch,
timed apart (``index_seconds``); the incidents are searchable throughout.
"""

import bisect
import calendar
import contextlib
import csv
import datetime
import itertools
import json
import random
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from salama.core import audit
from salama.core.forked import Forked
from salama.incidents import choices as c
from salama.incidents import search_index
from salama.incidents.models import AffectedPerson, Incident, RoadCrash, Source
from salama.organisations.choices import OrganisationType
from salama.organisations.models import Organisation

DISTRIBUTIONS = Path(__file__).parent / "data" / "synthetic_distributions.json"
SYSTEM = "synthetic"
REFERENCE_PREFIX = "SYN-"
ORGANISATION_ACRONYM = "SYNTHETIC"
ORGANISATION_NAME = "Synthetic data (generated)"
DEFAULT_BATCH_SIZE = 50_000
# From this many incidents, a forked process draws while this one writes (two cores busy).
PARALLEL_FROM = 100_000

INCIDENT_FIELDS = (
    "id",
    "reference",
    "status",
    "submitted_at",
    "endorsed_at",
    "closed_at",
    "date",
    "date_precision",
    "time",
    "country",
    "admin1",
    "admin2",
    "place",
    "latitude",
    "longitude",
    "coordinate_precision",
    "coordinate_check",
    "location_type",
    "category",
    "subcategory",
    "means_of_attack",
    "attack_context",
    "perpetrator_type",
    "perpetrator_name",
    "motive",
    "premises_hit",
    "vehicles_hit",
    "supplies_hit",
    "health_facility_hit",
    "narrative",
    "verification",
    "marking",
)
PERSON_FIELDS = (
    "incident_id",
    "count",
    "impact",
    "cause",
    "recruitment",
    "gender",
    "organisation_type",
    "killed_in_captivity",
)
SOURCE_FIELDS = ("incident_id",)
CRASH_FIELDS = (
    "incident_id",
    "vehicle_owner",
    "vehicle_type",
    "driver_category",
    "seatbelt_worn",
    "speed_related",
    "light_condition",
    "third_party_killed",
    "third_party_seriously_injured",
    "third_party_slightly_injured",
)


class GenerationError(Exception):
    """The generation cannot start (e.g. this seed was already generated here)."""


@dataclass
class GenerateResult:
    """What one run of :func:`generate` wrote."""

    seed: int
    organisation: str
    incidents: int = 0
    persons: int = 0
    sources: int = 0
    road_crashes: int = 0
    seconds: float = 0.0  # writing only; the rate is over this
    analyze_seconds: float = 0.0
    index_seconds: float = 0.0  # SQLite's search index catching up, after the writing
    first_reference: str = ""
    last_reference: str = ""
    database: str = ""

    @property
    def incidents_per_second(self) -> float:
        return self.incidents / self.seconds if self.seconds else 0.0

    def report(self) -> dict:
        return asdict(self) | {"incidents_per_second": round(self.incidents_per_second)}


@cache
def distributions() -> dict:
    return json.loads(DISTRIBUTIONS.read_text(encoding="utf-8"))


def reference(seed: int, number: int) -> str:
    """The reference of the ``number``-th (1-based) incident generated with ``seed``."""
    return f"{REFERENCE_PREFIX}{seed}-{number:07d}"


def synthetic_organisation() -> Organisation:
    organisation, _ = Organisation.objects.get_or_create(
        acronym=ORGANISATION_ACRONYM,
        defaults={"name": ORGANISATION_NAME, "type": OrganisationType.OTHER},
    )
    return organisation


def _sampler(rng: random.Random, weighted: dict | list) -> Callable[[], object]:
    """A function drawing one value by weight: ``{value: weight}`` or ``[[value, weight]]``."""
    pairs = list(weighted.items()) if isinstance(weighted, dict) else list(weighted)
    values = [value for value, _ in pairs]
    cumulative, total = [], 0.0
    for _, weight in pairs:
        total += weight
        cumulative.append(total)
    if len(values) == 1:
        only = values[0]
        return lambda: only
    rnd, find = rng.random, bisect.bisect_right
    # bisect_right on total * random() in [0, total) never returns len(values).
    return lambda: values[find(cumulative, rnd() * total)]


def _tuple_keys(weighted: dict) -> dict:
    return {tuple(key.split("|")): weight for key, weight in weighted.items()}


class IncidentFactory:
    """Draws synthetic incidents, with their persons, source and road-crash facts, as rows.

    Nothing here touches the database; :func:`generate` writes what this returns. Two
    factories with the same seed and count return the same rows in the same order, earliest
    incident first. Everything that can
    be is worked out once here (phrases, places with their text, joint samplers over
    independent draws), because :meth:`draw` runs a million times.
    """

    def __init__(self, seed: int, count: int, *, vendor: str = "sqlite", now=None):
        self.seed = seed
        self.rng = rng = random.Random(seed)
        d = distributions()
        a = d["assumptions"]
        words = self.words = a["phrases"]
        self.templates = a["narratives"]
        # Django stores SQLite datetimes as naive UTC text; PostgreSQL wants the offset.
        self.tz = "+00:00" if vendor == "postgresql" else ""
        now = now or timezone.now()
        self.phrase_cache: dict = {}

        # When: year, month and precision are drawn together, in date order (see below).
        first_year, last_year = min(map(int, d["years"])), max(map(int, d["years"]))
        self.first_ordinal = datetime.date(first_year, 1, 1).toordinal()
        days = datetime.date(last_year, 12, 31).toordinal() + 400 - self.first_ordinal
        self.date_text = [
            datetime.date.fromordinal(self.first_ordinal + i).isoformat() for i in range(days)
        ]
        self.latest = now.date().toordinal() - self.first_ordinal
        total_months = sum(d["months"].values())
        dates = []
        for year, year_weight in d["years"].items():
            for precision, precision_weight in d["date_precision"].items():
                months = {"1": total_months} if precision == "year" else d["months"]
                for month, month_weight in months.items():
                    start = datetime.date(int(year), int(month), 1)
                    length = (
                        1 if precision != "day" else calendar.monthrange(*start.timetuple()[:2])[1]
                    )
                    weight = year_weight * precision_weight * month_weight
                    dates.append(
                        ((start.toordinal() - self.first_ordinal, length, precision), weight)
                    )
        order = {"year": 0, "month": 1, "day": 2}
        dates.sort(key=lambda entry: (entry[0][0], order[entry[0][2]]))
        self.date_entries = [entry for entry, _ in dates]
        self.date_cumulative = list(itertools.accumulate(weight for _, weight in dates))
        self.dates = self._chronological_dates(count, seed)
        self.time_share = a["time_share"]

        # Who owns the record and how far it went: independent, so drawn as one product.
        self.workflow = _sampler(
            rng,
            [
                ((marking, status, org_type, words["organisation_type"][org_type]), mw * sw * ow)
                for marking, mw in a["markings"].items()
                for status, sw in a["statuses"].items()
                for org_type, ow in d["organisation_types"].items()
            ],
        )
        cutoff = a["verification"]["archived_before"]
        self.verification_cutoff = self.date_text.index(f"{cutoff}-01-01")
        self.verification_old = _sampler(rng, a["verification"]["before"])
        self.verification_new = _sampler(rng, a["verification"]["after"])

        # Where: places carry their text ("Jalalabad, Nangarhar, Afghanistan").
        self.kind = _sampler(rng, a["kinds"])
        self.country = _sampler(rng, d["countries"])
        self.coordinates_share = a["coordinates_share"]
        names = _country_names(tuple(d["countries"]))
        self.places = {}
        for code, places in d["places"].items():
            options = []
            for admin1, admin2, place, lat, lon, check, precision, weight in places:
                where = ", ".join(dict.fromkeys(p for p in (place, admin1, names[code]) if p))
                options.append(((admin1, admin2, place, lat, lon, check, precision, where), weight))
            self.places[code] = _sampler(rng, options)

        # What: major attacks (AWSD), crime and safety (assumptions).
        labels = {
            code: str(label).split(": ")[-1].lower() for code, label in c.PerpetratorType.choices
        }
        self.perpetrators = {}
        for code, weights in d["perpetrators"].items():
            options = []
            for (kind, name), weight in _tuple_keys(weights).items():
                said = name or (labels[kind] if kind != "unknown" else "")
                options.append(((kind, name, f" Attributed to {said}." if said else ""), weight))
            self.perpetrators[code] = _sampler(rng, options)
        overrides = a["impact_overrides"]
        victims = {
            means: _sampler(
                rng,
                [
                    (self._victims(tuple(p[:-1]), overrides["means"].get(means)), p[-1])
                    for p in profiles
                ],
            )
            for means, profiles in d["victims_by_means"].items()
        }
        subcategories = {
            means: _sampler(rng, weights) for means, weights in a["subcategory_by_means"].items()
        }
        hits = self.hits = a["hits"]
        shapes = []
        for (means, context, location, motive), weight in _tuple_keys(d["attack_shapes"]).items():
            shape = (
                means,
                context,
                location,
                motive,
                subcategories[means],
                victims[means],
                overrides["attack_context"].get(context),
                hits.get(location, {}).get("premises", 0),
                hits.get(location, {}).get("vehicles", 0),
                hits["supplies_if_economic"] if motive == "economic" else 0,
                words["means_of_attack"][means],
                words["attack_context"][context],
                words["location_type"][location],
            )
            shapes.append((shape, weight))
        self.shape = _sampler(rng, shapes)
        self.crime = {k: _sampler(rng, v) for k, v in a["crime"].items()}
        self.safety = {k: _sampler(rng, v) for k, v in a["safety"].items()}
        self.crash = [_sampler(rng, a["road_crash"][f]) for f in CRASH_FIELDS[1:]]
        self.recruitment = _sampler(rng, d["recruitment"])
        self.gender = _sampler(rng, d["gender"])

    def _chronological_dates(self, count: int, seed: int):
        """(day offset, precision) of ``count`` incidents, earliest first.

        A real database fills up over time, so its ids follow the dates (which matters to how
        fast date-ordered pages read). These are the order statistics of ``count`` draws from
        the date distribution, made one at a time from sums of exponential spacings, so no list
        of a million dates is ever held. Their own random stream keeps the rest independent.
        """
        spacings = random.Random(f"dates-{seed}")
        total = sum(spacings.expovariate(1) for _ in range(count + 1))
        spacings.seed(f"dates-{seed}")
        cumulative, entries = self.date_cumulative, self.date_entries
        scale = cumulative[-1] / total
        reached = 0.0
        for _ in range(count):
            reached += spacings.expovariate(1)
            target = reached * scale
            k = min(bisect.bisect_right(cumulative, target), len(entries) - 1)
            start, length, precision = entries[k]
            if precision == "day":
                below = cumulative[k - 1] if k else 0.0
                within = (target - below) / (cumulative[k] - below)
                start = min(start + int(within * length), self.latest)
            yield start, precision

    def _victims(self, profile: tuple, overrides: dict | None):
        """(cells, gender, gender pool) of an AWSD victims profile; a cell is (impact,
        recruitment, n). ``gender`` is set when everyone shares it, else the pool is shuffled."""
        nk, nw, nkid, ik, iw, ikid, male, female, unknown = profile
        overrides = overrides or {}
        cells = tuple(
            (overrides.get(impact, impact), recruitment, n)
            for impact, recruitment, n in (
                ("killed", "national", nk),
                ("injured", "national", nw),
                ("abducted", "national", nkid),
                ("killed", "international", ik),
                ("injured", "international", iw),
                ("abducted", "international", ikid),
            )
            if n
        )
        pool = ("male",) * male + ("female",) * female + ("unknown",) * unknown
        gender = pool[0] if len(set(pool)) == 1 else None
        return cells, gender, pool

    def _phrase(self, cells: tuple) -> str:
        """The victims in words: "2 national staff killed and 1 international staff injured"."""
        phrase = self.phrase_cache.get(cells)
        if phrase is None:
            words = self.words
            parts = [
                f"{n} {words['recruitment'][recruitment]} staff {words['impact'][impact]}"
                for impact, recruitment, n in cells
            ]
            phrase = (
                ", ".join(parts[:-1]) + " and " + parts[-1]
                if len(parts) > 1
                else (parts[0] if parts else words["no_victims"])
            )
            self.phrase_cache[cells] = phrase
        return phrase

    def _people(self, impacts, count: int):
        """``count`` people drawn one by one (crime, safety): (cells, gender, pool)."""
        if count == 1:
            return ((impacts(), self.recruitment(), 1),), self.gender(), ()
        drawn = Counter((impacts(), self.recruitment(), self.gender()) for _ in range(count))
        cells = Counter()
        pool = []
        for (impact, recruitment, gender), n in sorted(drawn.items()):
            cells[impact, recruitment] += n
            pool += [gender] * n
        return tuple((i, r, n) for (i, r), n in sorted(cells.items())), None, tuple(pool)

    def _persons(self, incident_id, cells, gender, pool, org_type, cause, captivity) -> list:
        """Person rows; ``captivity`` (a kidnap-killing) marks the killed ones only."""
        if gender is not None:
            return [
                (
                    incident_id,
                    n,
                    impact,
                    cause,
                    recruitment,
                    gender,
                    org_type,
                    captivity and impact == "killed",
                )
                for impact, recruitment, n in cells
            ]
        pool = list(pool)
        self.rng.shuffle(pool)
        people = Counter()
        at = 0
        for impact, recruitment, n in cells:
            for person_gender in pool[at : at + n]:
                people[impact, recruitment, person_gender] += 1
            at += n
        return [
            (
                incident_id,
                n,
                impact,
                cause,
                recruitment,
                person_gender,
                org_type,
                captivity and impact == "killed",
            )
            for (impact, recruitment, person_gender), n in sorted(people.items())
        ]

    def draw(self, incident_id: int, number: int):
        """One incident row, its person rows, its source row and its road-crash row (or None)."""
        rnd = self.rng.random
        kind = self.kind()
        country = self.country()
        admin1, admin2, place, lat, lon, check, coord_precision, where = self.places[country]()
        if lat is not None and rnd() >= self.coordinates_share:
            lat = lon = None
        if lat is None:
            check = coord_precision = ""
        offset, precision = next(self.dates)
        when = None
        if precision == "day" and rnd() < self.time_share:
            when = f"{6 + int(rnd() * 15):02d}:{int(rnd() * 4) * 15:02d}:00"
        marking, status, org_type, org_label = self.workflow()
        premises = vehicles = supplies = health = captivity = False
        perp_type = perp_name = perpetrator = means_text = context_text = ""
        crash = None

        if kind == "major_attack":
            category = cause = "violence"
            (
                means,
                context,
                location,
                motive,
                subcategory,
                victims,
                overrides,
                premises_rate,
                vehicles_rate,
                supplies_rate,
                means_text,
                context_text,
                location_text,
            ) = self.shape()
            subcategory = subcategory()
            perp_type, perp_name, perpetrator = self.perpetrators[country]()
            cells, gender, pool = victims()
            if overrides:
                cells = tuple((overrides.get(i, i), r, n) for i, r, n in cells)
            captivity = means == "kidnap_killing"
            premises = rnd() < premises_rate
            vehicles = rnd() < vehicles_rate
            supplies = rnd() < supplies_rate
            health = rnd() < self.hits["health_facility"]
            templates = self.templates["major_attack"]
        elif kind == "crime":
            category = cause = "violence"
            table = self.crime
            subcategory = table["subcategory"]()
            means, context = table["means_of_attack"](), table["attack_context"]()
            location, motive = table["location_type"](), table["motive"]()
            perp_type = table["perpetrator_type"]()
            cells, gender, pool = self._people(table["impact"], int(table["persons"]()))
            premises = not cells or rnd() < self.hits.get(location, {}).get("premises", 0)
            vehicles = location == "road" and rnd() < 0.5
            supplies = premises and rnd() < 0.5
            location_text = self.words["location_type"][location]
            templates = self.templates["crime"]
        else:
            category = cause = "safety"
            table = self.safety
            subcategory = table["subcategory"]()
            means = context = motive = ""
            location = "road" if subcategory == "road_traffic" else table["location_type"]()
            cells, gender, pool = self._people(table["impact"], int(table["persons"]()))
            if subcategory == "road_traffic":
                vehicles = True
                crash = (incident_id, *(draw() for draw in self.crash))
            premises = subcategory == "fire"
            location_text = self.words["location_type"][location]
            templates = self.templates["safety"][subcategory]

        victims_text = self._phrase(cells)
        narrative = templates[number % len(templates)].format(
            victims=victims_text,
            Victims=victims_text[:1].upper() + victims_text[1:],
            org=org_label,
            means=means_text,
            context=context_text,
            location=location_text,
            where=where,
            perpetrator=perpetrator,
        )
        submitted = endorsed = closed = None
        if status != "draft":
            text, tz = self.date_text, self.tz
            submitted = f"{text[offset + 1 + int(rnd() * 10)]} 09:30:00{tz}"
            if status != "submitted":
                endorsed = f"{text[offset + 12 + int(rnd() * 5)]} 14:00:00{tz}"
            if status == "closed":
                closed = f"{text[offset + 40 + int(rnd() * 300)]} 16:00:00{tz}"
        verification = (
            self.verification_old()
            if offset < self.verification_cutoff
            else self.verification_new()
        )
        incident = (
            incident_id,
            f"{REFERENCE_PREFIX}{self.seed}-{number:07d}",
            status,
            submitted,
            endorsed,
            closed,
            self.date_text[offset],
            precision,
            when,
            country,
            admin1,
            admin2,
            place,
            lat,
            lon,
            coord_precision,
            check,
            location,
            category,
            subcategory,
            means,
            context,
            perp_type,
            perp_name,
            motive,
            premises,
            vehicles,
            supplies,
            health,
            narrative + " (Synthetic record.)",
            verification,
            marking,
        )
        persons = self._persons(incident_id, cells, gender, pool, org_type, cause, captivity)
        return incident, persons, (incident_id,), crash

    def batch(self, ids: Sequence[int], first_number: int):
        """Rows for incidents ``first_number``, ``first_number + 1``, … with ``ids``:
        (incidents, persons, sources, road crashes), each a list of tuples."""
        incidents, persons, sources, crashes = [], [], [], []
        draw = self.draw
        for number, incident_id in enumerate(ids, start=first_number):
            incident, person_rows, source, crash = draw(incident_id, number)
            incidents.append(incident)
            persons += person_rows
            sources.append(source)
            if crash:
                crashes.append(crash)
        return incidents, persons, sources, crashes

    def timestamp(self, moment: datetime.datetime) -> str:
        """``moment`` as the database stores a DateTimeField written as text."""
        return moment.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S") + self.tz


@cache
def _country_names(countries) -> dict:
    from salama.core.geo import country_name

    return {code: country_name(code) for code in countries}


# --- writing ----------------------------------------------------------------------------------


def _literal(value) -> str:
    """An SQLite literal for one of our own constants (never for user input)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool | int):
        return str(int(value))
    # '%' is doubled because Django's SQLite cursor turns '%%' back into '%'.
    return "'" + str(value).replace("'", "''").replace("%", "%%") + "'"


def _insert(cursor, model, fields, rows, constants: dict | None = None) -> None:
    """Write ``rows`` (tuples in ``fields`` order), each with the same ``constants``.

    PostgreSQL: COPY. SQLite: one executemany with the constants written into the statement,
    which saves binding them a million times.
    """
    if not rows:
        return
    constants = constants or {}
    qn, meta = connection.ops.quote_name, model._meta
    table = qn(meta.db_table)
    columns = ", ".join(qn(meta.get_field(name).column) for name in (*fields, *constants))
    if connection.vendor == "postgresql":
        tail = tuple(constants.values())
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row + tail)
    else:
        values = ", ".join(["%s"] * len(fields) + [_literal(v) for v in constants.values()])
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({values})", rows)


def reserve_incident_ids(count: int) -> Sequence[int]:
    """Take ``count`` incident ids that nobody else will use, in their own transaction."""
    table = Incident._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return [row[0] for row in cursor.fetchall()]
        # SQLite AUTOINCREMENT hands out max(rowid, sqlite_sequence) + 1: moving the counter
        # past our range reserves it, even against writers that start after this commits.
        # The write comes first, so the transaction holds the write lock before it reads
        # (a read first could be overtaken by another writer and fail to upgrade its lock).
        qn = connection.ops.quote_name
        cursor.execute(
            "UPDATE sqlite_sequence SET seq = max(seq, "
            f"(SELECT coalesce(max(id), 0) FROM {qn(table)})) + %s WHERE name = %s",
            [count, table],
        )
        if cursor.rowcount == 0:
            cursor.execute(
                "INSERT INTO sqlite_sequence (name, seq) "
                f"SELECT %s, coalesce(max(id), 0) + %s FROM {qn(table)}",
                [table, count],
            )
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        highest = cursor.fetchone()[0] - count
        return range(highest + 1, highest + 1 + count)


def generate(
    count: int,
    seed: int,
    *,
    organisation: Organisation | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_batch: Callable[[int], None] | None = None,
    actor=None,
    parallel: bool | None = None,
) -> GenerateResult:
    """Write ``count`` synthetic incidents drawn with ``seed``; one audit entry for the run.

    Refuses a seed already generated into this database (references would collide). A run
    that fails part-way keeps the batches already committed and records how far it got.
    With ``parallel`` (by default from ``PARALLEL_FROM`` incidents), a forked process draws
    the next batch while this one writes; the rows are the same either way.
    """
    if count < 1:
        raise GenerationError("Give a number of incidents of at least 1.")
    organisation = organisation or synthetic_organisation()
    first, last = reference(seed, 1), reference(seed, count)
    if Incident.objects.filter(reference__in=[first, last]).exists():
        raise GenerationError(
            f"Incidents of seed {seed} are already in this database ({first}); choose another seed."
        )
    now = timezone.now()
    factory = IncidentFactory(seed, count, vendor=connection.vendor, now=now)
    stamp = factory.timestamp(now)
    incident_constants = {
        "organisation_id": organisation.pk,
        "coordinates_obfuscated": False,
        "coordinate_note": "",
        "version": 1,
        "created_at": stamp,
        "updated_at": stamp,
    }
    source_constants = {
        "kind": c.SourceKind.OTHER.value,
        "system": SYSTEM,
        "external_id": "",
        "url": "",
        "note": f"Generated by 'salama generate --seed {seed}'; not a real event.",
        "content_hash": "",
    }
    result = GenerateResult(
        seed=seed,
        organisation=organisation.acronym,
        first_reference=first,
        last_reference=last,
        database=connection.vendor,
    )
    started = time.perf_counter()
    ids = reserve_incident_ids(count)
    try:
        # Rows point only at incidents of their own batch and at an existing organisation, so
        # SQLite's per-row foreign-key look-ups are skipped (Django's loaddata does the same).
        parallel = count >= PARALLEL_FROM if parallel is None else parallel
        drawn = Forked(lambda: _batches(factory, ids, batch_size), enabled=parallel)
        with connection.constraint_checks_disabled(), bigger_page_cache(), drawn:
            for incidents, persons, sources, crashes in drawn:
                with (
                    transaction.atomic(),
                    connection.cursor() as cursor,
                    search_index.deferred(cursor, incidents[0][0], incidents[-1][0]),
                ):
                    _insert(cursor, Incident, INCIDENT_FIELDS, incidents, incident_constants)
                    _insert(cursor, AffectedPerson, PERSON_FIELDS, persons)
                    _insert(cursor, Source, SOURCE_FIELDS, sources, source_constants)
                    _insert(cursor, RoadCrash, CRASH_FIELDS, crashes)
                    result.incidents += len(incidents)
                    result.persons += len(persons)
                    result.sources += len(sources)
                    result.road_crashes += len(crashes)
                    result.seconds = time.perf_counter() - started
                    if result.incidents == count:
                        _record(result, actor)
                if on_batch:
                    on_batch(len(incidents))
        analysing = time.perf_counter()
        refresh_statistics()
        result.analyze_seconds = time.perf_counter() - analysing
        result.index_seconds = search_index.catch_up().seconds
    except BaseException as exc:
        if result.incidents < count:
            result.seconds = time.perf_counter() - started
            _record(result, actor, failed=f"{type(exc).__name__}: {exc}")
        raise
    return result


@contextlib.contextmanager
def bigger_page_cache(kib: int = 256 * 1024):
    """SQLite: a bigger page cache for this connection while it writes, so that the indexes'
    pages stay in memory; the setting is put back afterwards."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = int(cursor.fetchone()[0])
        cursor.execute(f"PRAGMA cache_size = -{int(kib)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {before}")


def refresh_statistics() -> None:
    """ANALYZE the tables just filled. SQLite never gathers statistics by itself, and without
    them it sorts every visible incident for the list instead of reading the date index."""
    tables = [m._meta.db_table for m in (Incident, AffectedPerson, Source, RoadCrash)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE " + ", ".join(map(connection.ops.quote_name, tables)))
        else:
            for table in tables:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


def _batches(factory: IncidentFactory, ids: Sequence[int], batch_size: int):
    for start in range(0, len(ids), batch_size):
        yield factory.batch(ids[start : start + batch_size], first_number=start + 1)


def _record(result: GenerateResult, actor, failed: str = "") -> None:
    after = result.report() | {"system": SYSTEM}
    if failed:
        after["failed"] = failed[:500]
    audit.record(
        "generate",
        actor=actor,
        object_type=Incident._meta.label_lower,
        object_repr=f"{result.incidents} synthetic incidents (seed {result.seed})",
        after=after,
    )


# --- building the distributions from the AWSD CSV ------------------------------------------

AWSD_ALIASES = {
    "vehicle_born_ied": "vehicle_borne_ied",
    "non_state_armed_group_unknown": "nsag_unknown",
    "non_state_armed_group_national": "nsag_national",
    "non_state_armed_group_regional": "nsag_regional",
    "non_state_armed_group_subnational": "nsag_subnational",
    "non_state_armed_group_global": "nsag_global",
    "foreign_or_coalition_forces": "state_foreign",
    "host_state": "state_host",
    "police_or_paramilitary": "state_police",
    "state_unknown": "state_unknown",
    "": "unknown",
}
AWSD_ORGANISATION_COLUMNS = {
    "UN": "un",
    "INGO": "ingo",
    "ICRC": "icrc",
    "NRCS and IFRC": "nrcs_ifrc",
    "NNGO": "nngo",
    "Other": "other",
}
AWSD_VICTIM_COLUMNS = (
    "Nationals killed",
    "Nationals wounded",
    "Nationals kidnapped",
    "Internationals killed",
    "Internationals wounded",
    "Internationals kidnapped",
    "Gender Male",
    "Gender Female",
    "Gender Unknown",
)
NO_NAME = {"", "unknown", "not applicable"}
PLACES_PER_COUNTRY = 60


def _code(label: str, choices) -> str:
    key = re.sub(r"[^a-z0-9]+", "_", label.strip().lower()).strip("_")
    key = AWSD_ALIASES.get(key, key)
    if key not in choices.values:
        raise ValueError(f"AWSD value {label!r} has no {choices.__name__} code")
    return key


def _number(text: str) -> int:
    return int(text.strip() or 0)


def awsd_distributions(path: Path, extra_years: dict | None = None) -> dict:
    """The distributions of the AWSD public CSV at ``path``; ``extra_years`` (year → incidents)
    extends its years beyond what the file covers."""
    from salama.core.geo import check_coordinate

    years, months, precision, countries = Counter(), Counter(), Counter(), Counter()
    places: dict = defaultdict(Counter)
    perpetrators: dict = defaultdict(Counter)
    shapes, org_types, recruitment, gender = Counter(), Counter(), Counter(), Counter()
    victims: dict = defaultdict(Counter)
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        code = row["Country Code"].strip()
        year = _number(row["Year"])
        if not code or not 1990 <= year <= 2100:
            continue  # the Chechnya rows have no country code
        years[str(year)] += 1
        if not row["Month"].strip():
            precision["year"] += 1
        elif not row["Day"].strip():
            precision["month"] += 1
            months[str(_number(row["Month"]))] += 1
        else:
            precision["day"] += 1
            months[str(_number(row["Month"]))] += 1
        countries[code] += 1

        admin1, admin2, city = (row[k].strip() for k in ("Region", "District", "City"))
        lat, lon = row["Latitude"].strip(), row["Longitude"].strip()
        point = [None, None, "", ""]
        if lat and lon:
            lat, lon = round(float(lat), 4), round(float(lon), 4)
            status = check_coordinate(code, lat, lon).status
            if status in ("inside", "near_border"):
                level = "place" if city else "admin2" if admin2 else "admin1" if admin1 else ""
                point = [lat, lon, status, level or "country"]
        places[code][admin1, admin2, city or admin2 or admin1, *point] += 1

        means = _code(row["Means of attack"], c.MeansOfAttack)
        context = _code(row["Attack context"], c.AttackContext)
        location = _code(row["Location"], c.LocationType)
        motive = _code(row["Motive"], c.Motive)
        shapes[f"{means}|{context}|{location}|{motive}"] += 1
        actor = _code(row["Actor type"], c.PerpetratorType)
        name = row["Actor name"].strip()
        name = "" if name.lower() in NO_NAME else name
        perpetrators[code][f"{actor}|{name}"] += 1
        profile = tuple(_number(row[k]) for k in AWSD_VICTIM_COLUMNS)
        victims[means][profile] += 1

        by_type = {t: _number(row[col]) for col, t in AWSD_ORGANISATION_COLUMNS.items()}
        org_types[max(by_type, key=by_type.get) if any(by_type.values()) else "unknown"] += 1
        recruitment["national"] += sum(profile[0:3])
        recruitment["international"] += sum(profile[3:6])
        gender["male"] += profile[6]
        gender["female"] += profile[7]
        gender["unknown"] += profile[8]

    years.update(extra_years or {})
    return {
        "source": (
            f"Computed from {Path(path).name} ({len(rows)} rows), Humanitarian Outcomes, "
            "Aid Worker Security Database, aidworkersecurity.org; see 'assumptions' for "
            "everything AWSD does not record. Rebuild: salama generate --write-distributions"
        ),
        "years": dict(sorted(years.items())),
        "months": dict(sorted(months.items(), key=lambda kv: int(kv[0]))),
        "date_precision": dict(precision.most_common()),
        "countries": dict(countries.most_common()),
        "places": {code: _top_places(counter) for code, counter in sorted(places.items())},
        "perpetrators": {
            code: dict(counter.most_common()) for code, counter in sorted(perpetrators.items())
        },
        "attack_shapes": dict(shapes.most_common()),
        "victims_by_means": {
            means: [[*profile, n] for profile, n in counter.most_common()]
            for means, counter in sorted(victims.items())
        },
        "organisation_types": dict(org_types.most_common()),
        "recruitment": dict(recruitment.most_common()),
        "gender": dict(gender.most_common()),
    }


def _top_places(counter: Counter, keep: int = PLACES_PER_COUNTRY) -> list:
    """The ``keep`` most frequent named places, each with its most frequent valid point."""
    by_name: dict = defaultdict(Counter)
    for (admin1, admin2, place, *point), n in counter.items():
        by_name[admin1, admin2, place][tuple(point)] += n
    ranked = []
    for name, points in by_name.items():
        valid = [(n, point) for point, n in points.items() if point[0] is not None]
        point = max(valid)[1] if valid else (None, None, "", "")
        ranked.append((-sum(points.values()), name, point))
    return [[*name, *point, -n] for n, name, point in sorted(ranked)[:keep]]


def write_distributions(path: Path, out: Path = DISTRIBUTIONS) -> Path:
    """Recompute the AWSD part of the shipped distributions; keep the shipped assumptions."""
    assumptions = json.loads(DISTRIBUTIONS.read_text(encoding="utf-8"))["assumptions"]
    data = awsd_distributions(path, assumptions["extra_years"])
    data["assumptions"] = assumptions
    # One line per top-level entry (per country for places): readable diffs, small file.
    lines = ["{"]
    for i, (key, value) in enumerate(data.items()):
        comma = "," if i < len(data) - 1 else ""
        if key in ("places", "victims_by_means", "perpetrators", "assumptions"):
            inner = [
                f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in value.items()
            ]
            lines.append(f"  {json.dumps(key)}: {{\n  " + ",\n  ".join(inner) + f"\n  }}{comma}")
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}{comma}")
    lines.append("}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    distributions.cache_clear()
    return out
