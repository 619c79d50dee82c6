"""The older and the newest AWSD layouts, each told apart by its header."""

import pytest

from salama.incidents import choices as c
from salama.incidents.figures import awsd_figures
from salama.incidents.models import Incident, Source
from salama.interchange.formats import NotThisFormat, awsd
from salama.interchange.runner import run_import
from salama.interchange.tests.helpers import (
    CURRENT,
    DETAINED_HXL,
    OLD_LATIN1,
    awsd_organisation,
    real_rows,
)

pytestmark = pytest.mark.django_db


def incident(external_id: str) -> Incident:
    return Source.objects.get(system="awsd", external_id=external_id).incident


def test_sniff_tells_the_three_layouts_apart_from_the_header():
    current, _ = real_rows(CURRENT)
    old, _ = real_rows(OLD_LATIN1, encoding="latin-1")
    detained = DETAINED_HXL.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert awsd.sniff(current) == "current_41"
    assert awsd.sniff(old) == "old_35"
    assert awsd.sniff(detained) == "detained"
    with pytest.raises(NotThisFormat, match="not an AWSD file.*'Country Code'"):
        awsd.sniff([h for h in current if h != "Country Code"])


def test_the_old_latin1_layout_imports():
    batch = run_import("awsd", OLD_LATIN1, organisation=awsd_organisation())
    assert batch.layout == "old_35"
    assert batch.encoding == "latin-1, 4 lines utf-8"
    assert batch.rows_read == 2088
    assert batch.rows_read == batch.created + batch.quarantined
    assert batch.reasons == {"unknown_country": 7, "invalid_coordinates": 1}
    # Latin-1 lines and the few UTF-8 lines both read as their authors wrote them.
    assert Incident.objects.filter(narrative__contains="Conseil des Révolutionaires").exists()
    assert Incident.objects.filter(narrative__contains="Ümraniye State Hospital").exists()
    assert Incident.objects.filter(admin1="Camotán", place="Terracería highway").exists()
    # The short codes of the old layout.
    rwanda = incident("2")  # S, R, OC
    assert (rwanda.means_of_attack, rwanda.attack_context, rwanda.location_type) == (
        c.MeansOfAttack.SHOOTING,
        c.AttackContext.RAID,
        c.LocationType.OFFICE_COMPOUND,
    )
    assert rwanda.country == "RW"
    # No Verified, Source, Motive or Actor in this layout.
    assert rwanda.verification == c.Verification.UNVERIFIED
    assert rwanda.sources.get().kind == c.SourceKind.DATABASE_IMPORT
    assert (rwanda.motive, rwanda.perpetrator_type) == ("", "")
    assert incident("16").country == "RU"  # Chechnya, from the name


def test_the_old_layout_keeps_national_ngos_and_red_cross_together_as_it_counted_them():
    batch = run_import("awsd", OLD_LATIN1, organisation=awsd_organisation())
    lumped = incident("7").totals.filter(dimension="organisation_type")
    header, rows = real_rows(OLD_LATIN1, encoding="latin-1")
    assert int(rows["7"]["LNGO/NRCS"]) > 0
    assert lumped.get(value=awsd.NNGO_OR_NRCS).count == int(rows["7"]["LNGO/NRCS"])
    # Its margins do not always add up: the incidents are kept, the batch says so.
    assert batch.notes["margins_mismatch"]["count"] == 61
    assert batch.notes["no_persons"]["count"] == 6


def test_the_newest_layout_with_an_hxl_row_imports_detained_persons():
    batch = run_import("awsd", DETAINED_HXL, organisation=awsd_organisation())
    assert batch.layout == "detained+hxl"
    assert (batch.rows_read, batch.created, batch.quarantined) == (10, 10, 0)
    assert "totals_mismatch" not in batch.notes and "margins_mismatch" not in batch.notes
    detained = incident("3754").persons.get(impact=c.Impact.ARRESTED_DETAINED)
    assert (detained.count, detained.recruitment) == (2, c.Recruitment.NATIONAL)
    detained = incident("3834").persons.get(impact=c.Impact.ARRESTED_DETAINED)
    assert (detained.count, detained.recruitment) == (1, c.Recruitment.INTERNATIONAL)
    figures = awsd_figures(Incident.objects.all(), 2022)
    assert figures["detained"] == 3
    assert figures["affected"] == (
        figures["killed"] + figures["wounded"] + figures["kidnapped"] + figures["detained"]
    )
    assert figures["affected"] == figures["nationals"] + figures["internationals"] == 12


def test_a_hashtag_row_is_not_counted_as_a_row():
    batch = run_import("awsd", DETAINED_HXL, organisation=awsd_organisation())
    assert not batch.quarantine.exists()
    assert not Source.objects.filter(external_id="#event+id").exists()
