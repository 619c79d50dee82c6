"""The Aid Worker Security Database (Humanitarian Outcomes) public CSV, in its three layouts.

Layouts, told apart by the header, never by asking:

- ``current_41``: the 41-column public CSV (Incident ID … Verified, Source), UTF-8;
- ``old_35``: the 2016 download, 35 columns, Latin-1, ``LNGO/NRCS`` and ``IFRC`` columns, no
  Country Code, Motive, Actor, Verified or Source, and short codes (``S``, ``Am``, ``OC``);
- ``detained``: the newest layout, the current one plus ``Nationals detained``,
  ``Internationals detained`` and ``Total detained``, often with an HXL hashtag row under the
  header (the layout is then reported as ``detained+hxl``).

Each row becomes one incident owned by the importing organisation, marked TLP:GREEN (the data
is public) and closed (a published record: it changes by importing a newer download, not by
hand). AWSD does not say what kind of threat it was, so the sub-category is
``violence_unknown`` unless a rule in ``data/awsd/crosswalk.json`` makes it evident (a criminal
perpetrator, aerial bombardment, shelling, crossfire). Value tables, country names pycountry
does not know and those rules are data, in that file.

People: AWSD gives counts by nationality × outcome, and separately by gender and by
organisation type, never jointly. So each nationality × outcome count becomes one aggregate
AffectedPerson row (gender and organisation type unknown), and the gender and organisation
type margins become ReportedTotal rows. No joint split is invented. "Total affected" includes
the detained in the newest layout, as its components do. Killed persons of a Kidnap-killing are
``killed_in_captivity``.

Totals that disagree: the stored persons are what the components say (Nationals killed,
Internationals wounded…). When a stated total (Total killed, Total nationals, Total affected…)
or a margin (gender, organisation type) does not add up to them, the incident is still
imported and the batch notes say so under ``totals_mismatch`` / ``margins_mismatch``:
quarantining them would drop real incidents (the 2016 file has 44 such gender margins) for a
bookkeeping slip in a column that is derived anyway.

Importing again: a row is found by its Incident ID; the last import wins. Importing an older
download (the 2016 file) after a newer one rewrites its incidents with the older facts, each
change audited, so import downloads oldest first.

Quarantined, with a reason: no Incident ID (``missing_id``), an unreadable or impossible date
(``missing_date``, ``invalid_date``, which includes years before 1900), a date after today
(``future_date``), no country Salama can resolve from the code or the name
(``unknown_country``; Kashmir is left for a person to decide), a count that is not a whole
number (``invalid_number``), a coordinate that is not one (``invalid_coordinates``).
Coordinates outside their country are kept, flagged ``outside`` with a note: AWSD shifts some
points on purpose.
"""

import datetime
import math

from salama.core.geo import country_name
from salama.core.markings import TLP
from salama.incidents import choices as c
from salama.incidents.validators import validate_totals
from salama.interchange.formats import (
    Context,
    Facts,
    NotThisFormat,
    Reading,
    Reject,
    Vocabulary,
    coordinate_check,
    country_from_name,
    load_data,
    norm,
    read_csv,
    valid_country,
)
from salama.interchange.reading import ValueProblem, repair_coordinate
from salama.organisations.choices import OrganisationType

NAME = "awsd"
SOURCE_SYSTEM = "awsd"
STATUS = c.Status.CLOSED
DEFAULT_ORGANISATION = {
    "acronym": "AWSD",
    "name": "Aid Worker Security Database (Humanitarian Outcomes)",
    "type": OrganisationType.OTHER,
}

COMMON_COLUMNS = [
    "Incident ID",
    "Year",
    "Month",
    "Day",
    "Country",
    "Region",
    "District",
    "City",
    "UN",
    "INGO",
    "ICRC",
    "Other",
    "Nationals killed",
    "Nationals wounded",
    "Nationals kidnapped",
    "Total nationals",
    "Internationals killed",
    "Internationals wounded",
    "Internationals kidnapped",
    "Total internationals",
    "Total killed",
    "Total wounded",
    "Total kidnapped",
    "Total affected",
    "Gender Male",
    "Gender Female",
    "Gender Unknown",
    "Means of attack",
    "Attack context",
    "Location",
    "Latitude",
    "Longitude",
    "Details",
]
OLD_COLUMNS = ["LNGO/NRCS", "IFRC"]
CURRENT_COLUMNS = [
    "Country Code",
    "NRCS and IFRC",
    "NNGO",
    "Motive",
    "Actor type",
    "Actor name",
    "Verified",
    "Source",
]
DETAINED_COLUMNS = ["Nationals detained", "Internationals detained", "Total detained"]

