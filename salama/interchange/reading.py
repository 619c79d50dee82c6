"""What the importers share about reading real files: bytes to cells, cells to values.

Real exports are messy in the same few ways, so each answer lives here once:

- **text encoding**: byte-order marks (UTF-8, UTF-16, UTF-32); otherwise UTF-8 where it can be
  read as such, each byte that cannot being read as cp1252 (old exports mix them line by
  line), and charset-normalizer's guess when the start of the file is not UTF-8 at all;
- **delimiter**: the header line tells (comma, semicolon, tab or pipe, outside quotes);
- **streaming**: lines are read in pieces of at most ``LINE_LIMIT`` characters and the CSV
  reader refuses fields above ``FIELD_LIMIT``, so a 100 MB line costs a bounded amount of
  memory and becomes one quarantined row; XLSX is read with openpyxl's read-only mode, after a
  look at the zip directory that refuses zip bombs (``XlsxGuard``);
- **dates** in the forms real files use, with the precision they establish (day, month,
  year) and the time when they give one;
- **counts** with thousands separators, blanks as zero; **multi-valued cells**;
- **coordinates that lost their decimal point** (``1.407.092.855`` for ``14.07092855``):
  :func:`repair_coordinate`.

Nothing here knows a format: formats call these and turn the answers into facts.
"""

import codecs
import csv
import datetime
import io
import itertools
import json
import math
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from salama.incidents import choices as c
from salama.interchange.formats import (
    ImportRefused,
    NotThisFormat,
    Reading,
    Reject,
    Row,
    coordinate_check,
    is_hxl_row,
    norm,
)

# A line longer than this reaches the CSV reader in pieces (see the module docstring).
LINE_LIMIT = 1 << 20
# The longest cell accepted; a longer one makes its row unreadable (quarantined), not the file.
# It is the csv module's own limit (process-wide, so left as it is): smaller than LINE_LIMIT, so
# a line cut into pieces always trips it rather than passing as rows.
FIELD_LIMIT = csv.field_size_limit()
# Cells of a row that is already a problem are kept up to this length in the quarantine.
PROBLEM_CELL_LIMIT = 2000
# How much of a file's start is looked at to tell its encoding and delimiter.
SNIFF_BYTES = 1 << 16
# At most this many columns are read: beyond, a header is not a header.
MAX_COLUMNS = 2000


class FileRefused(ImportRefused):
    """The file cannot be read at all (damaged, a disguised archive, an unknown kind)."""


# -- text: encoding and delimiter --------------------------------------------------------


def _utf8_or_cp1252(error: UnicodeDecodeError):
    """Decode each byte UTF-8 cannot as cp1252 (Latin-1 for the five bytes cp1252 lacks)."""
    bad = error.object[error.start : error.end]
    text = "".join(
        bytes([b]).decode("cp1252", errors="strict")
        if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)
        # cp1252 leaves these five undefined; Latin-1 maps them to control characters.
        else bytes([b]).decode("latin-1")
        for b in bad
    )
    return text, error.end


codecs.register_error("salama_utf8_or_cp1252", _utf8_or_cp1252)

BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]
# The encodings a guess may land on; anything else (a guess on random bytes) reads as cp1252.
PLAUSIBLE = {
    "utf_8",
    "cp1252",
    "latin_1",
    "iso8859_15",
    "cp1250",
    "cp1251",
    "cp1256",
    "iso8859_2",
    "iso8859_6",
    "koi8_r",
    "mac_roman",
    "utf_16",
    "utf_16_le",
    "utf_16_be",
    "gb18030",
    "big5",
    "shift_jis",
    "euc_kr",
}


