"""Read an export back, whatever its format, as a list of {column: value} dicts."""

import csv
import io
import json

import openpyxl
import pyarrow.parquet as pq

from salama.interchange.exports import run_export


def read_rows(format_name: str, data: bytes, sheet: str = "incidents") -> list[dict]:
    if format_name in ("csv", "hxl"):
        text = data.decode("utf-8")
        assert text.startswith("\ufeff"), "CSV exports start with a byte-order mark"
        rows = list(csv.reader(io.StringIO(text[1:], newline="")))
        header, body = rows[0], rows[2:] if format_name == "hxl" else rows[1:]
        if format_name == "hxl":
            assert all(tag.startswith("#") for tag in rows[1]), rows[1]
        return [dict(zip(header, row, strict=True)) for row in body]
    if format_name == "xlsx":
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        rows = list(book[sheet].iter_rows(values_only=True))
        return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    if format_name == "geojson":
        collection = json.loads(data)
        assert collection["type"] == "FeatureCollection"
        return [
            {**feature["properties"], "_coordinates": feature["geometry"]["coordinates"]}
            for feature in collection["features"]
        ]
    if format_name == "parquet":
        return pq.read_table(io.BytesIO(data)).to_pylist()
    raise ValueError(format_name)


def export_bytes(user, format_name: str, scheme: str = "native", filters=None, **kwargs):
    out = io.BytesIO()
    result = run_export(
        user, format=format_name, scheme=scheme, filters=filters or {}, out=out, **kwargs
    )
    return result, out.getvalue()


def exported(user, format_name: str, scheme: str = "native", filters=None, **kwargs):
    result, data = export_bytes(user, format_name, scheme, filters, **kwargs)
    return result, read_rows(format_name, data)
