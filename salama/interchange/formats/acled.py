"""ACLED event exports (CSV, the standard columns), and a synthetic file in their layout.

ACLED (Armed Conflict Location & Event Data) records political violence and protest events
worldwide: ``event_id_cnty``, ``event_date`` (``9-May-20`` or ``2020-05-09``),
``time_precision``, ``event_type`` / ``sub_event_type``, ``actor1`` with its ``inter1`` code,
``iso`` (numeric) / ``iso3`` / ``country``, ``admin1``–``admin3``, ``location``, coordinates with
``geo_precision``, ``notes``, ``fatalities``.

Each event becomes one incident owned by the importing organisation, marked TLP:AMBER (ACLED's
terms forbid passing its data on) and closed. ACLED's fatalities are of anyone, not aid workers:
they are not stored as affected persons (that would count them in the aid-worker figures) but
written in the narrative with the notes. Time precision 2 (the week) keeps the day ACLED gives
with a note; 3 (the month) becomes month precision. "Strategic developments" are not incidents
of violence: quarantined (``not_an_incident``) for a person to decide.

ACLED's terms forbid shipping its data, so the project's tests and benchmarks use
:func:`write_synthetic`: a file in the same layout, with made-up events.
"""

import csv
import datetime
import random

import pycountry

from salama.core.markings import TLP
from salama.incidents import choices as c
from salama.interchange.formats import Context, Facts, Reading, Reject, Vocabulary, load_data
from salama.interchange.formats.kika import (
    Problem,
    coded,
    country_of,
    event_date,
    place,
    text,
)
from salama.interchange.reading import (
    ValueProblem,
    missing_columns,
    parse_count,
    refuse_layout,
    tabular_reading,
)
from salama.organisations.choices import OrganisationType

NAME = "acled"
SOURCE_SYSTEM = "acled"
STATUS = c.Status.CLOSED
DEFAULT_ORGANISATION = {
    "acronym": "ACLED",
    "name": "Armed Conflict Location & Event Data (ACLED)",
    "type": OrganisationType.OTHER,
}

COLUMNS = [
    "data_id",
    "iso",
    "event_id_cnty",
    "event_id_no_cnty",
    "event_date",
    "year",
    "time_precision",
    "event_type",
    "sub_event_type",
    "actor1",
    "assoc_actor_1",
    "inter1",
    "actor2",
    "assoc_actor_2",
    "inter2",
    "interaction",
    "region",
    "country",
    "admin1",
    "admin2",
    "admin3",
    "location",
    "latitude",
    "longitude",
    "geo_precision",
    "source",
    "source_scale",
    "notes",
    "fatalities",
    "timestamp",
    "iso3",
]
REQUIRED = [
    "event_id_cnty",
    "event_date",
    "event_type",
    "sub_event_type",
    "actor1",
    "country",
    "latitude",
    "longitude",
    "fatalities",
]

_DATA = load_data("acled/crosswalk.json")
SUBCATEGORIES = Vocabulary(_DATA["subcategory"], c.SubCategory.values)
NOT_VIOLENT = {name.casefold() for name in _DATA["not_violent"]}
MEANS = Vocabulary(_DATA["means_of_attack"], [*c.MeansOfAttack.values, ""])
CONTEXTS = Vocabulary(_DATA["attack_context"], [*c.AttackContext.values, ""])
PERPETRATORS = Vocabulary(_DATA["perpetrator_type"], c.PerpetratorType.values)
GEO_PRECISION = Vocabulary(_DATA["geo_precision"], c.CoordinatePrecision.values)
TIME_PRECISION = _DATA["time_precision"]


def sniff(table) -> str:
    missing = missing_columns(table.header, REQUIRED)
    if missing:
        raise refuse_layout("an ACLED export", missing)
    return "acled_csv" if table.kind == "csv" else "acled_xlsx"


def read_file(path, sheet=None, **options) -> Reading:
    return tabular_reading(path, sniff, sheet=sheet)


def _country(raw: dict, eid: str) -> str:
    numeric = text(raw, "iso")
    if numeric.isdigit():
        found = pycountry.countries.get(numeric=numeric.zfill(3))
        if found is not None:
            return found.alpha_2
    return country_of(text(raw, "iso3"), text(raw, "country"), eid)


