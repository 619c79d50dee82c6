"""Salama's own layout: every incident field with its stable code, one row per incident.

Codes, not labels (``killed``, ``armed_conflict``, ``AMBER``): they never change and read the
same in every language; the labels are in ``salama/incidents/choices.py``. Affected persons
become per-incident counts (by impact, cause, recruitment and gender, each person row counted
``count`` times), the totals a source gave for one dimension only stay apart
(``reported_totals``), and formats with several tables (XLSX) also get the person rows
themselves. Names of people are never in Salama's tables, so never in an export.
"""

from collections import Counter

from salama.incidents import choices as c
from salama.interchange.exports.schemes import Column

NAME = "native"
LABEL = "Salama (every field, stable codes)"

INCIDENT_COLUMNS = [
    Column("reference", "str", "#event+id"),
    Column("organisation", "str", "#org+owner+acronym"),
    Column("status", "str", "#status+workflow"),
    Column("date", "date", "#date"),
    Column("date_precision", "str", "#date+precision"),
    Column("time", "time", "#date+time"),
    Column("country", "str", "#country+code"),
    Column("admin1", "str", "#adm1+name"),
    Column("admin2", "str", "#adm2+name"),
    Column("place", "str", "#loc+name"),
    Column("latitude", "float", "#geo+lat"),
    Column("longitude", "float", "#geo+lon"),
    Column("coordinate_precision", "str", "#geo+precision"),
    Column("coordinates_obfuscated", "bool", "#geo+obfuscated"),
    Column("coordinate_check", "str", "#geo+check"),
    Column("location_type", "str", "#loc+type"),
    Column("category", "str", "#event+category"),
    Column("subcategory", "str", "#event+type"),
    Column("means_of_attack", "str", "#event+means"),
    Column("attack_context", "str", "#event+context"),
    Column("perpetrator_type", "str", "#group+perpetrator+type"),
    Column("perpetrator_name", "str", "#group+perpetrator+name"),
    Column("motive", "str", "#event+motive"),
    Column("premises_hit", "bool", "#impact+premises"),
    Column("vehicles_hit", "bool", "#impact+vehicles"),
    Column("supplies_hit", "bool", "#impact+supplies"),
    Column("health_facility_hit", "bool", "#impact+health_facility"),
    Column("verification", "str", "#status+verified"),
    Column("marking", "str", "#meta+marking"),
    Column("narrative", "str", "#description"),
]
IMPACT_COLUMNS = [Column(impact.value, "int", f"#affected+{impact.value}") for impact in c.Impact]
COUNT_COLUMNS = [
    Column("affected", "int", "#affected+total"),
    Column("killed_in_captivity", "int", "#affected+killed+captivity"),
    Column("cause_violence", "int", "#affected+violence"),
    Column("cause_safety", "int", "#affected+safety"),
    *(Column(f"recruitment_{r.value}", "int", f"#affected+{r.value}") for r in c.Recruitment),
    *(Column(f"gender_{g.value}", "int", f"#affected+gender_{g.value}") for g in c.Gender),
    Column("reported_totals", "str", "#affected+reported"),
    Column("sources", "str", "#meta+source"),
]
CRASH = (
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
CRASH_KINDS = {"seatbelt_worn": "bool", "speed_related": "bool"}
CRASH_COLUMNS = [
    Column(
        f"crash_{name}",
        CRASH_KINDS.get(name, "int" if name.startswith("third_party") else "str"),
        f"#crash+{name}",
    )
    for name in CRASH
]
TIME_COLUMNS = [
    Column(name, "datetime", f"#date+{name.removesuffix('_at')}")
    for name in ("submitted_at", "endorsed_at", "closed_at", "created_at", "updated_at")
]
COLUMNS = [*INCIDENT_COLUMNS, *IMPACT_COLUMNS, *COUNT_COLUMNS, *CRASH_COLUMNS, *TIME_COLUMNS]

PERSON_COLUMNS = [
    Column("reference", "str", "#event+id"),
    Column("count", "int", "#affected+num"),
    Column("impact", "str", "#affected+impact"),
    Column("cause", "str", "#affected+cause"),
    Column("recruitment", "str", "#affected+recruitment"),
    Column("gender", "str", "#affected+gender"),
    Column("organisation_type", "str", "#affected+org_type"),
    Column("is_medical", "bool", "#affected+medical"),
    Column("on_duty", "bool", "#affected+on_duty"),
    Column("killed_in_captivity", "bool", "#affected+killed+captivity"),
]

_INCIDENT_KEYS = [
    "organisation__acronym" if col.name == "organisation" else col.name for col in INCIDENT_COLUMNS
]
_TIME_KEYS = [col.name for col in TIME_COLUMNS]


def select(incidents):
    return incidents


def person_counts(persons: list[dict]) -> dict:
    """Counts of people by impact, cause, recruitment and gender (aggregate rows weigh
    ``count``), and how many were killed in captivity."""
    counts = Counter()
    for person in persons:
        n = person["count"]
        counts[person["impact"]] += n
        counts["affected"] += n
        counts[f"cause_{person['cause']}"] += n
        counts[f"recruitment_{person['recruitment']}"] += n
        counts[f"gender_{person['gender']}"] += n
        if person["killed_in_captivity"]:
            counts["killed_in_captivity"] += n
    return counts


def _joined(items, text) -> str:
    return "; ".join(text(item) for item in items)


def row(loaded) -> tuple:
    incident = loaded.incident
    counts = person_counts(loaded.persons)
    crash = loaded.crash or {}
    return (
        *(incident[key] for key in _INCIDENT_KEYS),
        *(counts[col.name] for col in IMPACT_COLUMNS),
        *(counts[col.name] for col in COUNT_COLUMNS[:-2]),
        _joined(loaded.totals, lambda t: f"{t['dimension']}.{t['value']}={t['count']}"),
        _joined(
            loaded.sources,
            lambda s: ":".join(p for p in (s["kind"], s["system"], s["external_id"]) if p),
        ),
        *(crash.get(name) for name in CRASH),
        *(incident[key] for key in _TIME_KEYS),
    )


def person_rows(loaded):
    reference = loaded.incident["reference"]
    for person in loaded.persons:
        yield (reference, *(person[col.name] for col in PERSON_COLUMNS[1:]))
