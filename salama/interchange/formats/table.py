"""Any CSV or XLSX, read through a named column mapping (``salama import table FILE --mapping``).

A mapping says which column holds what; it is data, saved by name in the database (made on the
upload page) or written as a YAML file::

    name: unhcr-field-reports          # also the prefix of the external IDs: unhcr-field-reports:42
    id: Incident ref                   # the column that identifies a row (required)
    date: {column: Date, day_first: true}
    time: Time                         # optional
    country: Country                   # ISO alpha-2 / alpha-3 code or English name
    marking: AMBER                     # TLP of the imported incidents (default AMBER)
    fields:
      place: Town
      admin1: Province
      latitude: Lat
      longitude: Lon
      narrative: Description
      subcategory:
        column: Type
        values: {Shooting: armed_conflict, Robbery: crime}   # value mappings for the list
        default: violence_unknown                            # when blank or not mapped
      means_of_attack: {column: Weapon, values: {Gun: shooting}}
      health_facility_hit: {value: true}                     # a constant
    persons:
      - {column: Staff killed, impact: killed}
      - {column: National staff injured, impact: injured, recruitment: national}

Fields that take a category list (subcategory, means_of_attack, location_type…) accept the
list's own codes and labels as they are, and anything else through ``values``; a value neither
knows becomes the field's ``default`` (or "unknown"/blank) with an ``unmapped_value`` note, and
for the sub-category, which every incident needs, the row is quarantined when there is no
default. ``category`` follows from the sub-category.

``validate_mapping(spec, header)`` lists what is wrong with a mapping (unknown fields, codes not
in the taxonomy, columns the file does not have), for the upload page and before any batch.
The ``kobo`` and ``hxl`` formats reuse this engine.
"""

import datetime
from pathlib import Path

import yaml

from salama.core.markings import TLP
from salama.incidents import choices as c
from salama.interchange.formats import (
    Context,
    Facts,
    ImportRefused,
    Reading,
    Reject,
    norm,
)
from salama.interchange.formats.kika import Problem, country_of, event_date, place
from salama.interchange.reading import (
    ValueProblem,
    parse_count,
    parse_flag,
    parse_time,
    split_values,
    tabular_reading,
)
from salama.organisations.choices import OrganisationType

NAME = "table"
SOURCE_SYSTEM = "table"
STATUS = c.Status.CLOSED
DEFAULT_ORGANISATION = {
    "acronym": "IMPORTED",
    "name": "Imported tables (no organisation named)",
    "type": OrganisationType.OTHER,
}

CHOICE_FIELDS = {
    "subcategory": c.SubCategory,
    "means_of_attack": c.MeansOfAttack,
    "attack_context": c.AttackContext,
    "location_type": c.LocationType,
    "perpetrator_type": c.PerpetratorType,
    "motive": c.Motive,
    "verification": c.Verification,
    "coordinate_precision": c.CoordinatePrecision,
    "marking": TLP,
}
TEXT_FIELDS = {
    "admin1": 120,
    "admin2": 120,
    "place": 200,
    "perpetrator_name": 200,
    "narrative": 20000,
}
FLAG_FIELDS = ["premises_hit", "vehicles_hit", "supplies_hit", "health_facility_hit"]
COORDINATES = ["latitude", "longitude"]
FIELDS = [*CHOICE_FIELDS, *TEXT_FIELDS, *FLAG_FIELDS, *COORDINATES]
PERSON_CHOICES = {
    "impact": c.Impact,
    "recruitment": c.Recruitment,
    "gender": c.Gender,
    "organisation_type": c.AffectedOrgType,
    "cause": c.Cause,
}
PERSON_FLAGS = ["is_medical", "on_duty", "killed_in_captivity"]
# What a field becomes when its cell is blank or not mapped, unless the mapping says otherwise.
BLANK = {
    "location_type": c.LocationType.UNKNOWN,
    "verification": c.Verification.UNVERIFIED,
    "coordinate_precision": c.CoordinatePrecision.APPROXIMATE,
}
UNMAPPED = {
    "means_of_attack": c.MeansOfAttack.UNKNOWN,
    "attack_context": c.AttackContext.UNKNOWN,
    "location_type": c.LocationType.UNKNOWN,
    "perpetrator_type": c.PerpetratorType.UNKNOWN,
    "motive": c.Motive.UNKNOWN,
    "verification": c.Verification.UNVERIFIED,
    "coordinate_precision": c.CoordinatePrecision.APPROXIMATE,
}