def to_facts(raw: dict, layout: str, context: Context) -> Facts | Reject:
    """One ACLED event as incident facts, or the reason it cannot be one."""
    eid = text(raw, "event_id_cnty", 100)
    if not eid:
        return Reject("missing_id", "The row has no event_id_cnty.")
    event_type = text(raw, "event_type")
    if event_type.casefold() in NOT_VIOLENT:
        return Reject(
            "not_an_incident",
            f"Event {eid}: {event_type!r} is not an incident of violence; not imported.",
        )
    notes: list[tuple[str, str]] = []
    try:
        when = event_date(raw.get("event_date"), eid, context, day_first=True)
        country = _country(raw, eid)
        precision = coded(text(raw, "geo_precision"), GEO_PRECISION, "geo_precision", eid, notes)
        where = place(raw, "latitude", "longitude", country, eid, context, notes, precision)
        try:
            fatalities = parse_count(raw.get("fatalities"))
        except ValueProblem as exc:
            raise Problem("invalid_number", f"Event {eid}: fatalities: {exc}") from None
    except Problem as problem:
        return problem.reject
    date, date_precision = when.date, when.precision
    time_precision = TIME_PRECISION.get(text(raw, "time_precision"), "day")
    if time_precision == "month" and date_precision == c.DatePrecision.DAY:
        date, date_precision = date.replace(day=1), c.DatePrecision.MONTH
    elif text(raw, "time_precision") == "2":
        notes.append(("date_within_week", f"Event {eid}: ACLED dates it within a week."))
    subcategory = (
        coded(event_type, SUBCATEGORIES, "event_type", eid, notes, "violence_unknown")
        or c.SubCategory.VIOLENCE_UNKNOWN
    )
    sub_event = text(raw, "sub_event_type")
    narrative = text(raw, "notes", 19000)
    if fatalities:
        narrative += f" [ACLED: {fatalities} fatalities reported, not necessarily aid workers.]"
    fields = {
        "date": date,
        "date_precision": date_precision,
        "country": country,
        "admin1": text(raw, "admin1", 120),
        "admin2": text(raw, "admin2", 120),
        "place": text(raw, "location", 200),
        **where,
        "location_type": c.LocationType.UNKNOWN,
        "category": c.CATEGORY_OF[subcategory],
        "subcategory": subcategory,
        "means_of_attack": coded(sub_event, MEANS, "sub_event_type", eid, notes),
        # Most sub-event types say nothing of the context: blank, without a note.
        "attack_context": CONTEXTS.get(sub_event) or "",
        "perpetrator_type": coded(text(raw, "inter1"), PERPETRATORS, "inter1", eid, notes),
        "perpetrator_name": text(raw, "actor1", 200),
        "narrative": narrative.strip(),
        "verification": c.Verification.UNVERIFIED,
        "marking": TLP.AMBER,
    }
    return Facts(
        external_id=eid,
        fields=fields,
        sources=[{"kind": c.SourceKind.ACLED, "system": SOURCE_SYSTEM, "external_id": eid}],
        notes=notes,
    )


# -- a synthetic file in ACLED's layout (ACLED's own data may not be shipped) --------------

SYNTHETIC_PLACES = [
    # country, iso numeric, iso3, admin1, place, latitude, longitude
    ("South Sudan", 728, "SSD", "Central Equatoria", "Juba", 4.85, 31.58),
    ("Yemen", 887, "YEM", "Sanaa", "Sanaa", 15.35, 44.2),
    ("Mali", 466, "MLI", "Mopti", "Mopti", 14.49, -4.19),
    ("Afghanistan", 4, "AFG", "Kabul", "Kabul", 34.53, 69.17),
    ("Colombia", 170, "COL", "Cauca", "Popayan", 2.44, -76.61),
    ("Democratic Republic of Congo", 180, "COD", "North Kivu", "Goma", -1.68, 29.22),
    ("Syria", 760, "SYR", "Idleb", "Idleb", 35.93, 36.63),
    ("Myanmar", 104, "MMR", "Shan", "Lashio", 22.94, 97.75),
]
SYNTHETIC_EVENTS = [
    ("Battles", "Armed clash", "Military Forces (synthetic)", 1),
    ("Explosions/Remote violence", "Shelling/artillery/missile attack", "Rebel Group X", 2),
    ("Explosions/Remote violence", "Air/drone strike", "Military Forces (synthetic)", 1),
    ("Violence against civilians", "Attack", "Unidentified Armed Group", 3),
    ("Violence against civilians", "Abduction/forced disappearance", "Militia Y", 4),
    ("Riots", "Mob violence", "Rioters (synthetic)", 5),
    ("Protests", "Peaceful protest", "Protesters (synthetic)", 6),
    ("Strategic developments", "Looting/property destruction", "Militia Y", 4),
]


def synthetic_rows(n: int, seed: int = 1):
    """``n`` made-up events in ACLED's layout (dates as ACLED writes them, ``9-May-20``)."""
    rng = random.Random(seed)
    start = datetime.date(2020, 1, 1)
    for i in range(1, n + 1):
        country, iso, iso3, admin1, town, lat, lon = rng.choice(SYNTHETIC_PLACES)
        event_type, sub_event, actor, inter = rng.choice(SYNTHETIC_EVENTS)
        day = start + datetime.timedelta(days=rng.randrange(1500))
        fatalities = rng.choice([0, 0, 0, 1, 2, 5])
        yield {
            "data_id": 9_000_000 + i,
            "iso": iso,
            "event_id_cnty": f"{iso3}{i}",
            "event_id_no_cnty": i,
            "event_date": f"{day.day}-{day:%b}-{day:%y}",
            "year": day.year,
            "time_precision": rng.choice([1, 1, 1, 2, 3]),
            "event_type": event_type,
            "sub_event_type": sub_event,
            "actor1": actor,
            "assoc_actor_1": "",
            "inter1": inter,
            "actor2": "Civilians (synthetic)",
            "assoc_actor_2": "",
            "inter2": 7,
            "interaction": inter * 10 + 7,
            "region": "Synthetic",
            "country": country,
            "admin1": admin1,
            "admin2": "",
            "admin3": "",
            "location": town,
            "latitude": f"{lat + rng.uniform(-0.05, 0.05):.4f}",
            "longitude": f"{lon + rng.uniform(-0.05, 0.05):.4f}",
            "geo_precision": rng.choice([1, 2, 3]),
            "source": "Synthetic source",
            "source_scale": "National",
            "notes": f"On {day:%d %B %Y}, a synthetic {sub_event.lower()} event (test data).",
            "fatalities": fatalities,
            "timestamp": 1589220519 + i,
            "iso3": iso3,
        }


def write_synthetic(path, n: int, seed: int = 1):
    """Write ``n`` synthetic events to ``path`` as an ACLED CSV export; return the path."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows(synthetic_rows(n, seed))
    return path
