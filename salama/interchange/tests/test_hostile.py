"""Every importer on hostile input: a clear refusal or a finished batch, never a crash.

Random bytes, cut-off files, the wrong layout, a 100 MB line, a zip bomb disguised as XLSX,
CSV cells that look like spreadsheet formulas. Whatever happens, either the import is refused
before any batch exists (``ImportRefused``, a message for a person), or the batch is done and
every row read is accounted for.
"""

import io
import json
import os
import tracemalloc
import zipfile

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from salama.incidents.models import Incident
from salama.interchange.formats import DATA_DIR, ImportRefused, registry
from salama.interchange.formats.acled import write_synthetic
from salama.interchange.models import ImportBatch
from salama.interchange.runner import run_import, source_organisation

pytestmark = pytest.mark.django_db

TABLE_MAPPING = {
    "name": "t",
    "id": "Ref",
    "date": "Date",
    "country": "Country",
    "fields": {
        "narrative": "Narrative",
        "subcategory": {"column": "Type", "default": "violence_unknown"},
    },
}
OPTIONS = {"table": {"mapping": TABLE_MAPPING}, "kobo": {"mapping": TABLE_MAPPING}}
FORMATS = [name for name in registry() if name != "awsd"] + ["awsd"]


def attempt(format_name, path):
    """The import's outcome: the refusal's message, or the finished batch (checked)."""
    try:
        batch = run_import(
            format_name,
            path,
            organisation=source_organisation(format_name),
            options=OPTIONS.get(format_name, {}),
        )
    except ImportRefused as exc:
        assert str(exc)  # a message for a person
        return str(exc)
    assert batch.state == ImportBatch.State.DONE, batch.error
    accounted = batch.created + batch.updated + batch.unchanged + batch.quarantined
    assert accounted == batch.rows_read
    return batch


@pytest.mark.parametrize("format_name", FORMATS)
@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".json"])
def test_random_bytes_are_refused_or_quarantined(tmp_path, format_name, suffix):
    path = tmp_path / f"random{suffix}"
    path.write_bytes(os.urandom(20_000))
    outcome = attempt(format_name, path)
    if isinstance(outcome, ImportBatch):
        assert outcome.created == 0


@pytest.mark.parametrize(
    "format_name, source",
    [
        ("who-ssa", DATA_DIR / "who-ssa" / "who_ssa_attacks_on_health_care_2020-2024.xlsx"),
        (
            "ii-health",
            DATA_DIR / "ii-health" / "2023-mmr-attacks-on-health-care-incident-data.xlsx",
        ),
    ],
)
def test_a_cut_off_workbook_is_refused_as_damaged(tmp_path, format_name, source):
    data = source.read_bytes()
    path = tmp_path / "cut.xlsx"
    path.write_bytes(data[: len(data) // 2])
    assert "damaged or truncated" in attempt(format_name, path)


def test_a_cut_off_csv_keeps_every_row_before_the_cut(tmp_path):
    path = write_synthetic(tmp_path / "acled.csv", 50, seed=3)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])
    batch = attempt("acled", path)
    assert batch.rows_read == 50
    assert batch.reasons.get("wrong_number_of_cells") == 1


@pytest.mark.parametrize(
    "format_name, source",
    [
        ("who-ssa", DATA_DIR / "awsd" / "awsd_1997-2022.csv"),
        ("ii-health", DATA_DIR / "who-ssa" / "who_ssa_attacks_on_health_care_2020-2024.xlsx"),
        ("kika", DATA_DIR / "awsd" / "awsd_1997-2022.csv"),
        ("acled", DATA_DIR / "ii-health" / "2023-mmr-attacks-on-health-care-incident-data.xlsx"),
        ("hxl", DATA_DIR / "awsd" / "awsd_1997-2022.csv"),
        ("table", DATA_DIR / "awsd" / "awsd_1997-2022.csv"),
        ("kobo", DATA_DIR / "who-ssa" / "who_ssa_attacks_on_health_care_2020-2024.xlsx"),
    ],
)
def test_the_wrong_layout_is_refused_before_any_batch(format_name, source):
    outcome = attempt(format_name, source)
    assert isinstance(outcome, str)
    assert not ImportBatch.objects.exists()


