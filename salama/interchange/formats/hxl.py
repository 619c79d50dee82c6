"""Any HXL-tagged CSV or XLSX (Humanitarian Exchange Language), mapped by its hashtags.

HXL puts a row of hashtags under the header (``#date``, ``#country+code``,
``#affected+healthworker+killed``…), so a file says what its columns mean whatever their names.
Hashtags are matched with libhxl's tag patterns (``#affected+killed`` matches
``#affected +healthworker +killed``). Without a mapping the standard patterns below are used; a
mapping (``--mapping``, the ``table`` format's structure) may name columns by hashtag pattern
instead of by header, e.g. ``id: "#event+id"``, and overrides the defaults it names.

People: each impact (``+killed``, ``+injured``/``+wounded``, ``+kidnapped``/``+abducted``,
``+arrested``/``+detained``, ``+threatened``, ``+assaulted``, ``+sgbv``) is counted from one
column: the one with the fewest other attributes (the total), so a total and its splits are never
added together. ``+f``/``+female``, ``+m``/``+male``, ``+intl``, ``+national`` on that column
give gender or recruitment; ``+healthworker`` marks medical personnel.

External IDs are prefixed with the mapping's name (``source`` option, default "hxl"), so two
HXL sources cannot collide.
"""

import hxl
import hxl.model

from salama.incidents import choices as c
from salama.interchange.formats import (
    Context,
    Facts,
    NotThisFormat,
    Reading,
    Reject,
    load_data,
)
from salama.interchange.formats.table import Converter, load_mapping, validate_mapping
from salama.interchange.reading import open_table, table_rows
from salama.organisations.choices import OrganisationType

NAME = "hxl"
SOURCE_SYSTEM = "hxl"
STATUS = c.Status.CLOSED
DEFAULT_ORGANISATION = {
    "acronym": "HXL",
    "name": "HXL-tagged data (no organisation named)",
    "type": OrganisationType.OTHER,
}

_SIND = load_data("sind/crosswalk.json")
DEFAULTS = {
    "id": ["#event+id", "#incident+id", "#meta+id", "#id", "#event+code"],
    "date": ["#date+occurred", "#date+incident", "#date"],
    "country": ["#country+code", "#country+iso", "#country+name", "#country"],
    "fields": {
        "admin1": ["#adm1+name", "#adm1", "#admin"],
        "admin2": ["#adm2+name", "#adm2"],
        "place": ["#loc+name", "#loc"],
        "latitude": ["#geo+lat", "#lat"],
        "longitude": ["#geo+lon", "#geo+long", "#long", "#lon"],
        "narrative": ["#description", "#event+description", "#narrative"],
        "perpetrator_name": ["#group+perp+name"],
        "perpetrator_type": ["#group+perp"],
        "means_of_attack": ["#weapon", "#weapons"],
    },
}
VALUES = {
    "perpetrator_type": dict(_SIND["perpetrator_type"]),
    "means_of_attack": {k: v for k, v in _SIND["weapon"].items() if not k.startswith("_") and v},
}
IMPACTS = {
    "killed": c.Impact.KILLED,
    "injured": c.Impact.INJURED,
    "wounded": c.Impact.INJURED,
    "kidnapped": c.Impact.ABDUCTED,
    "abducted": c.Impact.ABDUCTED,
    "arrested": c.Impact.ARRESTED_DETAINED,
    "detained": c.Impact.ARRESTED_DETAINED,
    "threatened": c.Impact.INTIMIDATION_HARASSMENT,
    "assaulted": c.Impact.PHYSICAL_ASSAULT,
    "sgbv": c.Impact.SEXUAL_ASSAULT,
}
GENDERS = {"f": c.Gender.FEMALE, "female": c.Gender.FEMALE, "m": c.Gender.MALE, "male": "male"}
RECRUITMENT = {
    "intl": c.Recruitment.INTERNATIONAL,
    "international": c.Recruitment.INTERNATIONAL,
    "national": c.Recruitment.NATIONAL,
    "natl": c.Recruitment.NATIONAL,
}
# Attributes that say whose count it is, not a split of it ("+total" is the total itself).
POPULATIONS = {"healthworker", "aidworker", "aid_healthworker", "num", "total"}


def column_keys(header: list[str], hashtags: list[str]) -> list[str]:
    """Unique keys for the columns: the header name, or its hashtag and position when the name
    is blank or repeated (HXL files often have both)."""
    keys, seen = [], set()
    for i, name in enumerate(header):
        key = name
        if not key or key in seen:
            key = f"{hashtags[i] or 'column'} @{i + 1}"
        seen.add(key)
        keys.append(key)
    return keys


