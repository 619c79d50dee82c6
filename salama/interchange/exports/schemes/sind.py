"""Insecurity Insight's Security in Numbers Database (SiND) categories, in the layout of its
aid-worker KIKA files (killed, injured, kidnapped, arrested), computed from the raw facts.

SiND's rules (``../shared/docs/domain.md`` §6.1), applied here and only here:

- **Killed**: killed by violence (not by accident or illness), *except* people killed in
  captivity: SiND keeps a person kidnapped and then killed as **kidnapped** (AWSD says
  killed). They are also counted in ``Aid Workers Killed in Captivity`` (and its splits),
  and the ``Known Kidnapping or Arrest Outcome`` is then ``Killed``.
- **Injured**: injured by violence. **Kidnapped**: abducted, plus those killed in captivity.
  **Arrested**: arrested or detained, whoever held them, with no judgement on legality.
- Nationals are national and locally recruited people; Female / Male splits count only the
  people whose gender is recorded.
- Every violence incident is written (SiND records threats, robberies and obstruction too),
  with zero counts when nobody was killed, injured, kidnapped or arrested; safety incidents
  (road crashes, illness) are not SiND events and are left out.

Value tables (geo precision, location, perpetrator, weapon, organisation) are [DEFAULT]
nearest-word mappings in ``data/sind.json``. Two columns follow SiND's own: ``Date
Precision`` (SiND gives full dates; ours may be known to the month or year only) and
``Salama Reference``.
"""

from collections import Counter
from functools import lru_cache

import pycountry

from salama.core.geo import country_name
from salama.incidents import choices as c
from salama.interchange.exports.schemes import Column, load_labels

NAME = "sind"
LABEL = "SiND (Insecurity Insight aid-worker KIKA layout)"

LABELS = load_labels("sind")
NO_INFORMATION = "No information"
# Impact → SiND category, for people not killed in captivity.
CATEGORY_OF = {
    c.Impact.KILLED: "Killed",
    c.Impact.INJURED: "Injured",
    c.Impact.ABDUCTED: "Kidnapped",
    c.Impact.ARRESTED_DETAINED: "Arrested",
}
GROUP_OF_RECRUITMENT = {
    c.Recruitment.NATIONAL: "National",
    c.Recruitment.LOCALLY_RECRUITED: "National",
    c.Recruitment.INTERNATIONAL: "International",
}
GROUP_OF_GENDER = {c.Gender.FEMALE: "Female", c.Gender.MALE: "Male"}
SPLITS = ["International", "National", "Female", "Male"]

# In the order of the KIKA files: totals, then killed and killed in captivity per split, then
# the other categories per split.
COUNT_COLUMNS = [
    "Aid Workers Killed",
    "Aid Workers Injured",
    "Aid Workers Kidnapped",
    "Aid Workers Arrested",
    "Known Kidnapping or Arrest Outcome",
    "Aid Workers Killed in Captivity",
    *(
        f"{split} Aid Workers {what}"
        for split in SPLITS
        for what in ("Killed", "Killed in Captivity")
    ),
    *(
        f"{split} Aid Workers {what}"
        for what in ("Injured", "Kidnapped", "Arrested")
        for split in SPLITS
    ),
]


def _hxl(name: str) -> str:
    if name.startswith("Known"):
        return "#affected+outcome"
    words = name.lower().replace("aid workers ", "").replace(" in captivity", "+captivity")
    parts = words.split()
    return "#affected+" + "+".join(parts)


COLUMNS = [
    Column("Date", "date", "#date"),
    Column("Event Description", "str", "#description"),
    Column("Country", "str", "#country+name"),
    Column("Country ISO", "str", "#country+code"),
    Column("Admin 1", "str", "#adm1+name"),
    Column("Latitude", "float", "#geo+lat"),
    Column("Longitude", "float", "#geo+lon"),
    Column("Geo Precision", "str", "#geo+precision"),
    Column("Location of Incident", "str", "#loc+type"),
    Column("Reported Perpetrator", "str", "#group+perpetrator+type"),
    Column("Reported Perpetrator Name", "str", "#group+perpetrator+name"),
    Column("Weapon Carried/Used", "str", "#event+weapon"),
    Column("Organisation Affected", "str", "#org+affected+type"),
    Column("Programme Focus", "str", "#sector"),
    *(
        Column(name, "str" if name.startswith("Known") else "int", _hxl(name))
        for name in COUNT_COLUMNS
    ),
    Column("SiND Event ID", "str", "#event+id+sind"),
    Column("Date Precision", "str", "#date+precision"),
    Column("Salama Reference", "str", "#event+id"),
]
COLUMN_NAMES = [col.name for col in COLUMNS]