def detect_encoding(sample: bytes) -> tuple[str, str]:
    """The (encoding, error handler) to read a file whose first bytes are ``sample``."""
    for bom, name in BOMS:
        if sample.startswith(bom):
            return name, "replace"
    if len(sample) >= 4 and sample[1:4:2] == b"\x00\x00" and b"\x00" not in sample[0:4:2]:
        return "utf-16-le", "replace"
    if len(sample) >= 4 and sample[0:4:2] == b"\x00\x00" and b"\x00" not in sample[1:4:2]:
        return "utf-16-be", "replace"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8", "salama_utf8_or_cp1252"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(sample[:SNIFF_BYTES]).best()
    name = codecs.lookup(best.encoding).name.replace("-", "_") if best else ""
    if name in PLAUSIBLE and name != "utf_8":
        return codecs.lookup(name).name, "replace"
    return "utf-8", "salama_utf8_or_cp1252"


def detect_delimiter(first_line: str) -> str:
    """The delimiter of a header line: the candidate found most often outside quotes."""
    counts = dict.fromkeys(",;\t|", 0)
    quoted = False
    for char in first_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(counts, key=lambda k: counts[k])
    return best if counts[best] else ","


# -- tables: CSV and XLSX as numbered records of text cells ------------------------------


@dataclass
class Table:
    """A file as a header and numbered records (lists of text cells), read lazily.

    ``records`` yields ``(number, cells)`` with the row number a spreadsheet shows, or
    ``(number, Reject)`` for a record that cannot be read; ``position()`` says how many
    bytes were read so far (for the progress bar).
    """

    kind: str  # "csv" or "xlsx"
    encoding: str
    header: list[str]
    records: Iterator[tuple[int, list[str] | Reject]]
    position: Callable[[], int]
    delimiter: str = ""
    sheet: str = ""
    hashtags: list[str] | None = None
    header_row: int = 1


