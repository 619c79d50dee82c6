"""Insecurity Insight's aid workers killed, injured, kidnapped, arrested (``aidWorkerKIKA.json``).

The file is a JSON array of events from the Security in Numbers Database (SiND): date, country
(name and ISO alpha-3), admin 1, coordinates with a "Geo Precision", location, perpetrator
(type and name), weapon, affected organisation type, programme focus, and for each outcome
(killed, injured, kidnapped, arrested) a total with an international / national split, a female
/ male split, and the killed in captivity. ``SiND Event ID`` identifies an event.

People: for each outcome the nationality split becomes aggregate AffectedPerson rows, the part
the split leaves out having recruitment "unknown". Gender is joined to them only when the
source makes it certain (every person of the outcome has the same nationality, or the same
gender); otherwise the gender counts are kept as ReportedTotal margins, as for AWSD. No joint
split is invented. When the event names a single type of affected organisation, the persons
carry it.

Killed in captivity: SiND counts those persons in "Killed" and, in most events, again in
"Kidnapped" (or "Arrested" when they died in detention). Salama stores each person once, as
killed with ``killed_in_captivity`` (the raw fact; each scheme derives its category on export):
so they are taken out of the kidnapped count first, then out of the arrested count, and the
batch notes say so (``captivity_overlap``).

Splits that add up to more than their total are not used (``totals_mismatch`` note; the
persons are counted by the total with recruitment or gender unknown).

Quarantined: no SiND Event ID (``missing_id``), no or an impossible date (``missing_date``,
``invalid_date``), a date after today (``future_date``), no country (``unknown_country``), a count
that is not a whole number (``invalid_number``), a coordinate that is not one
(``invalid_coordinates``). Imported incidents are TLP:GREEN (public data) and closed.
"""

import itertools
from dataclasses import dataclass, field

import pycountry

from salama.core.markings import TLP
from salama.incidents import choices as c
from salama.interchange.formats import (
    Context,
    Facts,
    NotThisFormat,
    Reading,
    Reject,
    Row,
    Vocabulary,
    country_from_name,
    load_data,
    norm,
    valid_country,
)
from salama.interchange.reading import (
    ValueProblem,
    json_records,
    parse_count,
    parse_date,
    repair_coordinate,
    split_known,
    split_values,
)
from salama.organisations.choices import OrganisationType

NAME = "kika"
SOURCE_SYSTEM = "sind-kika"
STATUS = c.Status.CLOSED
DEFAULT_ORGANISATION = {
    "acronym": "II",
    "name": "Insecurity Insight",
    "type": OrganisationType.OTHER,
}

_SIND = load_data("sind/crosswalk.json")
PERPETRATORS = Vocabulary(_SIND["perpetrator_type"], c.PerpetratorType.values)
WEAPONS = Vocabulary(_SIND["weapon"], [*c.MeansOfAttack.values, ""])
WEAPON_LABELS = [label for label in _SIND["weapon"] if not label.startswith("_")]
LOCATIONS = Vocabulary(_SIND["location_type"], c.LocationType.values)
ORGANISATION_TYPES = Vocabulary(_SIND["organisation_type"], c.AffectedOrgType.values)
GEO_PRECISION = Vocabulary(_SIND["geo_precision"], c.CoordinatePrecision.values)
COUNTRIES = tuple(
    (name, code) for name, code in _SIND["countries"].items() if not name.startswith("_")
)
SUBCATEGORY = _SIND["subcategory"]

OUTCOMES = {
    "Killed": c.Impact.KILLED,
    "Injured": c.Impact.INJURED,
    "Kidnapped": c.Impact.ABDUCTED,
    "Arrested": c.Impact.ARRESTED_DETAINED,
}
REQUIRED = [
    "Date",
    "Country",
    "Country ISO",
    "SiND Event ID",
    *(f"Aid Workers {o}" for o in OUTCOMES),
    "Aid Workers Killed in Captivity",
]
LIMITS = {"Admin 1": 120, "Reported Perpetrator Name": 200}


class Problem(Exception):
    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reject = Reject(reason, message)


# -- shared by the SiND formats (kika, ii-health) ----------------------------------------


def text(raw: dict, column: str, limit: int | None = None) -> str:
    value = raw.get(column)
    if value is None:
        return ""
    value = " ".join(str(value).replace("\x00", "").split())
    limit = limit or LIMITS.get(column)
    return value[:limit] if limit else value