# -- mappings: loading and checking ------------------------------------------------------


def load_mapping(mapping) -> dict:
    """A mapping given as a dict, a YAML file path, or the name of a saved ColumnMapping."""
    if isinstance(mapping, dict):
        return mapping
    if not mapping:
        raise ImportRefused(
            "This format needs a column mapping: --mapping NAME (a saved mapping) or "
            "--mapping FILE.yaml."
        )
    text = str(mapping)
    if text.endswith((".yaml", ".yml", ".json")) or Path(text).is_file():
        try:
            spec = yaml.safe_load(Path(text).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
            raise ImportRefused(f"The mapping file {text} cannot be read: {exc}") from None
        if not isinstance(spec, dict):
            raise ImportRefused(f"The mapping file {text} does not hold a mapping.")
        spec.setdefault("name", Path(text).stem)
        return spec
    from salama.interchange.models import ColumnMapping

    found = list(ColumnMapping.objects.filter(name=text)[:2])
    if len(found) != 1:
        what = "No saved mapping" if not found else "More than one saved mapping"
        raise ImportRefused(f"{what} is called {text!r}.")
    return {**found[0].spec, "name": found[0].name}


def _column(entry) -> str:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict):
        return str(entry.get("column") or "")
    return ""


def mapped_columns(spec: dict) -> list[str]:
    """Every column the mapping reads, in order."""
    columns = [_column(spec.get(key)) for key in ("id", "date", "time", "country")]
    columns += [_column(entry) for entry in (spec.get("fields") or {}).values()]
    columns += [_column(entry) for entry in spec.get("persons") or []]
    return [col for col in dict.fromkeys(columns) if col]


def validate_mapping(spec: dict, header: list[str] | None = None) -> list[str]:
    """What is wrong with ``spec`` (and with it for a file with ``header``); [] when nothing."""
    errors = []
    if not isinstance(spec, dict):
        return ["The mapping is not a set of 'key: value' lines."]
    if not _column(spec.get("id")):
        errors.append("Say which column identifies a row ('id').")
    if not _column(spec.get("date")):
        errors.append("Say which column holds the date ('date').")
    if not _column(spec.get("country")) and not spec.get("country_code"):
        errors.append("Say which column holds the country ('country'), or give 'country_code'.")
    if spec.get("country_code") and not _valid_country(spec["country_code"]):
        errors.append(f"country_code {spec['country_code']!r} is not an ISO 3166-1 code.")
    if spec.get("marking") and spec["marking"] not in TLP.values:
        errors.append(f"marking {spec['marking']!r} is not one of {', '.join(TLP.values)}.")
    fields = spec.get("fields") or {}
    if not isinstance(fields, dict):
        errors.append("'fields' must map field names to columns.")
        fields = {}
    for name, entry in fields.items():
        if name not in FIELDS:
            errors.append(f"Unknown field {name!r}; known: {', '.join(FIELDS)}.")
            continue
        if not isinstance(entry, (str, dict)):
            errors.append(f"Field {name!r}: give a column name or {{column: …, values: …}}.")
            continue
        if isinstance(entry, dict) and not entry.get("column") and "value" not in entry:
            errors.append(f"Field {name!r}: say which column ('column') or a constant ('value').")
        choices = CHOICE_FIELDS.get(name)
        if choices and isinstance(entry, dict):
            codes = list((entry.get("values") or {}).values())
            codes += [entry[k] for k in ("default", "value") if entry.get(k) not in (None, "")]
            wrong = sorted({str(code) for code in codes} - set(choices.values) - {""})
            if wrong:
                errors.append(
                    f"Field {name!r}: {', '.join(wrong)} not in the list "
                    f"({', '.join(choices.values)})."
                )
    if ("latitude" in fields) != ("longitude" in fields):
        errors.append("Map both latitude and longitude, or neither.")
    persons = spec.get("persons") or []
    if not isinstance(persons, list):
        errors.append("'persons' must be a list of {column: …, impact: …}.")
        persons = []
    for i, person in enumerate(persons, start=1):
        if not isinstance(person, dict) or not person.get("column") or not person.get("impact"):
            errors.append(f"Person count {i}: give its column and impact.")
            continue
        for key, choices in PERSON_CHOICES.items():
            if key in person and person[key] not in choices.values:
                errors.append(
                    f"Person count {i}: {key} {person[key]!r} is not one of "
                    f"{', '.join(choices.values)}."
                )
    if header is not None:
        have = {norm(h) for h in header}
        missing = [col for col in mapped_columns(spec) if norm(col) not in have]
        if missing:
            errors.append(
                "The file has no column "
                + ", ".join(repr(m) for m in missing[:8])
                + (" …" if len(missing) > 8 else "")
                + "."
            )
    return errors