def is_xlsx(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(4) == b"PK\x03\x04"


def open_table(path, *, sheet: str | None = None, header_row: int | None = None) -> Table:
    """The file at ``path`` as a :class:`Table`: XLSX when it is a zip, CSV otherwise.

    ``header_row`` (1-based) says where the header is; by default it is the first row that is
    not blank. A row of HXL hashtags right under the header is taken as such
    (``Table.hashtags``) and is not a record.
    """
    path = Path(path)
    with open(path, "rb") as handle:
        start = handle.read(8)
    if start.startswith(b"PK\x03\x04"):
        table = _open_xlsx(path, sheet)
    elif start.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRefused(
            f"{path.name} is an old Excel 97–2003 (.xls) workbook; save it as .xlsx or CSV."
        )
    elif start.startswith(b"PK"):
        raise FileRefused(f"{path.name} is a zip archive but not an XLSX workbook.")
    else:
        table = _open_csv(path)
    return _with_header(table, header_row)


def _with_header(table: Table, header_row: int | None) -> Table:
    records = table.records
    header = None
    skipped = 0
    for number, cells in records:
        if isinstance(cells, Reject):
            raise NotThisFormat(f"The header cannot be read: {cells.message}")
        if header_row is not None and number < header_row:
            continue
        if header_row is None and not any(cell.strip() for cell in cells):
            skipped += 1
            if skipped > 50:
                break
            continue
        header = [cell.replace("\ufeff", "").strip() for cell in cells[:MAX_COLUMNS]]
        table.header_row = number
        break
    if not header or not any(header):
        raise NotThisFormat("The file has no header row (it is empty or blank).")
    while header and not header[-1]:
        header.pop()
    table.header = header
    first = next(records, None)
    if first is not None and isinstance(first[1], list) and is_hxl_row(first[1]):
        table.hashtags = [cell.strip() for cell in first[1][: len(header)]]
        table.hashtags += [""] * (len(header) - len(table.hashtags))
        first = None
    table.records = itertools.chain([first] if first else [], records)
    return table


def _open_csv(path: Path) -> Table:
    handle = open(path, "rb")  # noqa: SIM115 (closed when the records end)
    sample = handle.read(SNIFF_BYTES)
    handle.seek(0)
    encoding, errors = detect_encoding(sample)
    text = io.TextIOWrapper(handle, encoding=encoding, errors=errors, newline="")
    first = text.readline(LINE_LIMIT)
    text.seek(0)
    delimiter = detect_delimiter(first)

    def lines() -> Iterator[str]:
        while line := text.readline(LINE_LIMIT):
            yield line

    def records() -> Iterator[tuple[int, list[str] | Reject]]:
        reader = csv.reader(lines(), delimiter=delimiter)
        try:
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    number = reader.line_num
                    yield number, Reject("unreadable_row", f"Row {number} cannot be read: {exc}.")
                    continue
                yield reader.line_num, [cell.replace("\x00", "") for cell in cells]
        finally:
            handle.close()

    def position() -> int:
        try:
            return handle.tell()
        except (ValueError, OSError):
            return 0

    shown = encoding if errors != "salama_utf8_or_cp1252" else "utf-8 (cp1252 where not)"
    return Table("csv", shown, [], records(), position, delimiter=delimiter)


# -- XLSX -------------------------------------------------------------------------------


@dataclass(frozen=True)
class XlsxGuard:
    """Limits a workbook must respect before openpyxl sees it.

    A zip bomb is a small file that expands enormously: refused by the declared size of each
    member and its compression ratio (real sheets compress 5–30 times; bombs 1,000 times).
    zipfile never reads past a member's declared size, so lying sizes cannot get round it.
    The parts openpyxl loads whole (shared strings, styles, workbook) get a tighter limit
    than the sheets it streams.
    """

    max_total: int = 8 << 30
    max_loaded_part: int = 256 << 20
    max_ratio: int = 200
    max_members: int = 10_000


GUARD = XlsxGuard()


def check_xlsx(path: Path, guard: XlsxGuard = GUARD) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FileRefused(
            f"{path.name} is not a readable XLSX workbook (damaged or truncated: {exc})."
        ) from None
    names = {m.filename for m in members}
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        raise FileRefused(f"{path.name} is a zip archive but not an XLSX workbook.")
    if len(members) > guard.max_members:
        raise FileRefused(f"{path.name} has {len(members):,} parts: refused as a zip bomb.")
    total = 0
    for member in members:
        total += member.file_size
        streamed = member.filename.startswith("xl/worksheets/")
        limit = guard.max_total if streamed else guard.max_loaded_part
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > limit or (member.file_size > (1 << 20) and ratio > guard.max_ratio):
            raise FileRefused(
                f"{path.name}: the part {member.filename} expands from "
                f"{member.compress_size:,} to {member.file_size:,} bytes; refused as a zip bomb."
            )
    if total > guard.max_total:
        raise FileRefused(f"{path.name} expands to {total:,} bytes; refused as a zip bomb.")


def cell_text(value) -> str:
    """A spreadsheet cell as the text a CSV export of it would hold."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


def _open_xlsx(path: Path, sheet: str | None) -> Table:
    import openpyxl

    check_xlsx(path)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise FileRefused(
            f"{path.name} is not a readable XLSX workbook ({type(exc).__name__}: {exc})."
        ) from None
    names = workbook.sheetnames
    if sheet:
        if sheet not in names:
            workbook.close()
            shown = ", ".join(repr(n) for n in names)
            raise FileRefused(f"{path.name} has no sheet {sheet!r}; its sheets: {shown}.")
        worksheet = workbook[sheet]
    else:
        worksheet = workbook[names[0]]
    size = path.stat().st_size
    state = {"rows": 0}

    def records() -> Iterator[tuple[int, list[str] | Reject]]:
        number = 0
        try:
            for number, row in enumerate(worksheet.iter_rows(values_only=True), start=1):
                state["rows"] = number
                yield number, [cell_text(v) for v in row[:MAX_COLUMNS]]
        except Exception as exc:  # a damaged sheet: the rows read so far stand
            yield (
                number + 1,
                Reject(
                    "unreadable_rest",
                    f"The workbook is damaged after row {number}; nothing after it could be "
                    f"read ({type(exc).__name__}: {str(exc)[:200]}).",
                ),
            )
        finally:
            workbook.close()

    def position() -> int:
        dimension = getattr(worksheet, "max_row", None) or 0
        if not dimension:
            return 0
        return min(size, int(size * state["rows"] / dimension))

    return Table("xlsx", "xlsx", [], records(), position, sheet=worksheet.title)


# -- rows --------------------------------------------------------------------------------


def table_rows(table: Table, header: list[str] | None = None) -> Iterator[Row]:
    """The table's records as :class:`Row` objects keyed by the header (names or hashtags).

    Blank records are not rows (they keep their number); a record wider than the header with
    anything in the extra cells is a problem, as is a record the reader could not read.
    """
    header = header or table.header
    width = len(header)
    for number, cells in table.records:
        if isinstance(cells, Reject):
            yield Row(number, {}, cells)
            continue
        if not any(cell.strip() for cell in cells):
            continue
        raw = dict(zip(header, cells, strict=False))
        problem = None
        if len(cells) > width and any(cell.strip() for cell in cells[width:]):
            raw = _clipped(raw)
            raw["_extra_cells"] = [cell[:PROBLEM_CELL_LIMIT] for cell in cells[width : width + 50]]
            problem = Reject(
                "wrong_number_of_cells",
                f"Row {number} has {len(cells)} cells but the header has {width}.",
            )
        elif len(cells) < width and table.kind == "csv":
            raw = _clipped(raw)
            problem = Reject(
                "wrong_number_of_cells",
                f"Row {number} has {len(cells)} cells but the header has {width} "
                "(a cut-off line?).",
            )
        yield Row(number, raw, problem)


def _clipped(raw: dict) -> dict:
    """A problem row's cells, each cut at PROBLEM_CELL_LIMIT with a mark saying so."""
    return {
        key: value
        if len(value) <= PROBLEM_CELL_LIMIT
        else f"{value[:PROBLEM_CELL_LIMIT]}…[{len(value) - PROBLEM_CELL_LIMIT:,} more characters]"
        for key, value in raw.items()
    }


def tabular_reading(
    path, sniff: Callable[[Table], str], *, sheet=None, header_row=None, to_facts=None
) -> Reading:
    """Open ``path``, ask ``sniff(table)`` for the layout (it raises NotThisFormat), and
    return a :class:`Reading` streaming its rows, with the encoding and progress filled in."""
    table = open_table(path, sheet=sheet, header_row=header_row)
    layout = sniff(table)
    if table.hashtags and not layout.endswith("+hxl"):
        layout += "+hxl"
    reading = Reading(layout, iter(()), to_facts=to_facts, encoding=table.encoding[:30])
    reading.table = table

    def rows() -> Iterator[Row]:
        for row in table_rows(table):
            reading.bytes_read = table.position()
            yield row

    reading.rows = rows()
    return reading


def missing_columns(header: Iterable[str], wanted: Iterable[str]) -> list[str]:
    have = {norm(h) for h in header}
    return [w for w in wanted if norm(w) not in have]


def refuse_layout(what: str, missing: list[str]) -> NotThisFormat:
    shown = ", ".join(repr(m) for m in missing[:6]) + (" …" if len(missing) > 6 else "")
    return NotThisFormat(f"This is not {what}: its header lacks {len(missing)} column(s): {shown}.")


def by_normalised_name(raw: dict) -> dict:
    """The row's cells keyed by normalised column name (trailing spaces, case)."""
    return {norm(k): v for k, v in raw.items() if isinstance(k, str)}


# -- JSON arrays, streamed ---------------------------------------------------------------


def json_records(path, *, max_record: int = 16 << 20) -> Iterator[tuple[int, dict | Reject]]:
    """The objects of a JSON array (``[{...}, {...}]``), one at a time, numbered from 1.

    Reads in pieces, so memory holds one record, not the file. A record that is not an object
    is a Reject; a file cut off in the middle ends with a Reject for the cut record; a record
    larger than ``max_record`` ends the reading with a Reject.
    """
    decoder = json.JSONDecoder()
    with open(path, "rb") as handle:
        sample = handle.read(SNIFF_BYTES)
        handle.seek(0)
        encoding, _ = detect_encoding(sample)
        text = io.TextIOWrapper(handle, encoding=encoding, errors="replace")
        buffer = text.read(1 << 16).lstrip("\ufeff \t\r\n")
        if not buffer.startswith("["):
            raise NotThisFormat("The file is not a JSON array of records (it does not start '[').")
        buffer = buffer[1:]
        number = 0
        eof = False
        while True:
            buffer = buffer.lstrip(" \t\r\n,")
            if buffer.startswith("]"):
                return
            if not buffer and eof:
                number += 1
                yield number, Reject("truncated", "The file ends before the closing ']'.")
                return
            try:
                value, end = decoder.raw_decode(buffer)
            except json.JSONDecodeError as exc:
                if not eof and len(buffer) < max_record:
                    more = text.read(1 << 16)
                    eof = not more
                    buffer += more
                    continue
                number += 1
                what = "cut off" if eof else "larger than the limit"
                yield (
                    number,
                    Reject(
                        "unreadable_record",
                        f"Record {number} is not valid JSON ({what}: {exc.msg}).",
                    ),
                )
                return
            number += 1
            buffer = buffer[end:]
            if isinstance(value, dict):
                yield number, value
            else:
                yield (
                    number,
                    Reject(
                        "not_a_record",
                        f"Record {number} is a {type(value).__name__}, not an object.",
                    ),
                )
            if len(buffer) < (1 << 15) and not eof:
                more = text.read(1 << 16)
                eof = not more
                buffer += more


# -- dates -------------------------------------------------------------------------------


class ValueProblem(ValueError):
    """A cell that cannot be read as what its column holds; the message says why."""


MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january", "janvier", "enero"),
            ("feb", "february", "fevrier", "février", "febrero"),
            ("mar", "march", "mars", "marzo"),
            ("apr", "april", "avril", "abril"),
            ("may", "mai", "mayo"),
            ("jun", "june", "juin", "junio"),
            ("jul", "july", "juillet", "julio"),
            ("aug", "august", "aout", "août", "agosto"),
            ("sep", "sept", "september", "septembre", "septiembre"),
            ("oct", "october", "octobre", "octubre"),
            ("nov", "november", "novembre", "noviembre"),
            ("dec", "december", "decembre", "décembre", "diciembre"),
        ],
        start=1,
    )
    for name in names
}
_TIME = r"(?:[T ]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*([AaPp]\.?[Mm]\.?)?)?"
_ZONE = r"\s*(?:Z|[+-]\d{2}:?\d{2}|UTC|GMT)?"
ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})" + _TIME + _ZONE)
SLASHED = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})" + _TIME + _ZONE)
YEAR_FIRST_SLASHED = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})" + _TIME + _ZONE)
YEAR_MONTH = re.compile(r"(\d{4})[-/](\d{1,2})")
MONTH_YEAR = re.compile(r"(\d{1,2})[-/](\d{4})")
YEAR = re.compile(r"(\d{4})(?:\.0+)?")
WORDS = re.compile(r"[A-Za-zÀ-ÿ]+|\d+")
SERIAL = re.compile(r"\d{5}(?:\.\d+)?")
EXCEL_EPOCH = datetime.date(1899, 12, 30)


