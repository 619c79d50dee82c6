"""Import formats as vertical slices, and what they share.

A format is one module in this package (``awsd.py``, later ``kika.py``, ``who_ssa.py``…)
that answers the same few questions, with module-level names:

- ``NAME``: the name people type (``salama import awsd FILE``);
- ``SOURCE_SYSTEM``: the ``Source.system`` its rows are identified by;
- ``DEFAULT_ORGANISATION``: acronym, name and type of the organisation that owns the data
  when the person importing names none;
- ``STATUS``: the workflow status imported incidents get;
- ``read(lines, **options) -> Reading``: does this file look like mine (raise
  :class:`NotThisFormat` if not), which layout is it, and its rows, one at a time; or, for
  formats that read bytes themselves (XLSX, JSON), ``read_file(path, **options) -> Reading``;
- ``to_facts(raw, layout, context) -> Facts | Reject``: one row as incident facts, or the
  reason to quarantine it.

The batch runner (``salama.interchange.runner``) does the rest: encoding, streaming,
idempotency, quarantine, the report and the audit entry. Adding a format is adding a module
here; the registry finds it.
"""

import csv
import importlib
import itertools
import json
import pkgutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

import pycountry

from salama.core.geo import check_coordinate, is_country_code

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


class ImportRefused(Exception):
    """The file cannot be imported at all; the message says why, for a person to read."""


class UnknownFormat(ImportRefused):
    pass


class NotThisFormat(ImportRefused):
    pass


@dataclass(frozen=True)
class Reject:
    """Why a row was quarantined: a stable reason code and a message that says what and where."""

    reason: str
    message: str


@dataclass
class Facts:
    """One row as an incident: its fields, affected persons, reported totals and sources.

    ``sources`` holds Source fields; the one whose ``system`` and ``external_id`` identify the
    row is how a later import finds the incident again. ``notes`` are (code, message) pairs
    the batch report keeps: things worth knowing that did not stop the row.
    """

    external_id: str
    fields: dict
    persons: list[dict] = field(default_factory=list)
    totals: list[dict] = field(default_factory=list)
    sources: list[dict] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Context:
    """What a batch knows once, for every row: the latest acceptable date, the border
    tolerance for coordinates."""

    latest_date: object  # datetime.date
    tolerance_km: float


@dataclass(frozen=True)
class Row:
    """One record of the file: its number as a spreadsheet shows it (the header is row 1),
    the raw cells by column name, and a problem if the record could not even be read."""

    number: int
    raw: dict
    problem: Reject | None = None


@dataclass
class Reading:
    """What a format's reader found: the layout, the rows (streamed), and optionally a
    converter of its own (``to_facts(raw, layout, context)``, e.g. built from a saved column
    mapping), the encoding it detected and how far it has read (for the progress bar)."""

    layout: str
    rows: Iterator[Row]
    to_facts: Callable | None = None
    encoding: str = ""
    bytes_read: int | None = None


# -- the registry --------------------------------------------------------------------------


