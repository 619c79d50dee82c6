"""Insecurity Insight's attacks on health care (XLSX), with the HXL hashtag row under the header.

Two layouts, told apart by the header:

- ``attacks_on_health_care`` (``2016-2023-attacks-on-health-care-incident-data.xlsx``): event
  description, admin 1, coordinates with a Geo Precision, location, and per event the health
  facilities destroyed / damaged / entered / occupied, health transport destroyed / damaged /
  stolen, supplies looted, access obstructed, and health workers killed, injured, kidnapped,
  arrested, threatened, assaulted, sexually assaulted;
- ``shcc`` (the Safeguarding Health in Conflict Coalition extracts, e.g.
  ``2023-mmr-attacks-on-health-care-incident-data.xlsx``): no place below the country, but
  female / male splits and the killed in captivity.

Each event (``SiND Event ID``) becomes one incident, TLP:GREEN and closed; every person is a
health worker (``is_medical``), recruitment unknown. Killed in captivity are stored once, as
killed (see ``kika``). Values are read with the SiND crosswalk shared with ``kika``
(``data/sind/crosswalk.json``); the conflict flag ("ConflictEvent") makes the threat armed
conflict. Quarantined as for ``kika``.
"""

from salama.core.markings import TLP
from salama.incidents import choices as c
from salama.interchange.formats import Context, Facts, Reading, Reject
from salama.interchange.formats.kika import (
    GEO_PRECISION,
    LOCATIONS,
    PERPETRATORS,
    Problem,
    Split,
    coded,
    country_of,
    event_date,
    external_id,
    gender_totals,
    means_of,
    persons_of,
    place,
    subcategory,
    text,
)
from salama.interchange.reading import (
    ValueProblem,
    by_normalised_name,
    missing_columns,
    parse_count,
    parse_flag,
    refuse_layout,
    tabular_reading,
)
from salama.organisations.choices import OrganisationType

NAME = "ii-health"
SOURCE_SYSTEM = "sind-health"
STATUS = c.Status.CLOSED
DEFAULT_ORGANISATION = {
    "acronym": "II",
    "name": "Insecurity Insight",
    "type": OrganisationType.OTHER,
}

COMMON = [
    "Date",
    "Country",
    "Country ISO",
    "Reported Perpetrator",
    "Weapon Carried/Used",
    "Health Workers Killed",
    "Health Workers Injured",
    "Health Workers Kidnapped",
    "Health Workers Arrested",
    "SiND Event ID",
]
AHC = ["Event Description", "Latitude", "Longitude", "Geo Precision", "Location"]
SHCC = ["Female Health Workers Killed", "Health Workers Killed In Captivity"]

FACILITY = [
    "number of attacks on health facilities reporting destruction",
    "number of attacks on health facilities reporting damaged",
    "forceful entry into health facility",
    "occupation of health facility",
]
TRANSPORT = [
    "health transportation destroyed",
    "health transportation damaged",
    "health transportation stolen/hijacked",
    "health transportation stolen/highjacked",
]
SUPPLIES = ["looting/theft/robbery/burglary of health supplies"]
OBSTRUCTION = ["access denied or obstructed", "obstruction to health care"]
OUTCOMES = {
    "killed": c.Impact.KILLED,
    "injured": c.Impact.INJURED,
    "kidnapped": c.Impact.ABDUCTED,
    "arrested": c.Impact.ARRESTED_DETAINED,
    "threatened": c.Impact.INTIMIDATION_HARASSMENT,
    "assaulted": c.Impact.PHYSICAL_ASSAULT,
    "sexually assaulted": c.Impact.SEXUAL_ASSAULT,
}
# SHCC gender columns, as spelled (typos included), normalised.
GENDER_COLUMNS = {
    "killed": ("female health workers killed", "male health workers killed"),
    "injured": ("female health workers injured", "male health workers injured"),
    "kidnapped": ("female health workers kidnapped", "male health workers kidanpped"),
    "arrested": (
        "female health workers arrested or detained",
        "male health workers arrested or detained",
    ),
}


def sniff(table) -> str:
    missing = missing_columns(table.header, COMMON)
    if missing:
        raise refuse_layout("an Insecurity Insight attacks-on-health-care file", missing)
    if not missing_columns(table.header, AHC):
        return "attacks_on_health_care"
    if not missing_columns(table.header, SHCC):
        return "shcc"
    raise refuse_layout(
        "an Insecurity Insight attacks-on-health-care file", missing_columns(table.header, AHC)
    )


def read_file(path, sheet=None, **options) -> Reading:
    return tabular_reading(path, sniff, sheet=sheet)


def _n(cells: dict, name: str, eid: str) -> int:
    try:
        return parse_count(cells.get(name))
    except ValueProblem as exc:
        raise Problem("invalid_number", f"Event {eid}: {name}: {exc}") from None