@dataclass(frozen=True)
class When:
    date: datetime.date
    precision: str  # DatePrecision
    time: datetime.time | None = None


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        # Two-digit years in incident exports are this century unless that is the future.
        this = datetime.date.today().year % 100
        year += 2000 if year <= this + 1 else 1900
    return year


def _clock(hour, minute, second, half) -> datetime.time | None:
    if hour is None:
        return None
    h, m, s = int(hour), int(minute), int(second or 0)
    if half:
        pm = half[0] in "Pp"
        if not 1 <= h <= 12:
            raise ValueError("hour")
        h = (h % 12) + (12 if pm else 0)
    return datetime.time(h, m, s)


def parse_date(value, *, day_first: bool | None = None, serials: bool = False) -> When | None:
    """A date cell as a :class:`When`, ``None`` when blank; ValueProblem when not a date.

    Forms: ISO (``2024-02-26``, ``2023-04-29T00:00:00.000Z``), slashed or dotted
    (``2/8/24 12:00 AM``, ``08.02.2024``), ``2024-02`` and ``Feb 2024`` (month precision),
    ``2024`` (year precision), ``8 February 2024``, ``February 8, 2024``, ``8-Feb-24``, and
    spreadsheet serial numbers when ``serials``. ``day_first`` settles ``02/08/2024``: True
    (8 February), False (2 August, the US order), None (decided only when one part is over 12,
    else a ValueProblem saying it is ambiguous). Midnight is not a time: exports write
    ``12:00 AM`` for "time unknown".
    """
    text = " ".join(str(value).split()) if value is not None else ""
    if not text:
        return None
    try:
        return _parse_date(text, day_first, serials)
    except (ValueError, OverflowError) as exc:
        if isinstance(exc, ValueProblem):
            raise
        raise ValueProblem(f"{text[:40]!r} is not a date.") from None


