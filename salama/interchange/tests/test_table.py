"""``salama import table FILE --mapping NAME|FILE.yaml``: any CSV/XLSX through a saved mapping."""

import io
import json

import openpyxl
import pytest
import yaml
from django.core.management import CommandError, call_command

from salama.incidents import choices as c
from salama.incidents.models import Incident
from salama.interchange.formats import ImportRefused
from salama.interchange.formats.table import validate_mapping
from salama.interchange.models import ColumnMapping
from salama.interchange.runner import run_import

pytestmark = pytest.mark.django_db

MAPPING = {
    "name": "field-log",
    "id": "Ref",
    "date": {"column": "Date", "day_first": True},
    "country": "Country",
    "fields": {
        "place": "Town",
        "latitude": "Lat",
        "longitude": "Lon",
        "narrative": "What happened",
        "subcategory": {
            "column": "Type",
            "values": {"Shooting": "armed_conflict", "Robbery": "crime"},
            "default": "violence_unknown",
        },
        "means_of_attack": {
            "column": "Weapon",
            "values": {"Gun": "shooting", "AK-47": "shooting"},
            "multi": True,
        },
        "vehicles_hit": "Vehicle hit",
    },
    "persons": [
        {"column": "Staff killed", "impact": "killed"},
        {"column": "National staff injured", "impact": "injured", "recruitment": "national"},
    ],
}
HEADER = [
    "Ref",
    "Date",
    "Country",
    "Town",
    "Lat",
    "Lon",
    "What happened",
    "Type",
    "Weapon",
    "Vehicle hit",
    "Staff killed",
    "National staff injured",
]
ROWS = [
    ["A1", "03/04/2024", "South Sudan", "Juba ", "4.85", "31.6", "Shot at", "Shooting"]
    + ["Knife, Gun", "yes", "1", "1 200"],
    ["A2", "Feb 2024", "SSD", "", "", "", "", "Robbery", "", "no", "", ""],
    ["A3", "2024", "SS", "", "", "", "", "Flood?", "", "", "", ""],
    ["A4", "", "SS", "", "", "", "", "", "", "", "", ""],
    ["A5", "12/12/2023", "Wakanda", "", "", "", "", "", "", "", "", ""],
]


def write_csv(path, rows=ROWS, header=HEADER, delimiter=";", encoding="utf-8"):
    lines = [delimiter.join(header)] + [delimiter.join(row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


def table(path, undp, mapping=MAPPING, **options):
    return run_import("table", path, organisation=undp, options={"mapping": mapping, **options})


def test_a_mapped_csv_is_imported_with_dates_counts_and_value_mappings(tmp_path, undp):
    batch = table(write_csv(tmp_path / "log.csv"), undp)
    assert (batch.rows_read, batch.created, batch.quarantined) == (5, 3, 2)
    assert batch.reasons == {"missing_date": 1, "unknown_country": 1}
    first = Incident.objects.get(sources__system="table", sources__external_id="field-log:A1")
    assert first.organisation == undp
    assert first.marking == "AMBER"  # an organisation's own table: its members only
    assert (str(first.date), first.date_precision) == ("2024-04-03", "day")
    assert (first.place, first.subcategory) == ("Juba", "armed_conflict")
    assert first.category == "violence"
    assert first.means_of_attack == "shooting"  # the first mapped value of the multi-valued cell
    assert first.vehicles_hit is True
    assert sorted(first.persons.values_list("impact", "count", "recruitment")) == [
        ("injured", 1200, "national"),
        ("killed", 1, "unknown"),
    ]
    second = Incident.objects.get(sources__external_id="field-log:A2")
    assert (str(second.date), second.date_precision, second.subcategory) == (
        "2024-02-01",
        "month",
        "crime",
    )
    third = Incident.objects.get(sources__external_id="field-log:A3")
    assert (third.date_precision, third.subcategory) == ("year", "violence_unknown")
    assert "'Flood?' is not mapped" in batch.notes["unmapped_value"]["examples"][0]


def test_importing_again_is_idempotent_and_a_change_is_an_update(tmp_path, undp):
    path = write_csv(tmp_path / "log.csv")
    table(path, undp)
    again = table(path, undp)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    rows = [list(r) for r in ROWS]
    rows[0][10] = "2"
    changed = table(write_csv(tmp_path / "log2.csv", rows), undp)
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 2)


def test_an_xlsx_with_the_same_mapping_gives_the_same_facts(tmp_path, undp):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for row in ROWS[:3]:
        sheet.append(row)
    path = tmp_path / "log.xlsx"
    workbook.save(path)
    table(path, undp)
    batch = table(write_csv(tmp_path / "log.csv", ROWS[:3]), undp)
    assert (batch.created, batch.unchanged) == (0, 3)


def test_a_yaml_mapping_file_and_a_saved_mapping_work_from_the_command(tmp_path, undp):
    mapping_file = tmp_path / "field-log.yaml"
    mapping_file.write_text(yaml.safe_dump(MAPPING), encoding="utf-8")
    path = write_csv(tmp_path / "log.csv")
    out = io.StringIO()
    call_command(
        "import", "table", str(path), "--mapping", str(mapping_file), "--organisation", "UNDP",
        "--format", "json", stdout=out,
    )  # fmt: skip
    assert json.loads(out.getvalue())["created"] == 3
    ColumnMapping.objects.create(organisation=undp, name="saved-log", spec=MAPPING)
    out = io.StringIO()
    call_command(
        "import", "table", str(path), "--mapping", "saved-log", "--organisation", "UNDP",
        "--format", "json", stdout=out,
    )  # fmt: skip
    report = json.loads(out.getvalue())
    # The saved mapping has its own name: its IDs are its own.
    assert (report["created"], report["quarantined"]) == (3, 2)
    assert Incident.objects.filter(sources__external_id__startswith="saved-log:").count() == 3


def test_without_a_usable_mapping_nothing_is_imported(tmp_path, undp):
    path = write_csv(tmp_path / "log.csv")
    with pytest.raises(CommandError, match="needs a column mapping"):
        call_command("import", "table", str(path), stdout=io.StringIO())
    with pytest.raises(ImportRefused, match="has no column 'Nope'"):
        table(path, undp, mapping={**MAPPING, "id": "Nope"})
    with pytest.raises(ImportRefused, match="No saved mapping is called 'ghost'"):
        table(path, undp, mapping="ghost")
    assert not Incident.objects.exists()


def test_validate_mapping_says_what_is_wrong():
    errors = validate_mapping(
        {
            "id": "Ref",
            "fields": {
                "colour": "C",
                "subcategory": {"column": "T", "values": {"x": "alien_abduction"}},
                "latitude": "Lat",
            },
            "persons": [{"column": "K", "impact": "vaporised"}],
        },
        header=["Ref", "T"],
    )
    text = " ".join(errors)
    assert "('date')" in text and "('country')" in text
    assert "Unknown field 'colour'" in text
    assert "alien_abduction not in the list" in text
    assert "Map both latitude and longitude" in text
    assert "impact 'vaporised'" in text
    assert "no column 'C', 'Lat', 'K'" in text


def test_the_table_marking_can_be_set_and_constants_given(tmp_path, undp):
    mapping = {
        **MAPPING,
        "marking": "RED",
        "fields": {**MAPPING["fields"], "health_facility_hit": {"value": True}},
    }
    table(write_csv(tmp_path / "log.csv", ROWS[:1]), undp, mapping=mapping)
    incident = Incident.objects.get()
    assert incident.marking == "RED"
    assert incident.health_facility_hit is True
    assert incident.status == c.Status.CLOSED