def test_the_command_says_why_without_a_stack_trace(tmp_path):
    path = tmp_path / "bytes.xlsx"
    path.write_bytes(b"PK\x03\x04" + os.urandom(5000))
    with pytest.raises(CommandError, match="not a readable XLSX workbook") as caught:
        call_command("import", "who-ssa", str(path), stdout=io.StringIO())
    assert "Traceback" not in str(caught.value)


@pytest.mark.parametrize("format_name", ["acled", "who-ssa", "table"])
def test_a_100_mb_line_costs_bounded_memory_and_is_quarantined(tmp_path, format_name):
    if format_name == "acled":
        synthetic = write_synthetic(tmp_path / "h.csv", 1)
        first = synthetic.read_text(encoding="utf-8").splitlines()[:2]
    elif format_name == "who-ssa":
        first = [
            "Attack ID,Attack Date,Country / Territory,Certainty Level,Attack Type,"
            "Total Injured,Total Death",
            "A1,2/8/24 12:00 AM,Sudan,Confirmed, Other,0,1",
        ]
    else:
        first = ["Ref,Date,Country,Narrative,Type", "R1,2024-02-08,SD,ok,"]
    path = tmp_path / "long.csv"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(first) + "\n")
        handle.write('X2,"')  # an opened quote that never closes, 100 MB long
        chunk = "a" * (1 << 20)
        for _ in range(100):
            handle.write(chunk)
        handle.write("\n")
    tracemalloc.start()
    try:
        batch = attempt(format_name, path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert batch.created == 1
    assert batch.quarantined >= 1
    assert peak < 60 * (1 << 20), f"peak {peak / (1 << 20):.0f} MiB"


def zip_bomb(path, expanded=200 * (1 << 20)):
    """An .xlsx-looking zip whose sheet expands from a few hundred KB to ``expanded`` bytes."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            block = b"0" * (1 << 20)
            for _ in range(expanded // len(block)):
                sheet.write(block)
    return path


@pytest.mark.parametrize("format_name", ["who-ssa", "ii-health", "table", "hxl"])
def test_a_zip_bomb_disguised_as_xlsx_is_refused_unopened(tmp_path, format_name):
    path = zip_bomb(tmp_path / "bomb.xlsx")
    assert path.stat().st_size < 2 * (1 << 20)
    message = attempt(format_name, path)
    assert "refused as a zip bomb" in message


def test_formula_cells_are_kept_as_text_never_evaluated(tmp_path):
    path = tmp_path / "formulas.csv"
    path.write_text(
        "Ref,Date,Country,Narrative,Type\n"
        '=1+1,2024-02-08,SD,"=HYPERLINK(""http://x.example"",""click"")",\n'
        "@SUM(A1),2024-02-09,SD,+cmd|' /C calc'!A0,\n",
        encoding="utf-8",
    )
    batch = attempt("table", path)
    assert batch.created == 2
    narratives = set(Incident.objects.values_list("narrative", flat=True))
    assert narratives == {'=HYPERLINK("http://x.example","click")', "+cmd|' /C calc'!A0"}
    assert Incident.objects.filter(sources__external_id="t:=1+1").exists()


def test_formula_cells_of_a_workbook_are_read_as_their_saved_value_only(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Ref", "Date", "Country", "Narrative", "Type"])
    sheet.append(["F1", "2024-02-08", "SD", '=WEBSERVICE("http://x.example")', ""])
    path = tmp_path / "formulas.xlsx"
    workbook.save(path)
    batch = attempt("table", path)
    assert batch.created == 1
    # openpyxl never computes formulas; a workbook saved by a program that did not compute it
    # has no value, so nothing of the formula reaches the narrative.
    assert Incident.objects.get().narrative == ""


def test_a_json_record_too_large_ends_the_reading_with_a_reason(tmp_path):
    records = json.loads((DATA_DIR / "kika" / "aidWorkerKIKA.json").read_text(encoding="utf-8"))
    path = tmp_path / "big.json"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("[" + json.dumps({**records[0], "SiND Event ID": 1}) + ',{"x": "')
        chunk = "a" * (1 << 20)
        for _ in range(20):
            handle.write(chunk)
        handle.write('"}]')
    batch = attempt("kika", path)
    assert (batch.rows_read, batch.created, batch.quarantined) == (2, 1, 1)
    assert batch.reasons == {"unreadable_record": 1}
