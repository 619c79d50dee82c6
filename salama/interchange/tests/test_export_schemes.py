"""Each scheme's counting rules, computed from the raw facts at export time."""

import pytest

from salama.conftest import make_incident
from salama.incidents import choices as c
from salama.incidents.models import ReportedTotal, Source
from salama.interchange.exports import schemes
from salama.interchange.exports.schemes import awsd, native, sind
from salama.interchange.tests.export_readers import export_bytes, exported, read_rows

pytestmark = pytest.mark.django_db

V = c.Cause.VIOLENCE


def person(impact, count=1, recruitment="national", gender="unknown", **extra):
    return {
        "impact": impact,
        "cause": extra.pop("cause", V),
        "count": count,
        "recruitment": recruitment,
        "gender": gender,
        "organisation_type": extra.pop("organisation_type", "unknown"),
        "killed_in_captivity": extra.pop("killed_in_captivity", False),
        **extra,
    }


@pytest.fixture
def kidnap_killing(reporter, undp):
    """Two aid workers kidnapped; one was then killed in captivity, one is still held."""
    return make_incident(
        reporter,
        undp,
        persons=[
            person(c.Impact.KILLED, killed_in_captivity=True, gender="male"),
            person(c.Impact.ABDUCTED, recruitment="international", gender="female"),
        ],
        means_of_attack=c.MeansOfAttack.KIDNAPPING,
    )


@pytest.mark.parametrize("format_name", ["csv", "parquet"])
def test_kidnapped_then_killed_is_killed_for_awsd_and_kidnapped_for_sind(
    kidnap_killing, reporter, format_name
):
    _, (awsd_row,) = exported(reporter, format_name, "awsd")
    _, (sind_row,) = exported(reporter, format_name, "sind")
    _, (native_row,) = exported(reporter, format_name, "native")

    def n(value):
        return int(value)

    assert n(awsd_row["Total killed"]) == 1
    assert n(awsd_row["Nationals killed"]) == 1
    assert n(awsd_row["Total kidnapped"]) == 1
    assert n(awsd_row["Internationals kidnapped"]) == 1
    assert n(awsd_row["Total affected"]) == 2
    assert awsd_row["Means of attack"] == "Kidnap-killing"

    assert n(sind_row["Aid Workers Killed"]) == 0
    assert n(sind_row["Aid Workers Kidnapped"]) == 2
    assert n(sind_row["Aid Workers Killed in Captivity"]) == 1
    assert n(sind_row["National Aid Workers Killed in Captivity"]) == 1
    assert n(sind_row["Male Aid Workers Kidnapped"]) == 1
    assert n(sind_row["Female Aid Workers Kidnapped"]) == 1
    assert n(sind_row["International Aid Workers Kidnapped"]) == 1
    assert sind_row["Known Kidnapping or Arrest Outcome"] == "Killed"

    # Salama's own layout keeps the raw facts: stored as killed, in captivity.
    assert n(native_row["killed"]) == 1
    assert n(native_row["abducted"]) == 1
    assert n(native_row["killed_in_captivity"]) == 1


def test_awsd_counts_only_violence_outcomes_and_keeps_unknown_recruitment_in_totals():
    persons = [
        person(c.Impact.INJURED, 2, "locally_recruited"),
        person(c.Impact.KILLED, 1, "unknown"),
        person(c.Impact.KILLED, 3, cause=c.Cause.SAFETY),  # a road crash: not AWSD's
        person(c.Impact.INTIMIDATION_HARASSMENT, 5),  # not a major-incident outcome
        person(c.Impact.ARRESTED_DETAINED, 1, "international"),
    ]
    cells = awsd.outcome_counts(persons)
    assert cells == {
        "Nationals wounded": 2,
        "Total nationals": 2,
        "Total wounded": 2,
        "Total killed": 1,
        "Internationals detained": 1,
        "Total internationals": 1,
        "Total detained": 1,
        "Total affected": 4,
    }


