"""WHO Surveillance System for Attacks on Health Care (SSA) exports, XLSX or CSV.

The dashboard exports one row per attack: Attack ID, Attack Date, Attack Time, Country /
Territory, Certainty Level, Attack Type, Total Injured, Total Death, the health resources
affected (HC Facilities, HC Transport, HC Personnel… as YES / NO / Unknown), Type of Facility,
and health workers and patients abducted, arrested or detained. The XLSX has real dates; the CSV
writes them ``2/8/24 12:00 AM`` (month first, two-digit year; midnight means "time unknown").
``Attack Type`` lists several types separated by commas, with a leading space, and the types
hold commas themselves: they are recognised by their labels (``data/who-ssa/crosswalk.json``).

SSA publishes no place below the country, no coordinates and no narrative (Meier et al. 2021):
the incident's narrative is written from what it does publish (attack types, certainty, the
resources affected, the facility type), so nothing in the row is lost.

People: deaths and injuries are of anyone (health workers, patients, others): aggregate rows with
``is_medical`` unknown. Health workers abducted, arrested or detained are ``is_medical`` True;
patients, False. Certainty Level: Confirmed → verified, Probable → pending, Possible → not yet
verified.

Importing a CSV after the XLSX of an overlapping period updates the attacks they share (by
Attack ID) and creates the others. Quarantined: no Attack ID, no or an impossible date, a date in
the future, a country Salama cannot resolve (Nagorno-Karabakh is left to a person), a count that
is not a whole number.
"""

from salama.core.markings import TLP
from salama.incidents import choices as c
from salama.interchange.formats import (
    Context,
    Facts,
    Reading,
    Reject,
    Vocabulary,
    load_data,
    norm,
)
from salama.interchange.formats.kika import (
    Problem,
    coded,
    count,
    country_of,
    event_date,
    text,
)
from salama.interchange.reading import (
    missing_columns,
    parse_flag,
    parse_time,
    refuse_layout,
    split_known,
    tabular_reading,
)
from salama.organisations.choices import OrganisationType

NAME = "who-ssa"
SOURCE_SYSTEM = "who-ssa"
STATUS = c.Status.CLOSED
DEFAULT_ORGANISATION = {
    "acronym": "WHO-SSA",
    "name": "World Health Organization, Surveillance System for Attacks on Health Care",
    "type": OrganisationType.UN_AFP,
}

_DATA = load_data("who-ssa/crosswalk.json")
ATTACK_TYPES = {norm(k): v for k, v in _DATA["attack_type"].items() if not k.startswith("_")}
LABELS = {norm(k): k for k in _DATA["attack_type"] if not k.startswith("_")}
SUBCATEGORY_BY_TYPE = {norm(k): v for k, v in _DATA["subcategory"]["attack_type"].items()}
CERTAINTY = Vocabulary(_DATA["certainty_level"], c.Verification.values)
COUNTRIES = tuple((k, v) for k, v in _DATA["countries"].items() if not k.startswith("_"))

REQUIRED = [
    "Attack ID",
    "Attack Date",
    "Country / Territory",
    "Certainty Level",
    "Attack Type",
    "Total Injured",
    "Total Death",
]
RESOURCES = {
    "HC Facilities": "health facilities",
    "HC Transport": "health transport",
    "HC Personnel": "health personnel",
    "HC Supplies Assets": "supplies and assets",
    "HC Warehouse Storage": "warehouse or storage",
    "HC Patients": "patients",
}
PERSONS = [
    ("Total Death", c.Impact.KILLED, None),
    ("Total Injured", c.Impact.INJURED, None),
    ("HW Abduction", c.Impact.ABDUCTED, True),
    ("HW Arrest", c.Impact.ARRESTED_DETAINED, True),
    ("HW Detention", c.Impact.ARRESTED_DETAINED, True),
    ("Patient Abduction", c.Impact.ABDUCTED, False),
    ("Patient Arrest", c.Impact.ARRESTED_DETAINED, False),
    ("Patient Detention", c.Impact.ARRESTED_DETAINED, False),
]


def sniff(table) -> str:
    missing = missing_columns(table.header, REQUIRED)
    if missing:
        raise refuse_layout("a WHO SSA export", missing)
    return f"who_ssa_{table.kind}"


def read_file(path, sheet=None, **options) -> Reading:
    return tabular_reading(path, sniff, sheet=sheet)


def _cell(raw: dict, column: str) -> str:
    value = raw.get(column)
    if value is None:
        # Exports differ in trailing spaces and case of the column names.
        wanted = norm(column)
        value = next((v for k, v in raw.items() if isinstance(k, str) and norm(k) == wanted), "")
    return value