def _when(y, m, d, time=None) -> When:
    date = datetime.date(y, m, d)
    if time == datetime.time(0):
        time = None
    return When(date, c.DatePrecision.DAY, time)


def _parse_date(text: str, day_first, serials) -> When:
    if match := ISO.fullmatch(text):
        y, m, d, *clock = match.groups()
        return _when(int(y), int(m), int(d), _clock(*clock))
    if match := YEAR_FIRST_SLASHED.fullmatch(text):
        y, m, d, *clock = match.groups()
        return _when(int(y), int(m), int(d), _clock(*clock))
    if match := SLASHED.fullmatch(text):
        a, b, y, *clock = match.groups()
        a, b = int(a), int(b)
        if a > 12 >= b:
            first = True
        elif b > 12 >= a:
            first = False
        elif a == b:
            first = True
        elif day_first is None:
            raise ValueProblem(
                f"{text[:40]!r} is ambiguous: day/month or month/day? Say which in the mapping."
            )
        else:
            first = day_first
        d, m = (a, b) if first else (b, a)
        return _when(_year(y), m, d, _clock(*clock))
    if match := YEAR_MONTH.fullmatch(text):
        y, m = int(match[1]), int(match[2])
        return When(datetime.date(y, m, 1), c.DatePrecision.MONTH)
    if match := MONTH_YEAR.fullmatch(text):
        m, y = int(match[1]), int(match[2])
        return When(datetime.date(y, m, 1), c.DatePrecision.MONTH)
    if match := YEAR.fullmatch(text):
        return When(datetime.date(int(match[1]), 1, 1), c.DatePrecision.YEAR)
    if serials and SERIAL.fullmatch(text):
        days = float(text)
        date = EXCEL_EPOCH + datetime.timedelta(days=int(days))
        return When(date, c.DatePrecision.DAY)
    return _worded(text)


