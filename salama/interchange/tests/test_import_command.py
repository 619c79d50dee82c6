"""``salama import FORMAT FILE`` and ``salama import show BATCH``."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from salama.incidents.models import Incident
from salama.interchange.models import ImportBatch
from salama.interchange.tests.helpers import DETAINED_HXL, real_rows, write_csv
from salama.organisations.models import Organisation

pytestmark = pytest.mark.django_db

HEADER, ROWS = real_rows()


def salama(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_the_json_output_is_one_object_with_the_report_keys():
    report = json.loads(salama("import", "awsd", str(DETAINED_HXL), "--format", "json"))
    assert {
        "batch",
        "rows_read",
        "created",
        "updated",
        "unchanged",
        "quarantined",
        "reasons",
    } <= set(report)
    assert (report["rows_read"], report["created"], report["quarantined"]) == (10, 10, 0)
    assert report["reasons"] == {}
    assert ImportBatch.objects.get().pk == report["batch"]


def test_without_an_organisation_the_data_source_organisation_is_used_or_created():
    salama("import", "awsd", str(DETAINED_HXL), "--format", "json")
    owner = Organisation.objects.get(acronym="AWSD")
    assert owner.name == "Aid Worker Security Database (Humanitarian Outcomes)"
    assert owner.type == "other"
    salama("import", "awsd", str(DETAINED_HXL), "--format", "json")
    assert Organisation.objects.filter(acronym="AWSD").count() == 1
    assert set(Incident.objects.values_list("organisation", flat=True)) == {owner.pk}


def test_the_organisation_can_be_named_by_its_acronym(undp):
    salama("import", "awsd", str(DETAINED_HXL), "--organisation", "undp", "--format", "json")
    assert set(Incident.objects.values_list("organisation", flat=True)) == {undp.pk}


def test_the_text_output_says_what_happened_for_people(tmp_path):
    kashmir = {**ROWS["214"]}
    path = write_csv(tmp_path / "awsd.csv", HEADER, [ROWS["1"], kashmir])
    text = salama("import", "awsd", str(path))
    assert "rows read 2: created 1, updated 0, unchanged 0, quarantined 1" in text
    assert "quarantined for unknown_country: 1" in text
    assert "salama import show" in text


def test_import_show_prints_the_batch_and_its_quarantined_rows_with_their_raw_content(tmp_path):
    path = write_csv(tmp_path / "awsd.csv", HEADER, [ROWS["1"], ROWS["214"]])
    batch = json.loads(salama("import", "awsd", str(path), "--format", "json"))["batch"]
    text = salama("import", "show", str(batch))
    assert f"Batch {batch}: awsd (current_41, utf-8) awsd.csv" in text
    assert "[unknown_country] Row 3: Incident 214: the country 'Kashmir'" in text
    assert "    Country: Kashmir" in text
    shown = json.loads(salama("import", "show", str(batch), "--format", "json"))
    assert shown["quarantined_rows"][0]["raw"]["Country"] == "Kashmir"
    assert shown["quarantined_rows"][0]["reason"] == "unknown_country"


@pytest.mark.parametrize(
    "args, message",
    [
        (("awsd", "/nowhere/awsd.csv"), "no such file"),
        (("awsd", __file__), "not an AWSD file"),
        (("awsd", str(DETAINED_HXL), "--organisation", "NOPE"), "No organisation with the"),
        (("awsd", str(DETAINED_HXL), "--user", "nobody"), "No user 'nobody'"),
        (("show", "999"), "There is no import batch 999"),
    ],
)
def test_errors_are_clear_messages_not_tracebacks(args, message):
    with pytest.raises(CommandError, match=message):
        salama("import", *args)


def test_an_unknown_format_is_an_error_naming_the_known_ones():
    with pytest.raises(CommandError, match="invalid choice: 'nosuchformat'.*'awsd'"):
        salama("import", "nosuchformat", str(DETAINED_HXL))
