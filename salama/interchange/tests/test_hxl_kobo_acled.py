"""The hashtag-driven (hxl), form-export (kobo) and ACLED importers."""

import csv
from pathlib import Path

import pytest

from salama.incidents import choices as c
from salama.incidents.models import Incident
from salama.interchange.formats import DATA_DIR, ImportRefused, NotThisFormat
from salama.interchange.formats.acled import write_synthetic
from salama.interchange.runner import run_import, source_organisation
from salama.interchange.tests.helpers import DETAINED_HXL

pytestmark = pytest.mark.django_db

II_HEALTH = DATA_DIR / "ii-health" / "2016-2023-attacks-on-health-care-incident-data.xlsx"


def imported(format_name, path, organisation=None, **options):
    owner = organisation or source_organisation(format_name)
    return run_import(format_name, path, organisation=owner, options=options)


# -- hxl ---------------------------------------------------------------------------------


def test_an_hxl_csv_is_read_by_its_hashtags_totals_not_added_to_their_splits():
    batch = imported("hxl", DETAINED_HXL)
    assert (batch.rows_read, batch.created, batch.quarantined) == (10, 10, 0)
    incident = Incident.objects.get(sources__system="hxl", sources__external_id="hxl:3754")
    assert incident.country == "CD"
    assert incident.place == "Masisi"
    # "#affected+wounded+total" (1) and "+detained+total" (2), not also their national splits.
    assert sorted(incident.persons.values_list("impact", "count")) == [
        ("arrested_detained", 2),
        ("injured", 1),
    ]
    again = imported("hxl", DETAINED_HXL)
    assert (again.created, again.unchanged) == (0, 10)


def test_an_hxl_xlsx_with_a_mapping_for_what_its_hashtags_do_not_say():
    mapping = {"name": "ii-hxl", "id": "SiND Event ID"}
    batch = imported("hxl", II_HEALTH, mapping=mapping)
    assert batch.rows_read == 8854
    assert batch.created + batch.quarantined == 8854
    incident = Incident.objects.get(sources__system="hxl", sources__external_id="ii-hxl:42815")
    assert incident.means_of_attack == c.MeansOfAttack.AERIAL_BOMBARDMENT
    persons = list(incident.persons.values_list("impact", "count", "is_medical"))
    assert persons == [("injured", 1, True)]


def test_a_hashtag_row_with_cells_that_are_not_hashtags(tmp_path):
    # Column.parse answers False for "#tÙ": such a column is untagged, not a crash.
    path = tmp_path / "odd.csv"
    path.write_text(
        "id,date,country,killed,junk\n"
        "#event+id,#date,#country+code,#affected+killed,#tÙ\n"
        "e1,2023-05-01,SD,2,x\n",
        encoding="utf-8",
    )
    batch = imported("hxl", path)
    assert (batch.created, batch.quarantined) == (1, 0)
    incident = Incident.objects.get(sources__system="hxl")
    assert list(incident.persons.values_list("impact", "count")) == [("killed", 2)]