# Organisation-type columns → ReportedTotal value (AffectedOrgType codes). The old layout's
# "LNGO/NRCS" lumps national NGOs with national Red Cross societies: it cannot be split, so
# it keeps a value of its own.
NNGO_OR_NRCS = "nngo_or_nrcs"
ORGANISATION_TYPE_COLUMNS = {
    "current": {
        "UN": c.AffectedOrgType.UN,
        "INGO": c.AffectedOrgType.INGO,
        "ICRC": c.AffectedOrgType.ICRC,
        "NRCS and IFRC": c.AffectedOrgType.NRCS_IFRC,
        "NNGO": c.AffectedOrgType.NNGO,
        "Other": c.AffectedOrgType.OTHER,
    },
    "old": {
        "UN": c.AffectedOrgType.UN,
        "INGO": c.AffectedOrgType.INGO,
        "LNGO/NRCS": NNGO_OR_NRCS,
        "ICRC": c.AffectedOrgType.ICRC,
        "IFRC": c.AffectedOrgType.NRCS_IFRC,
        "Other": c.AffectedOrgType.OTHER,
    },
}
GENDER_COLUMNS = {
    "Gender Female": c.Gender.FEMALE,
    "Gender Male": c.Gender.MALE,
    "Gender Unknown": c.Gender.OTHER_OR_UNKNOWN,
}
OUTCOMES = {
    "killed": c.Impact.KILLED,
    "wounded": c.Impact.INJURED,
    "kidnapped": c.Impact.ABDUCTED,
    "detained": c.Impact.ARRESTED_DETAINED,
}
NATIONALITIES = {"Nationals": c.Recruitment.NATIONAL, "Internationals": c.Recruitment.INTERNATIONAL}
PERSON_COLUMNS = [
    (f"{group} {outcome}", group, outcome, impact, recruitment)
    for group, recruitment in NATIONALITIES.items()
    for outcome, impact in OUTCOMES.items()
]
# Stated totals → the component sum they must equal.
STATED_TOTALS = [
    *((f"Total {group.lower()}", group) for group in NATIONALITIES),
    *((f"Total {outcome}", outcome) for outcome in OUTCOMES),
    ("Total affected", "affected"),
]

_CROSSWALK = load_data("awsd/crosswalk.json")
MEANS = Vocabulary(_CROSSWALK["means_of_attack"], c.MeansOfAttack.values)
CONTEXTS = Vocabulary(_CROSSWALK["attack_context"], c.AttackContext.values)
LOCATIONS = Vocabulary(_CROSSWALK["location_type"], c.LocationType.values)
MOTIVES = Vocabulary(_CROSSWALK["motive"], c.Motive.values)
PERPETRATORS = Vocabulary(_CROSSWALK["perpetrator_type"], c.PerpetratorType.values)
VERIFICATION = Vocabulary(_CROSSWALK["verification"], c.Verification.values)
SOURCE_KINDS = Vocabulary(_CROSSWALK["source_kind"], c.SourceKind.values)
NO_PERPETRATOR_NAME = {norm(v) for v in _CROSSWALK["perpetrator_name_blank"]}
COUNTRIES = tuple(
    (name, code) for name, code in _CROSSWALK["countries"].items() if not name.startswith("_")
)
SUBCATEGORY_DEFAULT = _CROSSWALK["subcategory"]["default"]
SUBCATEGORY_RULES = [
    (rule["field"], rule["value"], rule["subcategory"])
    for rule in _CROSSWALK["subcategory"]["rules"]
]
if not {SUBCATEGORY_DEFAULT, *(r[2] for r in SUBCATEGORY_RULES)} <= set(
    c.SUBCATEGORIES_OF[c.Category.VIOLENCE]
):
    raise ValueError("data/awsd/crosswalk.json: sub-categories must be violence sub-categories")

# Aid worker security records start in the 1990s: a year before this is a garbled cell.
EARLIEST_YEAR = 1900
# Limits of the Incident fields the text goes into.
LIMITS = {"Region": 120, "District": 120, "City": 200, "Actor name": 200}