def _valid_country(code) -> bool:
    from salama.interchange.formats import valid_country

    return isinstance(code, str) and valid_country(code.upper())


# -- the converter -----------------------------------------------------------------------


class Converter:
    """Rows to facts through a mapping: ``Converter(spec, system, prefix).to_facts``."""

    def __init__(self, spec: dict, system: str, prefix: str | None = None):
        self.spec = spec
        self.system = system
        self.prefix = prefix if prefix is not None else str(spec.get("name") or "")
        self.fields = spec.get("fields") or {}
        self.marking = spec.get("marking") or TLP.AMBER
        self.day_first = _option(spec.get("date"), "day_first", None)
        self.values = {
            name: {norm(k): v for k, v in (entry.get("values") or {}).items()}
            for name, entry in self.fields.items()
            if isinstance(entry, dict)
        }
        self.labels = {
            name: {
                **{norm(label): code for code, label in choices.choices},
                **{norm(code): code for code in choices.values},
            }
            for name, choices in CHOICE_FIELDS.items()
        }
        self._columns: dict[str, str] = {}

    def cell(self, raw: dict, column: str):
        if not column:
            return ""
        if column in raw:
            return raw[column]
        # Trailing spaces and case in exported headers.
        key = self._columns.get(column)
        if key is None:
            wanted = norm(column)
            key = next((k for k in raw if isinstance(k, str) and norm(k) == wanted), "")
            self._columns[column] = key
        return raw.get(key, "") if key else ""

    def external_id(self, raw: dict) -> str:
        value = self.cell(raw, _column(self.spec.get("id")))
        text = " ".join(str(value or "").split())
        if text.endswith(".0") and text[:-2].isdigit():
            text = text[:-2]
        if not text:
            return ""
        return f"{self.prefix}:{text}" if self.prefix else text

    def to_facts(self, raw: dict, layout: str, context: Context) -> Facts | Reject:
        eid = self.external_id(raw)
        if not eid:
            return Reject("missing_id", "The row has no ID (the mapping's 'id' column is blank).")
        if len(eid) > 100:
            return Reject("invalid_id", f"The ID {eid[:40]!r}… is longer than 100 characters.")
        notes: list[tuple[str, str]] = []
        try:
            when = event_date(
                self.cell(raw, _column(self.spec.get("date"))),
                eid,
                context,
                day_first=self.day_first,
            )
            country = self._country(raw, eid)
            fields = self._fields(raw, eid, notes)
            if "latitude" in self.fields:
                lat = self.cell(raw, _column(self.fields["latitude"]))
                lon = self.cell(raw, _column(self.fields["longitude"]))
                where = place(
                    {"lat": lat, "lon": lon},
                    "lat",
                    "lon",
                    country,
                    eid,
                    context,
                    notes,
                    fields.pop("coordinate_precision", ""),
                )
                fields.update(where)
            persons = self._persons(raw, eid)
        except Problem as problem:
            return problem.reject
        time = when.time
        if self.spec.get("time"):
            time = parse_time(self.cell(raw, _column(self.spec["time"]))) or time
        fields.update(
            {
                "date": when.date,
                "date_precision": when.precision,
                "time": time.isoformat() if isinstance(time, datetime.time) else None,
                "country": country,
                "marking": fields.get("marking") or self.marking,
            }
        )
        fields.setdefault("location_type", c.LocationType.UNKNOWN)
        fields.setdefault("verification", c.Verification.UNVERIFIED)
        if fields.get("latitude") is None:
            fields.pop("coordinate_precision", None)
        fields["category"] = c.CATEGORY_OF[fields["subcategory"]]
        if not persons:
            notes.append(("no_persons", f"{eid}: no person is counted in this row."))
        return Facts(
            external_id=eid,
            fields=fields,
            persons=persons,
            sources=[
                {"kind": c.SourceKind.DATABASE_IMPORT, "system": self.system, "external_id": eid}
            ],
            notes=notes,
        )

    def _country(self, raw: dict, eid: str) -> str:
        if self.spec.get("country_code"):
            return str(self.spec["country_code"]).upper()
        value = " ".join(str(self.cell(raw, _column(self.spec.get("country"))) or "").split())
        mapped = (_option(self.spec.get("country"), "values", None) or {}).get(value)
        if mapped:
            value = mapped
        code = value if len(value) in (2, 3) and value.isalpha() else ""
        return country_of(code, value, eid)

    def _fields(self, raw: dict, eid: str, notes: list) -> dict:
        fields: dict = {}
        for name, entry in self.fields.items():
            if name in COORDINATES:
                continue
            if isinstance(entry, dict) and "value" in entry and not entry.get("column"):
                value = entry["value"]
            else:
                value = self.cell(raw, _column(entry))
            if name in TEXT_FIELDS:
                text = " ".join(str(value or "").replace("\x00", "").split())
                fields[name] = text[: TEXT_FIELDS[name]]
            elif name in FLAG_FIELDS:
                fields[name] = bool(parse_flag(value)) if not isinstance(value, bool) else value
            else:
                fields[name] = self._code(name, value, entry, eid, notes)
        if not fields.get("subcategory"):
            default = _option(self.fields.get("subcategory"), "default", None)
            if not default:
                raise Problem(
                    "unmapped_value",
                    f"{eid}: the sub-category is blank or not mapped, and the mapping gives no "
                    "default for it.",
                )
            fields["subcategory"] = default
        return fields

    def _code(self, name: str, value, entry, eid: str, notes: list) -> str:
        multi = _option(entry, "multi", False)
        if multi:
            pieces = split_values(value, multi if isinstance(multi, str) else ";|\n,")
        else:
            pieces = [" ".join(str(value or "").split())]
        pieces = [p for p in pieces if p]
        default = _option(entry, "default", None)
        if not pieces:
            return default if default is not None else BLANK.get(name, "")
        for piece in pieces:
            key = norm(piece)
            code = self.values.get(name, {}).get(key) or self.labels[name].get(key)
            if code:
                return code
        fallback = default if default is not None else UNMAPPED.get(name, "")
        notes.append(
            (
                "unmapped_value",
                f"{eid}: {name} {str(value)[:60]!r} is not mapped; imported as "
                f"{fallback or 'blank'}.",
            )
        )
        return fallback

    def _persons(self, raw: dict, eid: str) -> list[dict]:
        persons = []
        for person in self.spec.get("persons") or []:
            column = person["column"]
            try:
                n = parse_count(self.cell(raw, column))
            except ValueProblem as exc:
                raise Problem("invalid_number", f"{eid}: {column}: {exc}") from None
            if not n:
                continue
            row = {
                "count": n,
                "impact": person["impact"],
                "cause": person.get("cause", c.Cause.VIOLENCE),
                "recruitment": person.get("recruitment", c.Recruitment.UNKNOWN),
                "gender": person.get("gender", c.Gender.OTHER_OR_UNKNOWN),
                "organisation_type": person.get("organisation_type", c.AffectedOrgType.UNKNOWN),
            }
            for flag in PERSON_FLAGS:
                if flag in person:
                    value = person[flag]
                    nullable = flag != "killed_in_captivity"
                    row[flag] = None if value is None and nullable else bool(value)
            persons.append(row)
        return persons


def _option(entry, key, default):
    return entry.get(key, default) if isinstance(entry, dict) else default


# -- the format ----------------------------------------------------------------------------


def read_file(path, mapping=None, sheet=None, header_row=None, **options) -> Reading:
    spec = load_mapping(mapping)
    errors = validate_mapping(spec)
    if errors:
        raise ImportRefused("The mapping is not usable: " + " ".join(errors))
    converter = Converter(spec, SOURCE_SYSTEM)

    def sniff(table) -> str:
        errors = validate_mapping(spec, table.header)
        if errors:
            raise ImportRefused(" ".join(errors))
        return f"{table.kind}:{spec.get('name') or 'mapping'}"[:60]

    return tabular_reading(
        path, sniff, sheet=sheet, header_row=header_row, to_facts=converter.to_facts
    )


def to_facts(raw: dict, layout: str, context: Context) -> Facts | Reject:
    """Without a mapping a table cannot be read; the reading carries the mapping's converter."""
    return Reject("no_mapping", "The table format needs a column mapping.")