def count(raw: dict, column: str, eid: str) -> int:
    try:
        return parse_count(raw.get(column))
    except ValueProblem as exc:
        raise Problem("invalid_number", f"Event {eid}: {column}: {exc}") from None


def event_date(value, eid: str, context: Context, *, day_first=None) -> tuple:
    try:
        when = parse_date(value, day_first=day_first)
    except ValueProblem as exc:
        raise Problem("invalid_date", f"Event {eid}: the date {exc}") from None
    if when is None:
        raise Problem("missing_date", f"Event {eid}: the date is blank.")
    if when.date.year < 1900:
        raise Problem("invalid_date", f"Event {eid}: the year {when.date.year} is not plausible.")
    if when.date > context.latest_date:
        raise Problem(
            "future_date",
            f"Event {eid}: the date {when.date.isoformat()} is in the future "
            f"(later than {context.latest_date.isoformat()}).",
        )
    return when


def country_of(code_text: str, name: str, eid: str, extra=COUNTRIES) -> str:
    """ISO alpha-2 from an alpha-3 or alpha-2 code cell, else from the name."""
    code = code_text.strip().upper()
    if len(code) == 3:
        found = pycountry.countries.get(alpha_3=code)
        if found is not None:
            return found.alpha_2
    elif len(code) == 2 and valid_country(code):
        return code
    country = country_from_name(name, extra) if name else None
    if country is None or not valid_country(country):
        raise Problem(
            "unknown_country",
            f"Event {eid}: neither the code {code[:10]!r} nor the country {name[:60]!r} is one "
            "Salama can resolve.",
        )
    return country


def place(raw, lat_column, lon_column, country, eid, context, notes, precision="") -> dict:
    try:
        point = repair_coordinate(
            raw.get(lat_column), raw.get(lon_column), country, context.tolerance_km
        )
    except ValueProblem as exc:
        raise Problem("invalid_coordinates", f"Event {eid}: {exc}") from None
    note = point.note
    if point.repaired:
        notes.append(("coordinates_repaired", f"Event {eid}: {point.note}"))
    elif point.check == c.CoordinateCheckStatus.OUTSIDE:
        note = (
            f"The source places this point {point.distance_km} km outside {country} (more "
            f"than {context.tolerance_km:g} km from its border): check it before mapping it."
        )
        notes.append(("coordinates_outside", f"Event {eid}: {note}"))
    has_point = point.latitude is not None
    return {
        "latitude": point.latitude,
        "longitude": point.longitude,
        "coordinate_precision": (precision or c.CoordinatePrecision.APPROXIMATE)
        if has_point
        else "",
        "coordinates_obfuscated": False,
        "coordinate_check": point.check,
        "coordinate_note": note[:300],
    }


def coded(value: str, vocabulary: Vocabulary, column: str, eid: str, notes, unmapped="unknown"):
    if not value:
        return ""
    code = vocabulary.get(value)
    if code is None:
        notes.append(
            (
                "unmapped_value",
                f"Event {eid}: {column} {value[:60]!r} is not in the crosswalk; imported as "
                f"{unmapped or 'blank'}.",
            )
        )
        return unmapped
    return code


def means_of(weapon: str, eid: str, notes: list) -> str:
    """The means of attack of a (possibly multi-valued) weapon cell: the first specific one."""
    known, unknown = split_known(weapon, WEAPON_LABELS)
    codes = [WEAPONS.get(v) for v in known]
    codes += [coded(v, WEAPONS, "Weapon", eid, notes) for v in unknown]
    specific = [code for code in codes if code and code != c.MeansOfAttack.UNKNOWN]
    if len(set(specific)) > 1:
        notes.append(
            ("several_weapons", f"Event {eid}: weapons {weapon[:80]!r}; the first was kept.")
        )
    if specific:
        return specific[0]
    return c.MeansOfAttack.UNKNOWN if codes else ""


@dataclass
class Split:
    """One outcome's count and its margins as the source gives them."""

    total: int
    nationality: dict = field(default_factory=dict)  # Recruitment → count
    gender: dict = field(default_factory=dict)  # Gender → count

    def minus(self, other: "Split") -> "Split":
        take = min(self.total, other.total)
        return Split(
            self.total - take,
            {k: max(v - other.nationality.get(k, 0), 0) for k, v in self.nationality.items()},
            {k: max(v - other.gender.get(k, 0), 0) for k, v in self.gender.items()},
        )