def test_awsd_margins_come_from_the_sources_totals_when_given_else_from_the_people():
    persons = [
        person(c.Impact.KILLED, 2, gender="female", organisation_type="ingo"),
        person(c.Impact.INJURED, 1, gender="male", organisation_type="unknown"),
    ]
    assert awsd.margin_counts(persons, []) == {"Gender Female": 2, "Gender Male": 1, "INGO": 2}
    totals = [
        {"dimension": "gender", "value": "unknown", "count": 3},
        {"dimension": "organisation_type", "value": "nngo_or_nrcs", "count": 3},
    ]
    # The 2016 layout's lumped national NGO / Red Cross column has no place: left out.
    assert awsd.margin_counts(persons, totals) == {"Gender Unknown": 3}


def test_sind_counts_only_violence_and_splits_by_recruitment_and_gender():
    persons = [
        person(c.Impact.KILLED, 2, "international", "female"),
        person(c.Impact.KILLED, 1, cause=c.Cause.SAFETY),  # an accident is not SiND's killed
        person(c.Impact.ARRESTED_DETAINED, 3, "unknown", "male"),
        person(c.Impact.ROBBERY, 4),
    ]
    cells = sind.kika_counts(persons)
    assert cells["Aid Workers Killed"] == 2
    assert cells["International Aid Workers Killed"] == 2
    assert cells["Female Aid Workers Killed"] == 2
    assert cells["Aid Workers Arrested"] == 3
    assert cells["Male Aid Workers Arrested"] == 3
    assert "National Aid Workers Arrested" not in cells
    assert cells["Known Kidnapping or Arrest Outcome"] == ""


def test_sind_leaves_out_safety_incidents(reporter, undp):
    make_incident(
        reporter,
        undp,
        persons=[person(c.Impact.INJURED, cause=c.Cause.SAFETY)],
        category=c.Category.SAFETY,
        subcategory=c.SubCategory.ROAD_TRAFFIC,
        means_of_attack="",
    )
    _, rows = exported(reporter, "csv", "sind")
    assert rows == []
    _, rows = exported(reporter, "csv", "native")
    assert [(r["category"], r["injured"], r["cause_safety"]) for r in rows] == [
        ("safety", "1", "1")
    ]


def test_native_keeps_sources_totals_and_every_person_row(reporter, undp):
    incident = make_incident(
        reporter,
        undp,
        persons=[
            person(c.Impact.INJURED, 3, gender="female"),
            person(c.Impact.KILLED, 1, "international", "male", is_medical=True),
        ],
    )
    ReportedTotal.objects.create(incident=incident, dimension="gender", value="female", count=3)
    Source.objects.create(
        incident=incident, kind=c.SourceKind.MEDIA, system="awsd", external_id="77"
    )
    _, (row,) = exported(reporter, "xlsx", "native")
    assert row["affected"] == 4
    assert row["gender_female"] == 3
    assert row["recruitment_international"] == 1
    assert row["reported_totals"] == "gender.female=3"
    assert row["sources"] == "media:awsd:77"
    assert row["marking"] == "GREEN"
    _, data = export_bytes(reporter, "xlsx", "native")
    persons = read_rows("xlsx", data, sheet="persons")
    assert sorted((p["impact"], p["count"], p["is_medical"]) for p in persons) == [
        ("injured", 3, None),
        ("killed", 1, True),
    ]
    # The awsd scheme names the incident by its AWSD ID when it came from AWSD.
    _, (awsd_row,) = exported(reporter, "csv", "awsd")
    assert awsd_row["Incident ID"] == "77"
    assert awsd_row["Source"] == "Media"


def test_every_scheme_row_has_one_value_per_column(kidnap_killing, reporter):
    for name, module in schemes.registry().items():
        _, rows = exported(reporter, "parquet", name)
        assert rows, name
        assert list(rows[0]) == [col.name for col in module.COLUMNS]
    assert len({col.name for col in native.COLUMNS}) == len(native.COLUMNS)