def _worded(text: str) -> When:
    words = WORDS.findall(text.casefold())
    months = [MONTHS[w] for w in words if w in MONTHS]
    numbers = [w for w in words if w.isdigit()]
    others = [w for w in words if not w.isdigit() and w not in MONTHS]
    if len(months) != 1 or any(w not in {"st", "nd", "rd", "th", "of"} for w in others):
        raise ValueError(text)
    month = months[0]
    if len(numbers) == 1 and len(numbers[0]) == 4:
        return When(datetime.date(int(numbers[0]), month, 1), c.DatePrecision.MONTH)
    if len(numbers) == 2:
        long = [n for n in numbers if len(n) == 4]
        if len(long) == 1:
            day = numbers[1] if numbers[0] == long[0] else numbers[0]
            return _when(int(long[0]), month, int(day))
        if not long:
            # 8-Feb-24: the day comes first, the two-digit year last.
            return _when(_year(numbers[1]), month, int(numbers[0]))
    raise ValueError(text)


def parse_time(value) -> datetime.time | None:
    """``14:05``, ``2:05 PM``; None for blanks, ranges (``12:00-18:00``) and "Time Unknown"."""
    text = " ".join(str(value or "").split())
    match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp]\.?[Mm]\.?)?", text)
    if not match:
        return None
    try:
        return _clock(*match.groups())
    except ValueError:
        return None