def resolve(spec: dict, keys: list[str], hashtags: list[str]) -> dict:
    """The mapping with every hashtag pattern replaced by the column it matches (first match)."""
    # Column.parse answers False, not None, for a cell that is not a hashtag.
    columns = [(hxl.model.Column.parse(tag) or None) if tag else None for tag in hashtags]

    def find(patterns) -> str:
        for pattern in patterns if isinstance(patterns, list) else [patterns]:
            if not isinstance(pattern, str):
                continue
            if not pattern.startswith("#") or pattern in keys:
                return pattern
            try:
                parsed = hxl.model.TagPattern.parse(pattern)
            except hxl.HXLException:
                return ""  # a malformed pattern matches nothing; validation says what is missing
            for key, column in zip(keys, columns, strict=True):
                if column and parsed.match(column):
                    return key
        return ""

    def entry(value):
        if isinstance(value, dict):
            if "column" in value:
                return {**value, "column": find(value["column"])}
            return value
        return find(value)

    resolved = {k: v for k, v in spec.items() if k not in ("id", "date", "country", "fields")}
    for key in ("id", "date", "country"):
        found = entry(spec.get(key, DEFAULTS[key]))
        if found:
            resolved[key] = found
    fields = {}
    given = spec.get("fields") or {}
    for name, patterns in {**DEFAULTS["fields"], **given}.items():
        found = entry(patterns)
        if found and (not isinstance(found, dict) or found.get("column") or "value" in found):
            if name in VALUES and isinstance(found, str):
                found = {"column": found, "values": VALUES[name]}
            fields[name] = found
    if ("latitude" in fields) != ("longitude" in fields):
        fields.pop("latitude", None)
        fields.pop("longitude", None)
    fields.setdefault("subcategory", {"value": "", "default": c.SubCategory.VIOLENCE_UNKNOWN})
    resolved["fields"] = fields
    if "persons" in spec:
        resolved["persons"] = [
            {**p, "column": find(p.get("column", ""))} for p in spec["persons"] if find(p["column"])
        ]
    else:
        resolved["persons"] = default_persons(keys, columns)
    return resolved


def default_persons(keys: list[str], columns: list) -> list[dict]:
    best: dict[str, tuple[int, dict]] = {}
    for key, column in zip(keys, columns, strict=True):
        if column is None or column.tag != "#affected":
            continue
        attributes = set(column.attributes)
        found = [IMPACTS[a] for a in attributes if a in IMPACTS]
        if len(found) != 1:
            continue
        impact = found[0]
        extra = attributes - set(IMPACTS) - POPULATIONS
        person = {"column": key, "impact": impact}
        genders = [GENDERS[a] for a in extra if a in GENDERS]
        recruitment = [RECRUITMENT[a] for a in extra if a in RECRUITMENT]
        if genders:
            person["gender"] = genders[0]
        if recruitment:
            person["recruitment"] = recruitment[0]
        if "healthworker" in attributes:
            person["is_medical"] = True
        if impact not in best or len(extra) < best[impact][0]:
            best[impact] = (len(extra), person)
    return [person for _, person in best.values()]


def read_file(path, mapping=None, sheet=None, source=None, **options) -> Reading:
    table = open_table(path, sheet=sheet)
    hashtags = table.hashtags
    if hashtags is None and all(h.startswith("#") for h in table.header if h):
        hashtags = list(table.header)  # the hashtag row is the header itself
    if not hashtags or not any(hashtags):
        raise NotThisFormat("This is not an HXL file: no row of hashtags under the header.")
    keys = column_keys(table.header, hashtags)
    spec = load_mapping(mapping) if mapping else {}
    resolved = resolve(spec, keys, hashtags)
    errors = validate_mapping(resolved, keys)
    if errors:
        raise NotThisFormat("The HXL hashtags do not say enough: " + " ".join(errors))
    prefix = source or spec.get("name") or "hxl"
    converter = Converter(resolved, SOURCE_SYSTEM, prefix=str(prefix)[:40])
    reading = Reading(
        f"hxl_{table.kind}", iter(()), to_facts=converter.to_facts, encoding=table.encoding[:30]
    )
    reading.table = table
    reading.mapping = resolved

    def rows():
        for row in table_rows(table, header=keys):
            reading.bytes_read = table.position()
            yield row

    reading.rows = rows()
    return reading


def to_facts(raw: dict, layout: str, context: Context) -> Facts | Reject:
    """The reading carries the converter built from the hashtags."""
    return Reject("no_mapping", "HXL rows are read through the file's hashtags.")