def to_facts(raw: dict, layout: str, context: Context) -> Facts | Reject:
    """One SSA attack as incident facts, or the reason it cannot be one."""
    row = {k: _cell(raw, k) for k in [*REQUIRED, "Attack Time", *RESOURCES, "Type of Facility"]}
    row.update({name: _cell(raw, name) for name, _, _ in PERSONS})
    row["Facility Other"] = _cell(raw, "Facility Other")
    row["HC Other"] = _cell(raw, "HC Other")
    aid = text(row, "Attack ID", 100)
    if not aid:
        return Reject("missing_id", "The row has no Attack ID.")
    notes: list[tuple[str, str]] = []
    try:
        when = event_date(row["Attack Date"], aid, context, day_first=False)
        country = country_of("", text(row, "Country / Territory"), aid, COUNTRIES)
        persons = _persons(row, aid)
    except Problem as problem:
        return problem.reject

    labels, unknown = split_known(row["Attack Type"], LABELS)
    for piece in unknown:
        notes.append(
            ("unmapped_value", f"Attack {aid}: attack type {piece[:60]!r} is not in the crosswalk.")
        )
    means = [ATTACK_TYPES[label] for label in labels if ATTACK_TYPES[label]]
    specific = [m for m in means if m != c.MeansOfAttack.UNKNOWN]
    if specific:
        means_of_attack = specific[0]
    else:
        means_of_attack = c.MeansOfAttack.UNKNOWN if labels or unknown else ""
    subcategory = next(
        (SUBCATEGORY_BY_TYPE[label] for label in labels if label in SUBCATEGORY_BY_TYPE),
        _DATA["subcategory"]["default"],
    )
    flags = {column: parse_flag(row[column]) for column in RESOURCES}
    certainty = text(row, "Certainty Level")
    verification = (
        coded(certainty, CERTAINTY, "Certainty Level", aid, notes, c.Verification.UNVERIFIED)
        or c.Verification.UNVERIFIED
    )
    # The time is the Attack Time column's: the XLSX dates carry made-up clock times
    # (17:30:45 where Attack Time says "Time Unknown") and the CSV's say 12:00 AM.
    time = parse_time(row["Attack Time"])
    fields = {
        "date": when.date,
        "date_precision": when.precision,
        # As text: the runner's bulk insert adapts dates, not times ("14:05:00" is what
        # SQLite stores and PostgreSQL's COPY reads).
        "time": time.isoformat() if time else None,
        "country": country,
        "location_type": c.LocationType.UNKNOWN,
        "category": c.Category.VIOLENCE,
        "subcategory": subcategory,
        "means_of_attack": means_of_attack,
        "health_facility_hit": bool(flags["HC Facilities"]),
        "vehicles_hit": bool(flags["HC Transport"]),
        "supplies_hit": bool(flags["HC Supplies Assets"] or flags["HC Warehouse Storage"]),
        "narrative": _narrative(row, labels, unknown, certainty, flags),
        "verification": verification,
        "marking": TLP.GREEN,
    }
    if not persons:
        notes.append(("no_persons", f"Attack {aid}: no person is counted in this row."))
    return Facts(
        external_id=aid,
        fields=fields,
        persons=persons,
        sources=[
            {"kind": c.SourceKind.DATABASE_IMPORT, "system": SOURCE_SYSTEM, "external_id": aid}
        ],
        notes=notes,
    )


def _persons(row: dict, aid: str) -> list[dict]:
    persons = []
    for column, impact, medical in PERSONS:
        n = count(row, column, aid)
        if n:
            persons.append(
                {
                    "count": n,
                    "impact": impact,
                    "cause": c.Cause.VIOLENCE,
                    "recruitment": c.Recruitment.UNKNOWN,
                    "gender": c.Gender.OTHER_OR_UNKNOWN,
                    "organisation_type": c.AffectedOrgType.UNKNOWN,
                    "is_medical": medical,
                }
            )
    return persons


def _narrative(row, labels, unknown, certainty, flags) -> str:
    types = [LABELS[label] for label in labels] + unknown
    parts = [f"WHO SSA attack on health care: {'; '.join(types) or 'type not given'}."]
    hit = [name for column, name in RESOURCES.items() if flags[column]]
    other = text(row, "HC Other", 200)
    if other:
        hit.append(other)
    if hit:
        parts.append(f"Health resources affected: {', '.join(hit)}.")
    facility = text(row, "Type of Facility", 100)
    facility_other = text(row, "Facility Other", 200)
    if facility or facility_other:
        parts.append(f"Type of facility: {' – '.join(x for x in (facility, facility_other) if x)}.")
    if certainty:
        parts.append(f"Certainty level: {certainty}.")
    return " ".join(parts)