class _Problem(Exception):
    def __init__(self, reason: str, message: str):
        self.reject = Reject(reason, message)


def sniff(header: list[str]) -> str:
    """The layout of an AWSD header, or NotThisFormat saying which columns are missing."""
    columns = set(header)
    missing = [name for name in COMMON_COLUMNS if name not in columns]
    if not missing:
        if all(name in columns for name in CURRENT_COLUMNS):
            if all(name in columns for name in DETAINED_COLUMNS):
                return "detained"
            return "current_41"
        if all(name in columns for name in OLD_COLUMNS):
            return "old_35"
        missing = [name for name in CURRENT_COLUMNS if name not in columns]
    shown = ", ".join(repr(m) for m in missing[:6]) + (" …" if len(missing) > 6 else "")
    raise NotThisFormat(
        f"This is not an AWSD file: its header lacks {len(missing)} AWSD column(s): {shown}."
    )


def read(lines) -> Reading:
    layout, rows = read_csv(lines, sniff)
    return Reading(layout, rows)


def _text(raw: dict, column: str) -> str:
    value = raw.get(column)
    if not value:
        return ""
    if "\x00" in value:
        value = value.replace("\x00", "")
    value = value.strip()
    limit = LIMITS.get(column)
    return value[:limit] if limit else value


# Count cells as files spell them most of the time, read without parsing: a million rows
# hold some 25 million count cells, nearly all blank or a small number.
_SMALL_COUNTS = {"": 0, **{str(n): n for n in range(1000)}}


def _count(raw: dict, column: str, iid: str) -> int:
    value = raw.get(column)
    if value is None:
        return 0
    number = _SMALL_COUNTS.get(value)
    if number is not None:
        return number
    if value == "0":
        return 0
    if value.isdigit() and value.isascii():
        return int(value)
    value = value.strip()
    if not value:
        return 0
    if value.isdigit() and value.isascii():
        return int(value)
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if math.isfinite(number) and number >= 0 and number.is_integer():
        return int(number)
    raise _Problem(
        "invalid_number",
        f"Incident {iid}: {column} is {value[:40]!r}, not a whole number of people.",
    )


def _date(raw: dict, iid: str, context: Context, notes: list) -> tuple[datetime.date, str]:
    year, month, day = (_text(raw, col) for col in ("Year", "Month", "Day"))
    if not year:
        raise _Problem("missing_date", f"Incident {iid}: the Year is blank.")
    try:
        y = int(year)
        m = int(month) if month else None
        d = int(day) if day and m else None
        if y < EARLIEST_YEAR:
            raise ValueError(year)
        if day and not month:
            notes.append(("day_without_month", f"Incident {iid}: Day {day!r} without a Month."))
        if m is None:
            date, precision = datetime.date(y, 1, 1), c.DatePrecision.YEAR
        elif d is None:
            date, precision = datetime.date(y, m, 1), c.DatePrecision.MONTH
        else:
            date, precision = datetime.date(y, m, d), c.DatePrecision.DAY
    except (ValueError, OverflowError):
        shown = "-".join(v or "?" for v in (year, month, day))
        raise _Problem(
            "invalid_date", f"Incident {iid}: Year-Month-Day {shown[:40]!r} is not a date."
        ) from None
    if date > context.latest_date:
        raise _Problem(
            "future_date",
            f"Incident {iid}: the date {date.isoformat()} is in the future "
            f"(later than {context.latest_date.isoformat()}).",
        )
    return date, precision


def _country(raw: dict, iid: str, layout: str, notes: list) -> str:
    code = _text(raw, "Country Code").upper()
    if code and valid_country(code):
        return code
    name = _text(raw, "Country")
    country = country_from_name(name, COUNTRIES)
    if country is None:
        if not name:
            what = (
                f"the country code {code!r} is not ISO 3166-1 and the country name is blank"
                if code
                else "the row gives neither a country code nor a country name"
            )
            raise _Problem("unknown_country", f"Incident {iid}: {what}.")
        given = f"the country code {code!r} is not ISO 3166-1, and " if code else ""
        raise _Problem(
            "unknown_country",
            f"Incident {iid}: {given}the country {name[:60]!r} is not one Salama can "
            "resolve. Add it to data/awsd/crosswalk.json (countries) or fix the row.",
        )
    if layout != "old_35":
        notes.append(("country_from_name", f"Incident {iid}: country {name!r} read as {country}"))
    return country