def test_a_file_without_hashtags_is_not_hxl(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(NotThisFormat, match="no row of hashtags"):
        imported("hxl", path)


# -- kobo --------------------------------------------------------------------------------

KOBO_HEADER = [
    "start",
    "incident/when",
    "incident/location/country",
    "incident/location/place",
    "incident/location/_gps_latitude",
    "incident/location/_gps_longitude",
    "incident/what/type",
    "incident/what/weapons",
    "incident/people/killed",
    "incident/people/injured_female",
    "incident/description",
    "meta/instanceID",
    "_uuid",
    "_submission_time",
]
KOBO_MAPPING = {
    "name": "field-form",
    "date": "when",
    "country": "country",
    "fields": {
        "place": "place",
        "latitude": "_gps_latitude",
        "longitude": "_gps_longitude",
        "subcategory": {
            "column": "what/type",
            "values": {"robbery": "crime", "crossfire": "armed_conflict"},
            "default": "violence_unknown",
        },
        "means_of_attack": {
            "column": "weapons",
            "values": {"gun": "shooting", "knife": "bodily_assault"},
            "multi": " ",
        },
        "narrative": "description",
    },
    "persons": [
        {"column": "killed", "impact": "killed"},
        {"column": "injured_female", "impact": "injured", "gender": "female"},
    ],
}


def kobo_rows():
    return [
        ["2024-03-01T08:00:00", "2024-03-01", "SS", "Juba", "4.85", "31.6", "robbery"]
        + ["knife gun", "0", "2", "Robbed at the gate", "uuid:1", "u-1", "2024-03-02"],
        ["2024-03-05T08:00:00", "2024-03-04", "SO", "Mogadishu", "", "", "crossfire"]
        + ["", "1", "0", "Caught in crossfire", "uuid:2", "u-2", "2024-03-05"],
    ]


def write_kobo(path, rows, header=KOBO_HEADER):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_a_kobo_export_is_read_through_group_paths(tmp_path, undp):
    path = write_kobo(tmp_path / "kobo.csv", kobo_rows())
    batch = imported("kobo", path, undp, mapping=KOBO_MAPPING)
    assert (batch.rows_read, batch.created, batch.quarantined) == (2, 2, 0)
    # No "id" in the mapping: the submission's own (_uuid) identifies it.
    first = Incident.objects.get(sources__system="kobo", sources__external_id="field-form:u-1")
    assert (first.country, first.place, first.subcategory) == ("SS", "Juba", "crime")
    assert first.means_of_attack == "bodily_assault"  # "knife gun": the first mapped
    assert list(first.persons.values_list("impact", "count", "gender")) == [
        ("injured", 2, "female")
    ]


def test_a_newer_kobo_export_updates_the_submissions_it_shares(tmp_path, undp):
    imported("kobo", write_kobo(tmp_path / "a.csv", kobo_rows()), undp, mapping=KOBO_MAPPING)
    rows = kobo_rows()
    rows[1][8] = "2"
    rows.append(rows[0][:12] + ["u-3", "2024-03-09"])
    batch = imported("kobo", write_kobo(tmp_path / "b.csv", rows), undp, mapping=KOBO_MAPPING)
    assert (batch.created, batch.updated, batch.unchanged) == (1, 1, 1)


def test_odk_dash_paths_and_an_ambiguous_name(tmp_path, undp):
    header = [h.replace("/", "-") for h in KOBO_HEADER]
    path = write_kobo(tmp_path / "odk.csv", kobo_rows(), header)
    batch = imported("kobo", path, undp, mapping=KOBO_MAPPING)
    assert batch.created == 2
    twice = [*KOBO_HEADER, "other/place"]
    path = write_kobo(tmp_path / "twice.csv", [r + [""] for r in kobo_rows()], twice)
    with pytest.raises(ImportRefused, match="'place' is ambiguous"):
        imported("kobo", path, undp, mapping=KOBO_MAPPING)


# -- acled -------------------------------------------------------------------------------


def test_a_synthetic_acled_file_is_imported_without_counting_its_fatalities_as_staff(tmp_path):
    path = write_synthetic(tmp_path / "acled.csv", 300, seed=7)
    batch = imported("acled", path)
    with open(path, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    strategic = sum(r["event_type"] == "Strategic developments" for r in rows)
    assert batch.rows_read == 300
    assert batch.reasons == {"not_an_incident": strategic}
    assert batch.created == 300 - strategic
    incidents = Incident.objects.filter(sources__system="acled")
    assert incidents.filter(marking="AMBER").count() == batch.created
    assert not incidents.filter(persons__isnull=False).exists()
    monthly = [
        r
        for r in rows
        if r["time_precision"] == "3" and r["event_type"] != "Strategic developments"
    ]  # noqa: E501
    one = incidents.get(sources__external_id=monthly[0]["event_id_cnty"])
    assert (one.date_precision, one.date.day) == ("month", 1)
    again = imported("acled", path)
    assert (again.created, again.unchanged) == (0, batch.created)


def test_an_acled_header_is_required(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("event_id_cnty,event_date\nX1,1-May-20\n", encoding="utf-8")
    with pytest.raises(NotThisFormat, match="not an ACLED export"):
        imported("acled", path)


# ACLED's terms forbid shipping its data: the real sample is only read where it lies, beside the
# project (../shared/data), and this test is skipped elsewhere.
ACLED_SAMPLE = (
    Path(__file__).resolve().parents[4]
    / "shared/data/acled-sample/acled_global_2020-04-27_2020-05-09.csv"
)


@pytest.mark.skipif(not ACLED_SAMPLE.is_file(), reason="the local ACLED sample is not here")
def test_the_real_acled_sample_locally():
    batch = imported("acled", ACLED_SAMPLE)
    assert batch.rows_read == 5071
    assert batch.created + batch.quarantined == 5071
    assert batch.reasons["not_an_incident"] == 337
    assert batch.created > 4700
