"""The Aid Worker Security Database's public layout, computed from Salama's raw facts.

The columns are AWSD's newest public layout (the 41 columns of the current download plus
``Nationals detained``, ``Internationals detained`` and ``Total detained``), in AWSD's order,
so ``salama import awsd`` reads an export back (as its ``detained`` layout) and AWSD users
open it as they open AWSD's own file. The HXL hashtags are those AWSD's files carry.

AWSD's rules (``../shared/docs/domain.md`` §5), applied here and only here:

- Only **major incidents** are written: violence that killed, wounded, kidnapped or detained
  at least one aid worker (safety incidents, intimidation, robbery… are left out, as AWSD
  leaves them out); the same incidents ``salama.incidents.figures`` counts.
- People are counted by outcome: killed, wounded (injured by violence), kidnapped (abducted),
  detained (arrested or detained). A person **kidnapped and then killed is killed** (stored as
  killed, ``killed_in_captivity``), and the incident's means of attack becomes
  ``Kidnap-killing`` when it said kidnapping or nothing more precise.
- Nationals are national and locally recruited people; people whose recruitment is unknown
  are in neither nationality column, only in the ``Total …`` columns (AWSD has no column for
  them, and guessing would invent a fact).
- Gender and organisation-type columns come from the totals the source gave for that
  dimension alone (as AWSD's own margins were imported) when there are any, otherwise from
  the people counted; kinds AWSD has no column for (unknown organisation type) are left out.
- ``Incident ID`` is the incident's AWSD ID when it came from AWSD (so a round trip finds the
  same incidents), otherwise its Salama reference.
"""

from collections import Counter
from functools import lru_cache

from django.db.models import Exists, OuterRef

from salama.core.geo import country_name
from salama.incidents import choices as c
from salama.incidents.figures import AWSD_OUTCOMES, awsd_persons
from salama.interchange.exports.schemes import Column, load_labels

NAME = "awsd"
LABEL = "AWSD (Aid Worker Security Database public layout)"
SOURCE_SYSTEM = "awsd"

LABELS = load_labels("awsd")
OUTCOME_OF = {impact: outcome for outcome, impact in AWSD_OUTCOMES.items()}
NATIONALITY_OF = {
    c.Recruitment.NATIONAL: "Nationals",
    c.Recruitment.LOCALLY_RECRUITED: "Nationals",
    c.Recruitment.INTERNATIONAL: "Internationals",
}
OUTCOMES = list(AWSD_OUTCOMES)  # killed, wounded, kidnapped, detained
ORG_COLUMNS = ["UN", "INGO", "ICRC", "NRCS and IFRC", "NNGO", "Other"]
GENDER_COLUMNS = ["Gender Male", "Gender Female", "Gender Unknown"]

COLUMNS = [
    Column("Incident ID", "str", "#event+id"),
    Column("Year", "int", "#date+year"),
    Column("Month", "int", "#date+month"),
    Column("Day", "int", "#date+day"),
    Column("Country Code", "str", "#country+code"),
    Column("Country", "str", "#country+name"),
    Column("Region", "str", "#adm1+name"),
    Column("District", "str", "#adm2+name"),
    Column("City", "str", "#loc+name"),
    Column("UN", "int", "#affected+org_un"),
    Column("INGO", "int", "#affected+org_ingo"),
    Column("ICRC", "int", "#affected+org_icrc"),
    Column("NRCS and IFRC", "int", "#affected+org_nrcs_ifrc"),
    Column("NNGO", "int", "#affected+org_nngo"),
    Column("Other", "int", "#affected+org_other"),
    *(
        Column(f"Nationals {outcome}", "int", f"#affected+{outcome}+national")
        for outcome in OUTCOMES
    ),
    Column("Total nationals", "int", "#affected+national+total"),
    *(
        Column(f"Internationals {outcome}", "int", f"#affected+{outcome}+international")
        for outcome in OUTCOMES
    ),
    Column("Total internationals", "int", "#affected+international+total"),
    *(Column(f"Total {outcome}", "int", f"#affected+{outcome}+total") for outcome in OUTCOMES),
    Column("Total affected", "int", "#affected+total"),
    Column("Gender Male", "int", "#affected+m"),
    Column("Gender Female", "int", "#affected+f"),
    Column("Gender Unknown", "int", "#affected+gender_unknown"),
    Column("Means of attack", "str", "#event+means"),
    Column("Attack context", "str", "#event+context"),
    Column("Location", "str", "#loc+type"),
    Column("Latitude", "float", "#geo+lat"),
    Column("Longitude", "float", "#geo+lon"),
    Column("Motive", "str", "#event+motive"),
    Column("Actor type", "str", "#group+perpetrator+type"),
    Column("Actor name", "str", "#group+perpetrator+name"),
    Column("Details", "str", "#description"),
    Column("Verified", "str", "#status+verified"),
    Column("Source", "str", "#meta+source"),
]
COLUMN_NAMES = [col.name for col in COLUMNS]


