"""Round trip: import the real AWSD file, export it in the AWSD scheme, import the export into
an emptied database, and the AWSD figures are the same (and the published ones)."""

import pytest

from salama.conftest import make_incident, make_organisation, make_user
from salama.incidents import choices as c
from salama.incidents.figures import awsd_figures
from salama.incidents.models import Incident
from salama.interchange.exports.schemes import awsd as awsd_scheme
from salama.interchange.formats import awsd as awsd_format
from salama.interchange.runner import run_import
from salama.interchange.tests.export_readers import export_bytes, read_rows
from salama.interchange.tests.helpers import awsd_organisation, imported_for_the_module
from salama.interchange.tests.test_awsd_figures import PUBLISHED
from salama.organisations.choices import Role

pytestmark = pytest.mark.django_db
YEARS = sorted(PUBLISHED)


@pytest.fixture(scope="module")
def awsd_imported(django_db_setup, django_db_blocker):
    with imported_for_the_module(django_db_blocker) as batch:
        yield batch


@pytest.fixture
def analyst(db):
    # An analyst of another organisation: AWSD's incidents are TLP:GREEN, so visible.
    return make_user("ana", make_organisation("OCHA"), roles=(Role.ANALYST,))


def test_export_then_import_into_an_empty_database_gives_the_same_figures(
    awsd_imported, analyst, tmp_path
):
    before = {year: awsd_figures(Incident.objects.all(), year) for year in YEARS}
    result, data = export_bytes(analyst, "csv", "awsd")
    first_rows = read_rows("csv", data)
    path = tmp_path / "awsd-export.csv"
    path.write_bytes(data)

    Incident.objects.all().delete()
    assert awsd_figures(Incident.objects.all(), 2022)["incidents"] == 0
    batch = run_import("awsd", path, organisation=awsd_organisation())

    assert batch.layout == "detained"
    assert batch.rows_read == result.rows == batch.created
    assert batch.quarantined == 0
    assert "totals_mismatch" not in batch.notes
    after = {year: awsd_figures(Incident.objects.all(), year) for year in YEARS}
    assert after == before
    for year in YEARS:
        assert {key: after[year][key] for key in PUBLISHED[year]} == PUBLISHED[year]

    # And exporting again gives the same rows: nothing was lost or changed on the way.
    _, again = export_bytes(analyst, "csv", "awsd")
    key = awsd_scheme.COLUMN_NAMES
    assert sorted(tuple(r[k] for k in key) for r in read_rows("csv", again)) == sorted(
        tuple(r[k] for k in key) for r in first_rows
    )


def test_the_awsd_scheme_writes_only_the_incidents_awsd_counts(awsd_imported, analyst):
    ocha = analyst.memberships.first().organisation
    harassed = [{"impact": c.Impact.INTIMIDATION_HARASSMENT, "cause": c.Cause.VIOLENCE}]
    crash = [{"impact": c.Impact.KILLED, "cause": c.Cause.SAFETY}]
    left_out = [
        make_incident(analyst, ocha, persons=harassed).reference,
        make_incident(
            analyst,
            ocha,
            persons=crash,
            category=c.Category.SAFETY,
            subcategory=c.SubCategory.ROAD_TRAFFIC,
            means_of_attack="",
        ).reference,
    ]
    counted = sum(awsd_figures(Incident.objects.all(), y)["incidents"] for y in range(1997, 2026))
    result, data = export_bytes(analyst, "parquet", "awsd")
    assert result.rows == counted == Incident.objects.count() - len(left_out)
    assert not {row["Incident ID"] for row in read_rows("parquet", data)} & set(left_out)
    _, native = export_bytes(analyst, "parquet", "native")
    assert set(left_out) <= {row["reference"] for row in read_rows("parquet", native)}


def test_the_hxl_export_reads_back_with_its_hashtag_row(awsd_imported, analyst, tmp_path):
    _, data = export_bytes(analyst, "hxl", "awsd", {"date_from": "2022-01-01"})
    path = tmp_path / "awsd-2022.hxl.csv"
    path.write_bytes(data)
    Incident.objects.all().delete()
    batch = run_import("awsd", path, organisation=awsd_organisation())
    assert batch.layout == "detained+hxl"
    assert batch.quarantined == 0
    figures = awsd_figures(Incident.objects.all(), 2022)
    assert {key: figures[key] for key in PUBLISHED[2022]} == PUBLISHED[2022]


def test_every_awsd_word_reads_back_to_the_same_code():
    vocabularies = {
        "means_of_attack": awsd_format.MEANS,
        "attack_context": awsd_format.CONTEXTS,
        "location_type": awsd_format.LOCATIONS,
        "motive": awsd_format.MOTIVES,
        "perpetrator_type": awsd_format.PERPETRATORS,
        "verification": awsd_format.VERIFICATION,
    }
    for table, vocabulary in vocabularies.items():
        for code, word in awsd_scheme.LABELS[table].items():
            assert vocabulary.get(word) == code, (table, code, word)
    for code, word in awsd_scheme.LABELS["source_kind"].items():
        if word:
            assert awsd_format.SOURCE_KINDS.get(word) == code, (code, word)


def test_the_awsd_header_is_the_importers_newest_layout():
    assert awsd_format.sniff(awsd_scheme.COLUMN_NAMES) == "detained"