def _any(cells: dict, names: list[str], eid: str) -> bool:
    for name in names:
        value = cells.get(name)
        if value in (None, ""):
            continue
        flag = parse_flag(value)
        if flag is None:
            if _n(cells, name, eid):
                return True
        elif flag:
            return True
    return False


def to_facts(raw: dict, layout: str, context: Context) -> Facts | Reject:
    """One attack on health care as incident facts, or the reason it cannot be one."""
    cells = by_normalised_name(raw)
    eid = external_id(cells.get("sind event id"))
    if not eid:
        return Reject("missing_id", "The row has no SiND Event ID.")
    if len(eid) > 100:
        return Reject("invalid_id", f"The SiND Event ID {eid[:40]!r}… is too long.")
    notes: list[tuple[str, str]] = []
    try:
        when = event_date(cells.get("date"), eid, context)
        country = country_of(text(cells, "country iso"), text(cells, "country"), eid)
        precision = coded(
            text(cells, "geo precision"), GEO_PRECISION, "Geo Precision", eid, notes, "approximate"
        )
        where = place(cells, "latitude", "longitude", country, eid, context, notes, precision)
        splits = {}
        for outcome in OUTCOMES:
            gender = {}
            if outcome in GENDER_COLUMNS:
                female, male = GENDER_COLUMNS[outcome]
                gender = {
                    c.Gender.FEMALE: _n(cells, female, eid),
                    c.Gender.MALE: _n(cells, male, eid),
                }
            splits[outcome] = Split(_n(cells, f"health workers {outcome}", eid), gender=gender)
        captivity = Split(_n(cells, "health workers killed in captivity", eid))
        hit = {
            "health_facility_hit": _any(cells, FACILITY, eid),
            "vehicles_hit": _any(cells, TRANSPORT, eid),
            "supplies_hit": _any(cells, SUPPLIES, eid),
        }
        obstructed = _any(cells, OBSTRUCTION, eid)
    except Problem as problem:
        return problem.reject

    persons = _persons(splits, captivity, eid, notes)
    if not persons:
        notes.append(("no_persons", f"Event {eid}: no health worker is counted in this row."))
    perpetrator = coded(
        text(cells, "reported perpetrator"), PERPETRATORS, "Reported Perpetrator", eid, notes
    )
    name = text(cells, "reported perpetrator name", 200)
    if name.casefold() in {"no information", "unidentified armed actor"}:
        name = ""
    narrative = text(cells, "event description", 20000)
    if obstructed and "obstruct" not in narrative.casefold():
        narrative = (narrative + " " if narrative else "") + "Access to health care obstructed."
    fields = {
        "date": when.date,
        "date_precision": when.precision,
        "country": country,
        "admin1": text(cells, "admin 1", 120),
        **where,
        "location_type": coded(text(cells, "location"), LOCATIONS, "Location", eid, notes)
        or c.LocationType.UNKNOWN,
        "category": c.Category.VIOLENCE,
        "subcategory": subcategory(perpetrator, text(cells, "conflict-related violence")),
        "means_of_attack": means_of(text(cells, "weapon carried/used"), eid, notes),
        "perpetrator_type": perpetrator,
        "perpetrator_name": name,
        **hit,
        "narrative": narrative,
        "verification": c.Verification.UNVERIFIED,
        "marking": TLP.GREEN,
    }
    return Facts(
        external_id=eid,
        fields=fields,
        persons=persons,
        totals=gender_totals([s for s in splits.values() if s.gender]),
        sources=[
            {"kind": c.SourceKind.DATABASE_IMPORT, "system": SOURCE_SYSTEM, "external_id": eid}
        ],
        notes=notes,
    )


def _persons(splits: dict, captivity: Split, eid: str, notes: list) -> list[dict]:
    killed = splits["killed"]
    if captivity.total > killed.total:
        notes.append(
            (
                "totals_mismatch",
                f"Event {eid}: {captivity.total} killed in captivity but {killed.total} killed; "
                "the killed count was used.",
            )
        )
        captivity = Split(killed.total)
    left = captivity.total
    for outcome in ("kidnapped", "arrested"):
        taken = min(left, splits[outcome].total)
        if taken:
            notes.append(
                (
                    "captivity_overlap",
                    f"Event {eid}: {taken} health worker(s) killed in captivity were also "
                    f"counted as {outcome}; stored once, as killed in captivity.",
                )
            )
            splits[outcome] = splits[outcome].minus(Split(taken))
            left -= taken
    common = {"is_medical": True}
    persons = persons_of(captivity, c.Impact.KILLED, eid, notes, killed_in_captivity=True, **common)
    persons += persons_of(killed.minus(captivity), c.Impact.KILLED, eid, notes, **common)
    for outcome, impact in OUTCOMES.items():
        if outcome != "killed":
            persons += persons_of(splits[outcome], impact, eid, notes, **common)
    return persons
