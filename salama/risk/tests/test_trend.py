"""The incident trend of an assessment's area and the ratings recent incidents contradict."""

import datetime

import pytest

from salama.conftest import make_incident
from salama.incidents import choices as ic
from salama.incidents import services as incident_services
from salama.risk import choices as rc
from salama.risk.conftest import event, make_area, make_assessment
from salama.risk.trend import area_trend, contradictions

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 6, 15)


def submitted(user, organisation, **fields):
    incident = make_incident(user, organisation, **fields)
    incident_services.submit(user=user, incident=incident)
    return incident


def by_category(trend):
    return {row.category: (row.last, row.previous, row.quarter) for row in trend.rows}


def test_the_trend_counts_the_last_twelve_months_against_the_twelve_before_by_category(
    reporter, undp, area
):
    days = [
        (TODAY, ic.SubCategory.CRIME),
        (TODAY - datetime.timedelta(days=30), ic.SubCategory.CRIME),
        (TODAY - datetime.timedelta(days=200), ic.SubCategory.ROAD_TRAFFIC),
        (TODAY - datetime.timedelta(days=364), ic.SubCategory.ARMED_CONFLICT),  # last day in
        (TODAY - datetime.timedelta(days=365), ic.SubCategory.ARMED_CONFLICT),  # previous
        (TODAY - datetime.timedelta(days=729), ic.SubCategory.CRIME),  # previous, first day
        (TODAY - datetime.timedelta(days=730), ic.SubCategory.CRIME),  # too old
        (TODAY + datetime.timedelta(days=1), ic.SubCategory.CRIME),  # after today
        (TODAY, ic.SubCategory.VIOLENCE_UNKNOWN),
    ]
    for day, sub in days:
        category = ic.CATEGORY_OF[sub]
        submitted(reporter, undp, date=day, subcategory=sub, category=category)
    trend = area_trend(reporter, area, TODAY)
    counts = by_category(trend)
    assert counts["crime"] == (2, 1, 2)
    assert counts["armed_conflict"] == (1, 1, 0)
    assert counts["hazard"] == (1, 0, 0)
    assert counts["terrorism"] == (0, 0, 0)
    assert counts["unattributed"] == (1, 0, 1)
    assert (trend.total_last, trend.total_previous) == (5, 2)
    assert trend.last_from == datetime.date(2025, 6, 16)
    assert trend.quarter_from == datetime.date(2026, 3, 17)


def test_the_trend_keeps_to_the_area(reporter, undp):
    area = make_area(undp, "Juba", admin1=("Central Equatoria",))
    country = make_area(undp, "South Sudan", admin1=())
    submitted(reporter, undp, date=TODAY)
    submitted(
        reporter,
        undp,
        date=TODAY,
        admin1="Jonglei",
        place="Bor",
        latitude=None,
        longitude=None,
        coordinate_precision="",
    )
    submitted(
        reporter,
        undp,
        date=TODAY,
        country="SO",
        admin1="Banadir",
        place="Mogadishu",
        latitude=None,
        longitude=None,
        coordinate_precision="",
    )
    assert by_category(area_trend(reporter, area, TODAY))["crime"] == (1, 0, 1)
    assert by_category(area_trend(reporter, country, TODAY))["crime"] == (2, 0, 2)


def test_the_trend_goes_through_the_authorisation_door(reporter, outsider, undp, nrc, area):
    submitted(reporter, undp, date=TODAY, marking="AMBER")
    submitted(reporter, undp, date=TODAY, marking="GREEN")
    make_incident(reporter, undp, date=TODAY)  # a draft: not a report yet
    assert by_category(area_trend(reporter, area, TODAY))["crime"] == (2, 0, 2)
    assert by_category(area_trend(outsider, area, TODAY))["crime"] == (1, 0, 1)


def test_the_trend_is_one_query(reporter, area, django_assert_num_queries):
    reporter.memberships.count()  # warm the membership cache the door uses
    from salama.organisations.models import organisation_ids

    organisation_ids(reporter)
    from salama.incidents import grants

    grants.for_user(reporter)  # and the sharing grants it reads once per request
    with django_assert_num_queries(1):
        area_trend(reporter, area, TODAY)


def test_an_unlikely_threat_that_happened_twice_this_quarter_suggests_a_review(
    reporter, author, undp, area
):
    assessment = make_assessment(
        author,
        area,
        events=[
            event(rc.Likelihood.UNLIKELY, description="Armed robbery on the road"),
            event(rc.Likelihood.LIKELY, description="Burglary of residences"),
            event(
                rc.Likelihood.VERY_UNLIKELY,
                category=rc.ThreatCategory.TERRORISM,
                description="Bombing",
            ),
        ],
    )
    submitted(reporter, undp, date=TODAY - datetime.timedelta(days=10))
    trend = area_trend(reporter, area, TODAY)
    assert contradictions(assessment, trend) == []  # one incident: not yet
    submitted(reporter, undp, date=TODAY - datetime.timedelta(days=80))
    submitted(reporter, undp, date=TODAY - datetime.timedelta(days=120))  # outside the quarter
    found = contradictions(assessment, area_trend(reporter, area, TODAY))
    assert [(c.threat_event.description, c.incidents) for c in found] == [
        ("Armed robbery on the road", 2)
    ]
    assert ": Unlikely. Yet 2 incidents" in found[0].message
    assert "review suggested" in found[0].message