def _place(raw: dict, iid: str, country: str, context: Context, notes: list) -> dict:
    lat_text, lon_text = _text(raw, "Latitude"), _text(raw, "Longitude")
    if not lat_text and not lon_text:
        return {
            "latitude": None,
            "longitude": None,
            "coordinate_precision": "",
            "coordinates_obfuscated": False,
            "coordinate_check": c.CoordinateCheckStatus.NONE,
            "coordinate_note": "",
        }
    try:
        latitude, longitude = float(lat_text), float(lon_text)
    except ValueError:
        latitude = longitude = math.nan
    if not (
        math.isfinite(latitude)
        and math.isfinite(longitude)
        and -90 <= latitude <= 90
        and -180 <= longitude <= 180
    ):
        # Public copies of AWSD carry "1.407.092.855" for 14.07092855 (a spreadsheet read the
        # decimal point as a thousands separator): repaired only when one reading lands inside
        # the country, else the row is quarantined.
        try:
            point = repair_coordinate(lat_text, lon_text, country, context.tolerance_km)
        except ValueProblem as problem:
            raise _Problem("invalid_coordinates", f"Incident {iid}: {problem}") from None
        if point.repaired:
            notes.append(("coordinates_repaired", f"Incident {iid}: {point.note}"))
            return {
                "latitude": point.latitude,
                "longitude": point.longitude,
                "coordinate_precision": c.CoordinatePrecision.APPROXIMATE,
                "coordinates_obfuscated": True,
                "coordinate_check": point.check,
                "coordinate_note": point.note,
            }
        latitude, longitude = point.latitude, point.longitude
    check = coordinate_check(country, latitude, longitude, context.tolerance_km)
    note = ""
    if check.status == c.CoordinateCheckStatus.OUTSIDE:
        note = (
            f"AWSD places this point {check.distance_km} km outside {country_name(country)} "
            f"(more than {context.tolerance_km:g} km from its border). AWSD shifts some "
            "points on purpose: check it before using it on a map."
        )
        notes.append(("coordinates_outside", f"Incident {iid}: {note}"))
    return {
        "latitude": latitude,
        "longitude": longitude,
        "coordinate_precision": c.CoordinatePrecision.APPROXIMATE,
        "coordinates_obfuscated": True,
        "coordinate_check": check.status,
        "coordinate_note": note,
    }


def _coded(raw, column, vocabulary, iid, notes, *, blank="", unmapped="unknown") -> str:
    value = _text(raw, column)
    if not value:
        return blank
    code = vocabulary.get(value)
    if code is None:
        notes.append(
            (
                "unmapped_value",
                f"Incident {iid}: {column} {value[:60]!r} is not in the AWSD crosswalk; "
                f"imported as {unmapped or 'blank'}.",
            )
        )
        return unmapped
    return code


def _person_templates(captivity: bool) -> list[tuple[str, str, str, dict]]:
    return [
        (
            column,
            group,
            outcome,
            {
                "impact": impact,
                "cause": c.Cause.VIOLENCE,
                "recruitment": recruitment,
                "gender": c.Gender.OTHER_OR_UNKNOWN,
                "organisation_type": c.AffectedOrgType.UNKNOWN,
                "killed_in_captivity": captivity and impact == c.Impact.KILLED,
            },
        )
        for column, group, outcome, impact, recruitment in PERSON_COLUMNS
    ]


# The person rows' constant parts, built once: (column, nationality, outcome, fields).
PERSON_TEMPLATES = {False: _person_templates(False), True: _person_templates(True)}
MARGIN_COLUMNS = {
    layout: [
        (c.ReportedTotalDimension.GENDER, list(GENDER_COLUMNS.items())),
        (c.ReportedTotalDimension.ORGANISATION_TYPE, list(columns.items())),
    ]
    for layout, columns in ORGANISATION_TYPE_COLUMNS.items()
}