@cache
def registry() -> dict:
    """Format name → module, for every module in this package that defines ``to_facts``."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        readable = hasattr(module, "read") or hasattr(module, "read_file")
        if hasattr(module, "to_facts") and readable:
            found[module.NAME] = module
    return dict(sorted(found.items()))


def get(name: str):
    try:
        return registry()[name]
    except KeyError:
        known = ", ".join(registry()) or "none"
        raise UnknownFormat(f"Unknown import format {name!r}; known formats: {known}.") from None


# -- vocabularies: data, matched forgivingly -----------------------------------------------


def norm(value) -> str:
    """Trimmed, inner spaces collapsed, case folded: 'Official Report ' → 'official report'."""
    return " ".join(str(value).split()).casefold()


class Vocabulary:
    """A mapping table from a data file: variant values → stable codes, keys normalised.

    Keys starting with "_" are comments.
    """

    def __init__(self, table: dict, valid_codes: Iterable[str] | None = None):
        self._codes = {norm(k): v for k, v in table.items() if not k.startswith("_")}
        self._seen: dict[str, str | None] = {}
        if valid_codes is not None:
            wrong = set(self._codes.values()) - set(valid_codes)
            if wrong:
                raise ValueError(f"codes not in the taxonomy: {sorted(wrong)}")

    def get(self, value) -> str | None:
        # Files repeat a few spellings a million times: remember each spelling seen.
        try:
            return self._seen[value]
        except KeyError:
            code = self._codes.get(norm(value))
            if len(self._seen) < 10_000:
                self._seen[value] = code
            return code

    def __contains__(self, value) -> bool:
        return norm(value) in self._codes


def load_data(relative: str) -> dict:
    return json.loads((DATA_DIR / relative).read_text(encoding="utf-8"))


# -- places: cached, because a million rows repeat a few thousand places -------------------


@lru_cache(maxsize=4096)
def country_from_name(name: str, extra: tuple[tuple[str, str], ...] = ()) -> str | None:
    """ISO alpha-2 for a country name: the format's own table first, then pycountry."""
    key = norm(name)
    if not key:
        return None
    for known, code in extra:
        if norm(known) == key:
            return code
    try:
        return pycountry.countries.lookup(name.strip()).alpha_2
    except LookupError:
        return None


@lru_cache(maxsize=1024)
def valid_country(code: str) -> bool:
    return is_country_code(code)


@lru_cache(maxsize=65536)
def coordinate_check(country: str, latitude: float, longitude: float, tolerance_km: float):
    return check_coordinate(country, latitude, longitude, tolerance_km)


# -- CSV, with or without an HXL hashtag row under the header ------------------------------


def is_hxl_row(cells: list[str]) -> bool:
    filled = [c.strip() for c in cells if c.strip()]
    return bool(filled) and all(c.startswith("#") for c in filled)


def read_csv(lines: Iterable[str], sniff) -> tuple[str, Iterator[Row]]:
    """Read a CSV header, ask ``sniff(header)`` for the layout, and stream its rows.

    ``sniff`` returns a layout name or raises :class:`NotThisFormat`. An HXL hashtag row
    under the header is skipped (the layout gets "+hxl"). Blank lines are not rows but keep
    their number, so row numbers match what a spreadsheet shows. A record the CSV parser
    cannot read becomes a row with a problem, and reading goes on.
    """
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        raise NotThisFormat("The file is empty.") from None
    except csv.Error as exc:
        raise NotThisFormat(f"The first line is not a CSV header ({exc}).") from None
    header = [cell.replace("\ufeff", "").strip() for cell in header]
    layout = sniff(header)
    records = _guarded(reader)
    blank = 0  # blank lines before the first record keep their row numbers
    for first in records:
        if isinstance(first, csv.Error) or any(cell.strip() for cell in first):
            break
        blank += 1
    else:
        return layout, iter(())
    if isinstance(first, list) and is_hxl_row(first):
        return f"{layout}+hxl", _rows(records, header, start=3 + blank)
    return layout, _rows(itertools.chain([first], records), header, start=2 + blank)


def _guarded(reader) -> Iterator[list[str] | csv.Error]:
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield exc


def _rows(records, header: list[str], start: int) -> Iterator[Row]:
    number = start - 1
    width = len(header)
    for record in records:
        number += 1
        if isinstance(record, csv.Error):
            yield Row(
                number,
                {},
                Reject("unreadable_row", f"Row {number} cannot be read as CSV: {record}."),
            )
            continue
        if not any(cell.strip() for cell in record):
            continue  # a blank line is not a row (but keeps its number, as in a spreadsheet)
        raw = dict(zip(header, record, strict=False))
        problem = None
        if len(record) != width:
            extra = record[width:]
            if len(record) > width and not any(cell.strip() for cell in extra):
                pass  # trailing empty cells, as spreadsheets write them
            else:
                if len(record) > width:
                    raw["_extra_cells"] = extra
                problem = Reject(
                    "wrong_number_of_cells",
                    f"Row {number} has {len(record)} cells but the header has {width}.",
                )
        yield Row(number, raw, problem)