# -- numbers and lists -------------------------------------------------------------------

_SPACES = str.maketrans("", "", " \u00a0\u202f\u2009'’_")
THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+")


def parse_count(value) -> int:
    """A cell as a whole number of people or things: blank is 0; ``1,234``, ``1 234``,
    ``1'234`` and ``3.0`` are read; a negative, fractional or wordy cell is a ValueProblem."""
    if value is None:
        return 0
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueProblem(f"{value} is negative.")
        return value
    text = str(value).strip()
    if not text or text == "-":
        return 0
    if text.isdigit() and text.isascii():
        return int(text)
    text = text.translate(_SPACES)
    if THOUSANDS.fullmatch(text):
        return int(text.replace(",", ""))
    try:
        number = float(text)
    except ValueError:
        raise ValueProblem(f"{str(value)[:40]!r} is not a whole number.") from None
    if not math.isfinite(number) or number < 0 or not number.is_integer():
        raise ValueProblem(f"{str(value)[:40]!r} is not a whole number (0 or more).")
    return int(number)


def parse_flag(value) -> bool | None:
    """YES/NO-like cells: True, False, or None when blank or unknown."""
    key = norm(value or "")
    if key in {"yes", "y", "true", "1", "oui", "si", "sí", "x"}:
        return True
    if key in {"no", "n", "false", "0", "non"}:
        return False
    return None


def split_values(value, separators: str = ";|\n,") -> list[str]:
    """A multi-valued cell as its trimmed, non-blank values, in order, without repeats."""
    text = str(value or "")
    for sep in separators[1:]:
        text = text.replace(sep, separators[0])
    return list(dict.fromkeys(part.strip() for part in text.split(separators[0]) if part.strip()))


def split_known(value, labels: Iterable[str]) -> tuple[list[str], list[str]]:
    """A multi-valued cell whose values may themselves hold commas (WHO SSA's attack types):
    the known labels found, longest first, and the leftover pieces that are not known."""
    text = norm(value or "")
    found = []
    for label in sorted({norm(x) for x in labels}, key=len, reverse=True):
        if label and label in text:
            found.append((text.index(label), label))
            text = text.replace(label, " ; ")
    leftovers = [p for p in split_values(text, ";,") if p.strip(" ;,.")]
    return [label for _, label in sorted(found)], leftovers