def _people(raw, iid, layout, means, notes) -> tuple[list[dict], list[dict]]:
    persons = []
    by_outcome = dict.fromkeys(OUTCOMES, 0)
    by_nationality = dict.fromkeys(NATIONALITIES, 0)
    captivity = means == c.MeansOfAttack.KIDNAP_KILLING
    for column, group, outcome, template in PERSON_TEMPLATES[captivity]:
        count = _count(raw, column, iid)
        if not count:
            continue
        by_nationality[group] += count
        by_outcome[outcome] += count
        persons.append({"count": count, **template})
    affected = sum(by_outcome.values())

    components = {**by_nationality, **by_outcome, "affected": affected}
    for column, key in STATED_TOTALS:
        if column in raw and (said := _count(raw, column, iid)) != components[key]:
            notes.append(
                (
                    "totals_mismatch",
                    f"Incident {iid}: {column} says {said} but its components add up to "
                    f"{components[key]}; the components were stored.",
                )
            )

    totals = []
    margins = {}
    consistent = True
    for dimension, columns in MARGIN_COLUMNS["old" if layout == "old_35" else "current"]:
        counts = {value: _count(raw, column, iid) for column, value in columns}
        margins[dimension] = counts
        consistent = consistent and sum(counts.values()) == affected
        totals += [
            {"dimension": dimension, "value": value, "count": count}
            for value, count in counts.items()
            if count
        ]
    # Counts are never negative here, so margins that add up have nothing to report.
    if not consistent:
        for problem in validate_totals(affected, margins):
            notes.append(("margins_mismatch", f"Incident {iid}: {problem}"))
    if not persons:
        notes.append(("no_persons", f"Incident {iid}: no person is counted in this row."))
    return persons, totals


def _subcategory(fields: dict) -> str:
    for name, value, subcategory in SUBCATEGORY_RULES:
        if fields.get(name) == value:
            return subcategory
    return SUBCATEGORY_DEFAULT


def to_facts(raw: dict, layout: str, context: Context) -> Facts | Reject:
    """One AWSD row as incident facts, or the reason it cannot be one."""
    iid = _text(raw, "Incident ID")
    if not iid:
        return Reject("missing_id", "The row has no Incident ID.")
    if len(iid) > 100:
        return Reject("invalid_id", f"The Incident ID {iid[:40]!r}… is longer than 100 characters.")
    notes: list[tuple[str, str]] = []
    try:
        date, precision = _date(raw, iid, context, notes)
        country = _country(raw, iid, layout, notes)
        place = _place(raw, iid, country, context, notes)
        means = _coded(raw, "Means of attack", MEANS, iid, notes)
        persons, totals = _people(raw, iid, layout, means, notes)
    except _Problem as problem:
        return problem.reject

    perpetrator_name = _text(raw, "Actor name")
    if norm(perpetrator_name) in NO_PERPETRATOR_NAME:
        perpetrator_name = ""
    fields = {
        "date": date,
        "date_precision": precision,
        "country": country,
        "admin1": _text(raw, "Region"),
        "admin2": _text(raw, "District"),
        "place": _text(raw, "City"),
        **place,
        "location_type": _coded(
            raw, "Location", LOCATIONS, iid, notes, blank=c.LocationType.UNKNOWN
        ),
        "category": c.Category.VIOLENCE,
        "means_of_attack": means,
        "attack_context": _coded(raw, "Attack context", CONTEXTS, iid, notes),
        "perpetrator_type": _coded(raw, "Actor type", PERPETRATORS, iid, notes),
        "perpetrator_name": perpetrator_name,
        "motive": _coded(raw, "Motive", MOTIVES, iid, notes),
        "narrative": _text(raw, "Details"),
        "verification": _coded(
            raw,
            "Verified",
            VERIFICATION,
            iid,
            notes,
            blank=c.Verification.UNVERIFIED,
            unmapped=c.Verification.UNVERIFIED,
        ),
        "marking": TLP.GREEN,
    }
    fields["subcategory"] = _subcategory(fields)
    source_kind = _coded(
        raw,
        "Source",
        SOURCE_KINDS,
        iid,
        notes,
        blank=c.SourceKind.DATABASE_IMPORT,
        unmapped=c.SourceKind.OTHER,
    )
    return Facts(
        external_id=iid,
        fields=fields,
        persons=persons,
        totals=totals,
        sources=[{"kind": source_kind, "system": SOURCE_SYSTEM, "external_id": iid}],
        notes=notes,
    )