def select(incidents):
    """AWSD's major incidents among ``incidents`` (see the module's docstring)."""
    return incidents.filter(category=c.Category.VIOLENCE).filter(
        Exists(awsd_persons().filter(incident=OuterRef("pk")))
    )


def counted(persons: list[dict]) -> list[dict]:
    """The person rows AWSD counts: killed, wounded, kidnapped or detained by violence."""
    return [p for p in persons if p["cause"] == c.Cause.VIOLENCE and p["impact"] in OUTCOME_OF]


def outcome_counts(persons: list[dict]) -> dict[str, int]:
    """AWSD's victim columns (``Nationals killed`` … ``Total affected``) for one incident.

    A person killed in captivity is stored as killed, so counts as killed here: AWSD's rule.
    """
    cells = Counter()
    for person in counted(persons):
        n, outcome = person["count"], OUTCOME_OF[person["impact"]]
        group = NATIONALITY_OF.get(person["recruitment"])
        if group:
            cells[f"{group} {outcome}"] += n
            cells[f"Total {group.lower()}"] += n
        cells[f"Total {outcome}"] += n
        cells["Total affected"] += n
    return cells


def margin_counts(persons: list[dict], totals: list[dict]) -> dict[str, int]:
    """AWSD's gender and organisation-type columns for one incident."""
    cells = Counter()
    people = counted(persons)
    for dimension, attribute, columns in (
        (c.ReportedTotalDimension.GENDER, "gender", LABELS["gender_columns"]),
        (
            c.ReportedTotalDimension.ORGANISATION_TYPE,
            "organisation_type",
            LABELS["organisation_type_columns"],
        ),
    ):
        given = [t for t in totals if t["dimension"] == dimension]
        if given:
            pairs = ((t["value"], t["count"]) for t in given)
        else:
            pairs = ((p[attribute], p["count"]) for p in people)
        for value, n in pairs:
            if value in columns:
                cells[columns[value]] += n
    return cells


def means_of_attack(incident: dict, persons: list[dict]) -> str:
    """The means AWSD would give: a kidnapping in which someone was killed in captivity is a
    ``Kidnap-killing``."""
    means = incident["means_of_attack"]
    killed_in_captivity = any(p["killed_in_captivity"] for p in counted(persons))
    if killed_in_captivity and means in ("", c.MeansOfAttack.KIDNAPPING, c.MeansOfAttack.UNKNOWN):
        means = c.MeansOfAttack.KIDNAP_KILLING
    return means


def _label(table: str, code: str) -> str:
    if not code:
        return ""
    return LABELS[table].get(code, "Unknown")


@lru_cache(maxsize=512)
def _country(code: str) -> str:
    return country_name(code) if code else ""


def _date_parts(incident: dict) -> tuple:
    date, precision = incident["date"], incident["date_precision"]
    month = date.month if precision != c.DatePrecision.YEAR else None
    day = date.day if precision == c.DatePrecision.DAY else None
    return date.year, month, day


def incident_id(loaded) -> str:
    for source in loaded.sources:
        if source["system"] == SOURCE_SYSTEM and source["external_id"]:
            return source["external_id"]
    return loaded.incident["reference"]


def source_label(loaded) -> str:
    ours = [s for s in loaded.sources if s["system"] == SOURCE_SYSTEM] or loaded.sources
    return _label("source_kind", ours[0]["kind"]) if ours else ""


def row(loaded) -> tuple:
    incident, persons = loaded.incident, loaded.persons
    cells = {**outcome_counts(persons), **margin_counts(persons, loaded.totals)}
    year, month, day = _date_parts(incident)
    fixed = {
        "Incident ID": incident_id(loaded),
        "Year": year,
        "Month": month,
        "Day": day,
        "Country Code": incident["country"],
        "Country": _country(incident["country"]),
        "Region": incident["admin1"],
        "District": incident["admin2"],
        "City": incident["place"],
        "Means of attack": _label("means_of_attack", means_of_attack(incident, persons)),
        "Attack context": _label("attack_context", incident["attack_context"]),
        "Location": _label("location_type", incident["location_type"]),
        "Latitude": incident["latitude"],
        "Longitude": incident["longitude"],
        "Motive": _label("motive", incident["motive"]),
        "Actor type": _label("perpetrator_type", incident["perpetrator_type"]),
        "Actor name": incident["perpetrator_name"],
        "Details": incident["narrative"],
        "Verified": _label("verification", incident["verification"]),
        "Source": source_label(loaded),
    }
    return tuple(fixed[name] if name in fixed else cells.get(name, 0) for name in COLUMN_NAMES)