def select(incidents):
    return incidents.filter(category=c.Category.VIOLENCE)


def category(person: dict) -> str | None:
    """A person's SiND category, or None when SiND does not count them.

    Killed in captivity → Kidnapped (AWSD would say Killed)."""
    if person["cause"] != c.Cause.VIOLENCE:
        return None
    if person["impact"] == c.Impact.KILLED and person["killed_in_captivity"]:
        return "Kidnapped"
    return CATEGORY_OF.get(person["impact"])


def kika_counts(persons: list[dict]) -> dict:
    """The KIKA count columns of one incident (see the module's docstring)."""
    cells = Counter()
    for person in persons:
        what = category(person)
        if what is None:
            continue
        n = person["count"]
        splits = [
            GROUP_OF_RECRUITMENT.get(person["recruitment"]),
            GROUP_OF_GENDER.get(person["gender"]),
        ]
        cells[f"Aid Workers {what}"] += n
        for split in filter(None, splits):
            cells[f"{split} Aid Workers {what}"] += n
        if person["impact"] == c.Impact.KILLED and person["killed_in_captivity"]:
            cells["Aid Workers Killed in Captivity"] += n
            for split in filter(None, splits):
                cells[f"{split} Aid Workers Killed in Captivity"] += n
    outcome = "Killed" if cells["Aid Workers Killed in Captivity"] else ""
    return {**cells, "Known Kidnapping or Arrest Outcome": outcome}


@lru_cache(maxsize=512)
def _country(code: str) -> tuple[str, str]:
    found = pycountry.countries.get(alpha_2=code) if code else None
    alpha3 = found.alpha_3 if found else ("XKX" if code == "XK" else code)
    return country_name(code) if code else "", alpha3


def _label(table: str, code: str) -> str:
    return LABELS[table].get(code, NO_INFORMATION) if code else NO_INFORMATION


def organisations(persons: list[dict], totals: list[dict]) -> str:
    """The affected organisations' types, SiND's way ("INGO, UN Agency"), sorted."""
    table = LABELS["organisation_type"]
    dimension = c.ReportedTotalDimension.ORGANISATION_TYPE
    values = {t["value"] for t in totals if t["dimension"] == dimension}
    values |= {p["organisation_type"] for p in persons}
    words = sorted({table[v] for v in values if v in table})
    return ", ".join(words)


def event_id(loaded) -> str:
    systems = LABELS["event_id_systems"]
    for source in loaded.sources:
        if source["system"] in systems and source["external_id"]:
            return source["external_id"]
    return ""


def row(loaded) -> tuple:
    incident, persons = loaded.incident, loaded.persons
    name, alpha3 = _country(incident["country"])
    has_point = incident["latitude"] is not None
    fixed = {
        "Date": incident["date"],
        "Event Description": incident["narrative"],
        "Country": name,
        "Country ISO": alpha3,
        "Admin 1": incident["admin1"],
        "Latitude": incident["latitude"],
        "Longitude": incident["longitude"],
        "Geo Precision": _label("geo_precision", incident["coordinate_precision"])
        if has_point
        else "",
        "Location of Incident": _label("location_type", incident["location_type"]),
        "Reported Perpetrator": _label("perpetrator_type", incident["perpetrator_type"]),
        "Reported Perpetrator Name": incident["perpetrator_name"],
        "Weapon Carried/Used": _label("means_of_attack", incident["means_of_attack"]),
        "Organisation Affected": organisations(persons, loaded.totals),
        "Programme Focus": "",
        "SiND Event ID": event_id(loaded),
        "Date Precision": incident["date_precision"],
        "Salama Reference": incident["reference"],
    }
    cells = kika_counts(persons)
    return tuple(fixed[n] if n in fixed else cells.get(n, 0) for n in COLUMN_NAMES)