def persons_of(split: Split, impact: str, eid: str, notes: list, **common) -> list[dict]:
    """Aggregate AffectedPerson rows for one outcome; no joint split is invented."""
    if split.total <= 0:
        return []
    nationality = _margin(split.total, split.nationality, c.Recruitment.UNKNOWN, eid, notes)
    gender = _margin(split.total, split.gender, c.Gender.OTHER_OR_UNKNOWN, eid, notes)
    rows = []
    if len(nationality) == 1:
        (recruitment,) = nationality
        rows = [(n, recruitment, g) for g, n in gender.items()]
    elif len(gender) == 1:
        (only_gender,) = gender
        rows = [(n, r, only_gender) for r, n in nationality.items()]
    else:
        rows = [(n, r, c.Gender.OTHER_OR_UNKNOWN) for r, n in nationality.items()]
    return [
        {
            "count": n,
            "impact": impact,
            "cause": c.Cause.VIOLENCE,
            "recruitment": recruitment,
            "gender": gender_code,
            **common,
        }
        for n, recruitment, gender_code in rows
        if n
    ]


def _margin(total: int, split: dict, unknown: str, eid: str, notes: list) -> dict:
    known = sum(split.values())
    if known > total:
        notes.append(
            (
                "totals_mismatch",
                f"Event {eid}: a split adds up to {known} but the total is {total}; the split "
                "was not used.",
            )
        )
        return {unknown: total}
    margin = {k: v for k, v in split.items() if v}
    if total - known:
        margin[unknown] = margin.get(unknown, 0) + total - known
    return margin


def gender_totals(persons_splits: list[Split]) -> list[dict]:
    """The gender margins over all outcomes, as ReportedTotal rows (when any is known)."""
    female = sum(s.gender.get(c.Gender.FEMALE, 0) for s in persons_splits)
    male = sum(s.gender.get(c.Gender.MALE, 0) for s in persons_splits)
    total = sum(s.total for s in persons_splits)
    if not (female or male) or female + male > total:
        return []
    counts = {c.Gender.FEMALE: female, c.Gender.MALE: male, c.Gender.OTHER_OR_UNKNOWN: 0}
    counts[c.Gender.OTHER_OR_UNKNOWN] = total - female - male
    return [
        {"dimension": c.ReportedTotalDimension.GENDER, "value": value, "count": n}
        for value, n in counts.items()
        if n
    ]


def subcategory(perpetrator_type: str, conflict_flag: str = "") -> str:
    by_perpetrator = SUBCATEGORY["perpetrator_type"].get(perpetrator_type)
    if by_perpetrator:
        return by_perpetrator
    return SUBCATEGORY["conflict_flag"].get(conflict_flag.strip(), SUBCATEGORY["default"])


def external_id(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


# -- the KIKA file ------------------------------------------------------------------------


def read_file(path, **options) -> Reading:
    records = json_records(path)
    first = next(records, None)
    if first is None:
        raise NotThisFormat("The file holds no records.")
    number, record = first
    if isinstance(record, dict):
        missing = [name for name in REQUIRED if name not in record]
        if missing:
            shown = ", ".join(repr(m) for m in missing[:6])
            raise NotThisFormat(
                f"This is not Insecurity Insight's aidWorkerKIKA.json: its records lack {shown}."
            )
    reading = Reading("kika_json", iter(()), encoding="json")

    def rows():
        for n, item in itertools.chain([(number, record)], records):
            # Row numbers count records from 1, as the file lists them.
            if isinstance(item, Reject):
                yield Row(n, {}, item)
            else:
                yield Row(n, {str(k): _scalar(v) for k, v in item.items()})

    reading.rows = rows()
    return reading


def _scalar(value):
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)[:1000]


def _split(raw: dict, outcome: str, eid: str, suffix: str = "") -> Split:
    def n(prefix):
        return count(raw, f"{prefix}Aid Workers {outcome}{suffix}", eid)

    return Split(
        n(""),
        {c.Recruitment.INTERNATIONAL: n("International "), c.Recruitment.NATIONAL: n("National ")},
        {c.Gender.FEMALE: n("Female "), c.Gender.MALE: n("Male ")},
    )


