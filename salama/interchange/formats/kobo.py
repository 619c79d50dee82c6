"""KoboToolbox and ODK submission exports (CSV or XLSX), read through a column mapping.

Form exports name columns by the question's path in its groups: ``incident/location/country``
(KoboToolbox), ``incident-location-country`` (ODK Briefcase and Central with the "-" separator),
or only ``country`` when groups are left out. A mapping (the ``table`` format's structure) may
give the full path or only the question's name: ``country`` finds ``incident/location/country``
when one column ends with it; two would be ambiguous and the mapping is refused with both
named. Without an ``id`` the submission's own identifier is used (``_uuid``,
``meta/instanceID``, ``KEY``, ``_id``), so importing a newer export updates the submissions it
already has. ``select_multiple`` answers are space-separated: say ``multi: " "`` for them.
"""

from salama.incidents import choices as c
from salama.interchange.formats import Context, Facts, ImportRefused, Reading, Reject, norm
from salama.interchange.formats.table import (
    Converter,
    load_mapping,
    mapped_columns,
    validate_mapping,
)
from salama.interchange.reading import tabular_reading
from salama.organisations.choices import OrganisationType

NAME = "kobo"
SOURCE_SYSTEM = "kobo"
STATUS = c.Status.CLOSED
DEFAULT_ORGANISATION = {
    "acronym": "IMPORTED",
    "name": "Imported tables (no organisation named)",
    "type": OrganisationType.OTHER,
}
SUBMISSION_IDS = ["_uuid", "meta/instanceID", "meta-instanceID", "instanceID", "KEY", "_id"]
SEPARATORS = "/-:."


def _segments(name: str) -> list[str]:
    text = norm(name)
    for sep in SEPARATORS[1:]:
        text = text.replace(sep, SEPARATORS[0])
    return [part for part in text.split(SEPARATORS[0]) if part]


def find_column(wanted: str, header: list[str]) -> tuple[str, list[str]]:
    """The header column a mapping's column means, and the candidates when it is ambiguous."""
    exact = [h for h in header if norm(h) == norm(wanted)]
    if exact:
        return exact[0], []
    parts = _segments(wanted)
    if not parts:
        return "", []
    same_path = [h for h in header if _segments(h) == parts]
    if len(same_path) == 1:
        return same_path[0], []
    ending = [h for h in header if _segments(h)[-len(parts) :] == parts]
    if len(ending) == 1:
        return ending[0], []
    return "", ending


def resolve(spec: dict, header: list[str]) -> dict:
    """The mapping with each column replaced by the export's column; ImportRefused when one is
    missing or ambiguous."""
    spec = dict(spec)
    if not spec.get("id"):
        spec["id"] = next(
            (found for name in SUBMISSION_IDS if (found := find_column(name, header)[0])), ""
        )
    problems = []
    resolved_names = {}
    for column in mapped_columns(spec):
        found, candidates = find_column(column, header)
        if found:
            resolved_names[column] = found
        elif candidates:
            shown = ", ".join(repr(x) for x in candidates[:4])
            problems.append(f"{column!r} is ambiguous ({shown}): give its full path.")
        else:
            problems.append(f"The export has no question {column!r}.")
    if problems:
        raise ImportRefused("The mapping does not fit this export: " + " ".join(problems))

    def entry(value):
        if isinstance(value, dict) and value.get("column"):
            return {**value, "column": resolved_names[value["column"]]}
        if isinstance(value, str):
            return resolved_names.get(value, value)
        return value

    out = {**spec}
    for key in ("id", "date", "time", "country"):
        if spec.get(key):
            out[key] = entry(spec[key])
    out["fields"] = {name: entry(value) for name, value in (spec.get("fields") or {}).items()}
    out["persons"] = [
        {**person, "column": resolved_names.get(person.get("column"), person.get("column"))}
        for person in spec.get("persons") or []
    ]
    return out


def read_file(path, mapping=None, sheet=None, **options) -> Reading:
    spec = load_mapping(mapping)
    holder = {}

    def sniff(table) -> str:
        resolved = resolve(spec, table.header)
        errors = validate_mapping(resolved, table.header)
        if errors:
            raise ImportRefused("The mapping is not usable: " + " ".join(errors))
        holder["spec"] = resolved
        return f"kobo_{table.kind}"

    reading = tabular_reading(path, sniff, sheet=sheet)
    converter = Converter(holder["spec"], SOURCE_SYSTEM, prefix=str(spec.get("name") or "kobo"))
    reading.to_facts = converter.to_facts
    reading.mapping = holder["spec"]
    return reading


def to_facts(raw: dict, layout: str, context: Context) -> Facts | Reject:
    """The reading carries the converter built from the mapping."""
    return Reject("no_mapping", "Kobo exports are read through a column mapping.")
