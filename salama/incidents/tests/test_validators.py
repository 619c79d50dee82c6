import datetime

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from salama.conftest import make_incident
from salama.incidents import choices as c
from salama.incidents.validators import (
    latest_allowed_date,
    validate_category,
    validate_date,
    validate_place,
    validate_totals,
)


def test_it_refuses_a_date_in_the_future():
    tomorrow_and_more = latest_allowed_date() + datetime.timedelta(days=1)
    errors = validate_date(tomorrow_and_more, c.DatePrecision.DAY)
    assert "in the future" in errors["date"][0]


def test_today_is_fine():
    assert validate_date(datetime.date.today(), c.DatePrecision.DAY) == {}


@pytest.mark.parametrize(
    ("date", "precision", "ok"),
    [
        (datetime.date(2020, 5, 1), "month", True),
        (datetime.date(2020, 5, 2), "month", False),
        (datetime.date(2020, 1, 1), "year", True),
        (datetime.date(2020, 2, 1), "year", False),
        (datetime.date(2020, 2, 17), "day", True),
    ],
)
def test_the_day_and_month_agree_with_the_precision(date, precision, ok):
    assert (validate_date(date, precision) == {}) is ok


def test_a_time_needs_an_exact_day():
    errors = validate_date(datetime.date(2020, 5, 1), "month", datetime.time(10, 0))
    assert "time" in errors


def test_it_refuses_an_unknown_country():
    assert "ISO 3166-1" in validate_place("ZZ", None, None)["country"][0]


def test_a_coordinate_inside_the_country_is_fine():
    assert validate_place("AF", 34.52, 69.17) == {}  # Kabul


def test_a_coordinate_just_across_the_border_is_tolerated():
    # Near the Afghanistan–Pakistan border at Torkham, on the Pakistani side.
    assert validate_place("AF", 34.10, 71.12) == {}


def test_a_coordinate_far_outside_the_country_says_how_far_and_where():
    message = validate_place("AF", 48.85, 2.35)["latitude"][0]  # Paris
    assert "km outside Afghanistan" in message


def test_it_wants_both_coordinates_or_neither():
    assert "longitude" in validate_place("AF", 34.5, None)


def test_a_subcategory_must_belong_to_its_category():
    assert validate_category(c.Category.SAFETY, c.SubCategory.ROAD_TRAFFIC) == {}
    assert "subcategory" in validate_category(c.Category.VIOLENCE, c.SubCategory.ROAD_TRAFFIC)


def test_totals_must_add_up_to_the_people_affected():
    assert validate_totals(3, {"gender": {"female": 1, "male": 2}}) == []
    [problem] = validate_totals(3, {"gender": {"female": 1, "male": 1}})
    assert "add up to 2" in problem


def test_negative_counts_are_refused():
    assert any("negative" in p for p in validate_totals(0, {"gender": {"female": -1, "male": 1}}))


def test_the_model_refuses_an_outside_coordinate_on_create(reporter, undp):
    with pytest.raises(ValidationError) as refused:
        make_incident(reporter, undp, country="AF", latitude=48.85, longitude=2.35)
    assert "latitude" in refused.value.message_dict


def test_the_model_records_the_check_result(reporter, undp):
    incident = make_incident(reporter, undp, country="AF", latitude=34.10, longitude=71.12)
    assert incident.coordinate_check == c.CoordinateCheckStatus.NEAR_BORDER


@settings(max_examples=200, deadline=None)
@given(
    st.text(max_size=3),
    st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
    st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
)
def test_validate_place_never_crashes(country, lat, lon):
    assert isinstance(validate_place(country, lat, lon), dict)


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(st.none(), st.dates()),
    st.sampled_from(list(c.DatePrecision) + ["", "week"]),
    st.one_of(st.none(), st.times()),
)
def test_validate_date_never_crashes(date, precision, time):
    assert isinstance(validate_date(date, precision, time), dict)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=0, max_value=10_000),
    st.dictionaries(
        st.sampled_from(["gender", "organisation_type"]),
        st.dictionaries(st.text(max_size=8), st.integers(-5, 10_000), max_size=4),
        max_size=2,
    ),
)
def test_validate_totals_never_crashes_and_accepts_only_exact_sums(persons, totals):
    problems = validate_totals(persons, totals)
    consistent = all(
        not counts or (sum(counts.values()) == persons and min(counts.values()) >= 0)
        for counts in totals.values()
    )
    assert (problems == []) is consistent
