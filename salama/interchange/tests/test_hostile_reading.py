"""Properties of the shared readers on any input (hypothesis): they answer or refuse, no crash."""

import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salama.incidents import choices as c
from salama.interchange.formats import ImportRefused
from salama.interchange.reading import (
    ValueProblem,
    detect_delimiter,
    open_table,
    parse_count,
    parse_date,
    repair_coordinate,
    split_known,
    table_rows,
)

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.text(max_size=40))
def test_any_date_cell_is_a_date_with_its_precision_or_a_clear_problem(text):
    try:
        when = parse_date(text, day_first=None, serials=True)
    except ValueProblem as exc:
        assert str(exc)
        return
    if when is not None:
        assert isinstance(when.date, datetime.date)
        assert when.precision in c.DatePrecision.values


@FAST
# Two-digit years are read as this century up to next year (incidents are not in the future).
@given(st.dates(min_value=datetime.date(1990, 1, 1), max_value=datetime.date.today()))
def test_the_forms_real_files_use_give_back_the_same_day(day):
    forms = [
        day.isoformat(),
        f"{day.isoformat()}T00:00:00.000Z",
        f"{day.month}/{day.day}/{day:%y} 12:00 AM",
        f"{day.day} {day:%B %Y}",
        f"{day.day}-{day:%b}-{day:%Y}",
        f"{day:%B} {day.day}, {day.year}",
    ]
    for text in forms:
        when = parse_date(text, day_first=False)
        assert (when.date, when.precision, when.time) == (day, "day", None), text
    assert parse_date(f"{day:%b %Y}").precision == "month"


@FAST
@given(st.integers(min_value=0, max_value=10**9))
def test_counts_with_thousands_separators(number):
    for text in (f"{number:,}", f"{number:,}".replace(",", " "), f" {number} ", f"{number}.0"):
        assert parse_count(text) == number


@FAST
@given(st.text(max_size=20))
def test_any_count_cell_is_a_whole_number_or_a_clear_problem(text):
    try:
        assert parse_count(text) >= 0
    except ValueProblem as exc:
        assert str(exc)


# Points well inside their country (Natural Earth 1:110m).
INSIDE = [
    ("SS", 7.26, 29.95),
    ("ML", 14.07092855, -3.02),
    ("AF", 33.93, 67.71),
    ("CD", -2.88, 23.65),
    ("NE", 16.61, 8.08),
]


@FAST
@given(st.sampled_from(INSIDE), st.integers(min_value=1, max_value=9999))
def test_a_repaired_coordinate_lands_in_its_country_or_is_refused(place, extra):
    country, lat, lon = place
    lat_text = f"{lat:.4f}{extra}"
    digits = lat_text.replace(".", "").lstrip("-")
    lost = ".".join(
        digits[max(i - 3, 0) : i] for i in range(len(digits) % 3 or 3, len(digits) + 1, 3)
    )
    lost = ("-" if lat < 0 else "") + lost
    try:
        point = repair_coordinate(lost, str(lon), country, 25)
    except ValueProblem:
        return  # ambiguous or nowhere inside: refused, not guessed
    assert point.check in (c.CoordinateCheckStatus.REPAIRED, "inside", "near_border")
    if point.repaired:
        assert point.latitude == pytest.approx(float(lat_text))
        assert "Lost decimal point repaired" in point.note


def test_the_public_awsd_example_is_repaired():
    point = repair_coordinate("1.407.092.855", "-3.02", "ML", 25)
    assert point.latitude == pytest.approx(14.07092855)
    assert point.check == c.CoordinateCheckStatus.REPAIRED
    with pytest.raises(ValueProblem, match="not repaired"):
        repair_coordinate("1.407.092.855", "-3.02", "FR", 25)


@FAST
@given(st.binary(max_size=3000))
def test_any_bytes_open_as_a_table_or_are_refused(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("bytes") / "file"
    path.write_bytes(data)
    try:
        table = open_table(path)
    except ImportRefused as exc:
        assert str(exc)
        return
    for row in table_rows(table):
        assert row.number >= 1


@FAST
@given(st.text(max_size=200))
def test_a_delimiter_is_always_one_of_the_candidates(line):
    assert detect_delimiter(line) in ",;\t|"


def test_multi_valued_cells_whose_values_hold_commas():
    labels = ["Obstruction to delivery (e.g. physical, legal)", "Setting fire"]
    found, left = split_known(
        " Setting fire, Obstruction to delivery (e.g. physical, legal), X", labels
    )
    assert found == ["setting fire", "obstruction to delivery (e.g. physical, legal)"]
    assert left == ["x"]
