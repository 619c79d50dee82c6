"""One writer per export format, all streaming: rows go out as they come.

A writer is made with a binary file object and a scheme, gets ``write(loaded, values)`` for
every incident (it returns how many rows it wrote: GeoJSON skips incidents without
coordinates) and ``close()`` once at the end. None keeps more than one row group in memory:

- ``csv``: UTF-8 with a byte-order mark (so spreadsheet programs read Arabic and accents),
  one row per incident;
- ``hxl``: the same CSV with a row of HXL hashtags under the header (hxlstandard.org);
- ``xlsx``: openpyxl's write-only workbook (rows go to a temporary file per sheet); a sheet
  holds at most 1,048,576 rows, so a bigger export continues on "incidents (2)"…; schemes with
  a second table (native: the affected-person rows) get a second sheet;
- ``geojson``: an RFC 7946 FeatureCollection, written feature by feature; only incidents
  with coordinates, each with its coordinate precision and whether it was shifted on purpose;
- ``parquet``: pyarrow's ParquetWriter, one row group per ``ROW_GROUP`` rows, typed columns.

Spreadsheet formulas: a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is written with a leading single quote in CSV, HXL and XLSX, so a
spreadsheet shows the text instead of running it (CSV injection). Numbers are written as
numbers (a longitude of -1.5 stays a number). GeoJSON and Parquet are not opened by
spreadsheets as formulas, so their text is written as it is.
"""