# -- coordinates -------------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    """A coordinate read from two cells: the check against the stated country, and a note when
    it was repaired (``check`` is then ``repaired``)."""

    latitude: float | None
    longitude: float | None
    check: str  # CoordinateCheckStatus
    distance_km: float | None = None
    repaired: bool = False
    note: str = ""


NO_POINT = Point(None, None, c.CoordinateCheckStatus.NONE)
LOST_POINT = re.compile(r"-?\d{1,3}(?:\.\d{3}){2,}")
DECIMAL_COMMA = re.compile(r"-?\d{1,3},\d+")


def _number(text: str) -> float | None:
    if DECIMAL_COMMA.fullmatch(text):
        text = text.replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _lost_point_candidates(text: str, limit: float) -> list[float]:
    """The values ``text`` may have been before its decimal point was lost: ``1.407.092.855``
    (a number whose dots became thousands separators) or ``1407092855`` (digits only)."""
    if not (LOST_POINT.fullmatch(text) or re.fullmatch(r"-?\d{4,}", text)):
        return []
    sign = -1.0 if text.startswith("-") else 1.0
    digits = re.sub(r"\D", "", text)
    found = []
    for whole in (1, 2, 3):
        if whole < len(digits):
            value = sign * float(f"{digits[:whole]}.{digits[whole:]}")
            if abs(value) <= limit:
                found.append(value)
    return found


def repair_coordinate(latitude, longitude, country: str, tolerance_km: float) -> Point:
    """Two coordinate cells as a :class:`Point`, repairing a lost decimal point when the repair
    lands inside ``country``; ValueProblem when they are not a coordinate.

    Public copies of AWSD carry coordinates such as ``1.407.092.855`` for ``14.07092855``:
    a spreadsheet read the decimal point as a thousands separator. Each way of putting the point
    back (after the first, second or third digit) that lies within ±90/±180 is tried; the repair
    is kept only when exactly one placement puts the point inside the country (or within the
    border tolerance) and the note says what was read as what. Otherwise the cells are refused:
    a guess that lands elsewhere would put an incident on the wrong map.

    The AWSD importer can call it as ``repair_coordinate(lat_text, lon_text, country,
    context.tolerance_km)`` and store ``point.check`` / ``point.note``.
    """
    lat_text = str(latitude if latitude is not None else "").strip()
    lon_text = str(longitude if longitude is not None else "").strip()
    if not lat_text and not lon_text:
        return NO_POINT
    if not lat_text or not lon_text:
        raise ValueProblem(
            f"Latitude {lat_text[:30]!r}, Longitude {lon_text[:30]!r}: a coordinate needs both."
        )
    lat, lon = _number(lat_text), _number(lon_text)
    lat_ok = lat is not None and -90 <= lat <= 90 and not LOST_POINT.fullmatch(lat_text)
    lon_ok = lon is not None and -180 <= lon <= 180 and not LOST_POINT.fullmatch(lon_text)
    if lat_ok and lon_ok:
        check = coordinate_check(country, lat, lon, tolerance_km)
        return Point(lat, lon, check.status, check.distance_km)
    lats = [lat] if lat_ok else _lost_point_candidates(lat_text, 90)
    lons = [lon] if lon_ok else _lost_point_candidates(lon_text, 180)
    if not lats or not lons:
        raise ValueProblem(
            f"Latitude {lat_text[:30]!r}, Longitude {lon_text[:30]!r} is not a coordinate "
            "(within ±90 and ±180)."
        )
    fits = []
    for a, b in itertools.product(lats, lons):
        status = coordinate_check(country, a, b, tolerance_km).status
        if status in (c.CoordinateCheckStatus.INSIDE, c.CoordinateCheckStatus.NEAR_BORDER):
            fits.append((a, b))
    if len(fits) != 1:
        why = "no placement" if not fits else f"{len(fits)} placements"
        raise ValueProblem(
            f"Latitude {lat_text[:30]!r}, Longitude {lon_text[:30]!r} look like a coordinate "
            f"that lost its decimal point, but {why} of the point puts it inside {country}; "
            "not repaired."
        )
    (a, b) = fits[0]
    parts = []
    if not lat_ok:
        parts.append(f"latitude {lat_text!r} as {a!r}")
    if not lon_ok:
        parts.append(f"longitude {lon_text!r} as {b!r}")
    note = (
        "Lost decimal point repaired on import: read "
        + " and ".join(parts)
        + f", the only reading inside {country}."
    )
    return Point(a, b, c.CoordinateCheckStatus.REPAIRED, None, True, note)