def to_facts(raw: dict, layout: str, context: Context) -> Facts | Reject:
    """One KIKA event as incident facts, or the reason it cannot be one."""
    eid = external_id(raw.get("SiND Event ID"))
    if not eid:
        return Reject("missing_id", "The record has no SiND Event ID.")
    if len(eid) > 100:
        return Reject("invalid_id", f"The SiND Event ID {eid[:40]!r}… is too long.")
    notes: list[tuple[str, str]] = []
    try:
        when = event_date(raw.get("Date"), eid, context)
        country = country_of(text(raw, "Country ISO"), text(raw, "Country"), eid)
        precision = coded(
            text(raw, "Geo Precision"), GEO_PRECISION, "Geo Precision", eid, notes, "approximate"
        )
        where = place(raw, "Latitude", "Longitude", country, eid, context, notes, precision)
        splits = {outcome: _split(raw, outcome, eid) for outcome in OUTCOMES}
        captivity = _split(raw, "Killed", eid, " in Captivity")
    except Problem as problem:
        return problem.reject

    organisations = split_values(text(raw, "Organisation Affected"), ",;")
    organisation_type = c.AffectedOrgType.UNKNOWN
    if len(organisations) == 1:
        organisation_type = (
            coded(organisations[0], ORGANISATION_TYPES, "Organisation Affected", eid, notes)
            or c.AffectedOrgType.UNKNOWN
        )
    persons = _persons(splits, captivity, eid, notes, organisation_type)
    if not persons:
        notes.append(("no_persons", f"Event {eid}: no person is counted in this record."))

    means = means_of(text(raw, "Weapon Carried/Used"), eid, notes)
    if means in ("", c.MeansOfAttack.UNKNOWN):
        means = _means_from_outcomes(splits, captivity) or means
    perpetrator = coded(
        text(raw, "Reported Perpetrator"), PERPETRATORS, "Reported Perpetrator", eid, notes
    )
    perpetrator_name = text(raw, "Reported Perpetrator Name")
    if norm(perpetrator_name) in {"no information", "unidentified armed actor"}:
        perpetrator_name = ""
    fields = {
        "date": when.date,
        "date_precision": when.precision,
        "time": when.time.isoformat() if when.time else None,
        "country": country,
        "admin1": text(raw, "Admin 1"),
        **where,
        "location_type": coded(
            text(raw, "Location of Incident"), LOCATIONS, "Location of Incident", eid, notes
        )
        or c.LocationType.UNKNOWN,
        "category": c.Category.VIOLENCE,
        "subcategory": subcategory(perpetrator),
        "means_of_attack": means,
        "perpetrator_type": perpetrator,
        "perpetrator_name": perpetrator_name,
        "narrative": text(raw, "Event Description", 20000),
        "verification": c.Verification.UNVERIFIED,
        "marking": TLP.GREEN,
    }
    return Facts(
        external_id=eid,
        fields=fields,
        persons=persons,
        totals=gender_totals([*splits.values()]),
        sources=[
            {
                "kind": c.SourceKind.DATABASE_IMPORT,
                "system": SOURCE_SYSTEM,
                "external_id": eid,
            }
        ],
        notes=notes,
    )


def _persons(splits, captivity: Split, eid, notes, organisation_type) -> list[dict]:
    if captivity.total > splits["Killed"].total:
        notes.append(
            (
                "totals_mismatch",
                f"Event {eid}: {captivity.total} killed in captivity but {splits['Killed'].total} "
                "killed; the killed count was used.",
            )
        )
        captivity = Split(splits["Killed"].total)
    left = captivity
    for outcome in ("Kidnapped", "Arrested"):
        if left.total and splits[outcome].total:
            taken = min(left.total, splits[outcome].total)
            notes.append(
                (
                    "captivity_overlap",
                    f"Event {eid}: {taken} person(s) killed in captivity were also counted as "
                    f"{outcome.lower()}; stored once, as killed in captivity.",
                )
            )
            part = Split(taken, left.nationality, left.gender)
            splits[outcome] = splits[outcome].minus(part)
            left = left.minus(part)
    common = {"organisation_type": organisation_type}
    killed_free = splits["Killed"].minus(captivity)
    persons = persons_of(captivity, c.Impact.KILLED, eid, notes, killed_in_captivity=True, **common)
    persons += persons_of(killed_free, c.Impact.KILLED, eid, notes, **common)
    for outcome in ("Injured", "Kidnapped", "Arrested"):
        persons += persons_of(splits[outcome], OUTCOMES[outcome], eid, notes, **common)
    return persons


def _means_from_outcomes(splits, captivity: Split) -> str:
    if captivity.total:
        return c.MeansOfAttack.KIDNAP_KILLING
    hurt = splits["Killed"].total + splits["Injured"].total
    if not hurt and splits["Kidnapped"].total and not splits["Arrested"].total:
        return c.MeansOfAttack.KIDNAPPING
    if not hurt and splits["Arrested"].total and not splits["Kidnapped"].total:
        return c.MeansOfAttack.DETENTION_ARREST
    return ""