import csv
import datetime
import json
import re

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_FIRST = frozenset(FORMULA_START)
# Bytes a streamed download gathers before handing them to the web server.
FLUSH_BYTES = 256 * 1024
ROW_GROUP = 20_000
XLSX_MAX_ROWS = 1_048_576
# Characters XML 1.0 (so XLSX) cannot hold: openpyxl refuses them.
XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def neutralise(value):
    """A text that a spreadsheet would run as a formula, made plain text."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class Chunks:
    """A binary sink that gathers bytes for a streamed response."""

    def __init__(self):
        self._parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        self.size += len(data)
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts, self.size = [], 0
        return data


def _text(value) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _csv_str(value) -> str:
    if value is None:
        return ""
    if type(value) is not str:
        value = str(value)
    return "'" + value if value[:1] in _FORMULA_FIRST else value


def _csv_plain(value) -> str:
    return "" if value is None else str(value)


def _csv_float(value) -> str:
    return "" if value is None else repr(value)


def _csv_bool(value) -> str:
    return "" if value is None else ("true" if value else "false")


def _csv_iso(value) -> str:
    return "" if value is None else value.isoformat()


def _csv_datetime(value) -> str:
    if value is None:
        return ""
    return (value.astimezone(datetime.UTC) if value.tzinfo else value).isoformat()


# Per column kind, the text a CSV cell gets: decided once per column, not once per cell.
CSV_CELL = {
    "str": _csv_str,
    "int": _csv_plain,
    "float": _csv_float,
    "bool": _csv_bool,
    "date": _csv_iso,
    "time": _csv_iso,
    "datetime": _csv_datetime,
}


class _Encoded:
    """A text file over a binary one: what the csv module writes to."""

    def __init__(self, out):
        self.out = out

    def write(self, text: str) -> int:
        return self.out.write(text.encode("utf-8"))


class CsvWriter:
    NAME = "csv"
    EXTENSION = "csv"
    CONTENT_TYPE = "text/csv; charset=utf-8"
    STREAMED = True
    hxl = False

    def __init__(self, out, scheme):
        self.out = out
        self.scheme = scheme
        out.write("\ufeff".encode())
        self.writer = csv.writer(_Encoded(out), lineterminator="\r\n")
        self.writer.writerow([col.name for col in scheme.COLUMNS])
        if self.hxl:
            self.writer.writerow([col.hxl for col in scheme.COLUMNS])
        self.cells = [CSV_CELL[col.kind] for col in scheme.COLUMNS]

    def write(self, loaded, values) -> int:
        self.writer.writerow([cell(v) for cell, v in zip(self.cells, values, strict=True)])
        return 1

    def close(self) -> None:
        pass


class HxlWriter(CsvWriter):
    NAME = "hxl"
    EXTENSION = "hxl.csv"
    hxl = True


def _cell(value):
    if isinstance(value, str):
        if XML_ILLEGAL.search(value):
            value = XML_ILLEGAL.sub("", value)
        return neutralise(value)
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        # Excel has no time zones: write UTC, and say so in the header.
        return value.astimezone(datetime.UTC).replace(tzinfo=None)
    return value


class XlsxWriter:
    NAME = "xlsx"
    EXTENSION = "xlsx"
    CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    STREAMED = False

    def __init__(self, out, scheme):
        from openpyxl import Workbook

        self.out = out
        self.scheme = scheme
        self.book = Workbook(write_only=True)
        self.sheets = {}
        self._sheet("incidents", scheme.COLUMNS)
        self.with_persons = hasattr(scheme, "person_rows")
        if self.with_persons:
            self._sheet("persons", scheme.PERSON_COLUMNS)

    def _header(self, columns):
        return [f"{col.name} (UTC)" if col.kind == "datetime" else col.name for col in columns]

    def _sheet(self, name, columns):
        sheet = self.book.create_sheet(name)
        sheet.append(self._header(columns))
        self.sheets[name] = [sheet, 1, 1, columns]  # sheet, rows in it, part number, columns

    def _append(self, name, values):
        entry = self.sheets[name]
        if entry[1] >= XLSX_MAX_ROWS:
            part = entry[2] + 1
            sheet = self.book.create_sheet(f"{name} ({part})")
            sheet.append(self._header(entry[3]))
            entry[:3] = [sheet, 1, part]
        entry[0].append([_cell(v) for v in values])
        entry[1] += 1

    def write(self, loaded, values) -> int:
        self._append("incidents", values)
        if self.with_persons:
            for person in self.scheme.person_rows(loaded):
                self._append("persons", person)
        return 1

    def close(self) -> None:
        self.book.save(self.out)


def _json_value(value):
    if isinstance(value, datetime.date | datetime.time):
        return _text(value)
    return value


class GeoJsonWriter:
    NAME = "geojson"
    EXTENSION = "geojson"
    CONTENT_TYPE = "application/geo+json"
    STREAMED = True

    def __init__(self, out, scheme):
        self.out = out
        self.names = [col.name for col in scheme.COLUMNS]
        self.first = True
        out.write(b'{"type":"FeatureCollection","features":[\n')

    def write(self, loaded, values) -> int:
        incident = loaded.incident
        if incident["latitude"] is None or incident["longitude"] is None:
            return 0
        properties = dict(zip(self.names, map(_json_value, values), strict=True))
        properties.setdefault("coordinate_precision", incident["coordinate_precision"])
        properties.setdefault("coordinates_obfuscated", incident["coordinates_obfuscated"])
        feature = {
            "type": "Feature",
            "geometry": {
                "type": "Point",
                "coordinates": [incident["longitude"], incident["latitude"]],
            },
            "properties": properties,
        }
        text = json.dumps(feature, ensure_ascii=False, separators=(",", ":"))
        self.out.write((text if self.first else ",\n" + text).encode("utf-8"))
        self.first = False
        return 1

    def close(self) -> None:
        self.out.write(b"\n]}\n")


class ParquetWriter:
    NAME = "parquet"
    EXTENSION = "parquet"
    CONTENT_TYPE = "application/vnd.apache.parquet"
    STREAMED = False

    def __init__(self, out, scheme):
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.pa = pa
        types = {
            "str": pa.string(),
            "int": pa.int64(),
            "float": pa.float64(),
            "bool": pa.bool_(),
            "date": pa.date32(),
            "time": pa.time64("us"),
            "datetime": pa.timestamp("us", tz="UTC"),
        }
        self.schema = pa.schema([(col.name, types[col.kind]) for col in scheme.COLUMNS])
        self.columns: list[list] = [[] for _ in scheme.COLUMNS]
        self.pending = 0
        self.writer = pq.ParquetWriter(out, self.schema, compression="zstd")

    def write(self, loaded, values) -> int:
        for column, value in zip(self.columns, values, strict=True):
            column.append(value)
        self.pending += 1
        if self.pending >= ROW_GROUP:
            self._flush()
        return 1

    def _flush(self) -> None:
        if not self.pending:
            return
        table = self.pa.Table.from_arrays(
            [
                self.pa.array(values, type=field.type)
                for values, field in zip(self.columns, self.schema, strict=True)
            ],
            schema=self.schema,
        )
        self.writer.write_table(table)
        self.columns = [[] for _ in self.columns]
        self.pending = 0

    def close(self) -> None:
        self._flush()
        self.writer.close()


WRITERS = {w.NAME: w for w in (CsvWriter, XlsxWriter, HxlWriter, GeoJsonWriter, ParquetWriter)}


def get(name: str):
    from django.utils.translation import gettext as _

    from salama.interchange.exports import ExportRefused

    try:
        return WRITERS[name]
    except KeyError:
        message = _("Unknown export format '%(name)s'; known formats: %(known)s.")
        raise ExportRefused(message % {"name": name, "known": ", ".join(WRITERS)}) from None
