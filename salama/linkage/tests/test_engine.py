"""The model itself, on records built in memory: what is compared and how it scores."""

import datetime

import pyarrow as pa
import pytest

from salama.linkage import engine

BASE = {
    "origin": "awsd",
    "external_id": "1",
    "country": "AF",
    "date": datetime.date(2020, 5, 10),
    "date_precision": "day",
    "admin1": "Kandahar",
    "place": "Spin Boldak",
    "latitude": 31.0,
    "longitude": 66.4,
    "killed": 2,
    "injured": 1,
    "abducted": 0,
    "detained": 0,
    "subcategory": "violence_unknown",
    "means_of_attack": "roadside_ied",
    "narrative": "Two national staff of an INGO demining team were killed and one injured when "
    "their vehicle struck a roadside IED in Spin Boldak district.",
}


def table(*records):
    rows = [{**BASE, "id": i + 1, **r} for i, r in enumerate(records)]
    return pa.Table.from_pylist(rows, schema=engine.RECORD_SCHEMA)


def test_same_event_from_two_sources_is_proposed_with_its_reasons():
    found = engine.predict(table({}, {"origin": "sind", "date": datetime.date(2020, 5, 11)}))
    assert len(found) == 1
    pair = found[0]
    assert (pair.a, pair.b) == (1, 2)
    assert pair.probability > 0.99
    assert "date:within_1_day" in pair.agreements
    assert "victims:same_counts" in pair.agreements
    assert "narrative:very_similar" in pair.agreements


def test_records_of_one_origin_are_not_compared():
    assert engine.predict(table({}, {})) == []


def test_other_country_or_far_dates_are_not_compared():
    assert engine.predict(table({}, {"origin": "sind", "country": "PK"})) == []
    far = {"origin": "sind", "date": BASE["date"] + datetime.timedelta(days=engine.WINDOW_DAYS + 1)}
    assert engine.predict(table({}, far)) == []


def test_dates_in_neighbouring_buckets_are_compared():
    # 2020-05-10 is day 18392; find a pair straddling a bucket edge, WINDOW_DAYS apart.
    day = datetime.date(1970, 1, 1) + datetime.timedelta(days=(18392 // 14) * 14 + 13)
    later = day + datetime.timedelta(days=engine.WINDOW_DAYS)
    found = engine.predict(table({"date": day}, {"origin": "sind", "date": later}), threshold=0.0)
    assert len(found) == 1


def test_month_precision_is_compared_within_its_month():
    month = {"origin": "sind", "date": datetime.date(2020, 5, 1), "date_precision": "month"}
    found = engine.predict(table({"date": datetime.date(2020, 5, 28)}, month), threshold=0.0)
    assert len(found) == 1
    assert "date:same_month" in found[0].agreements


def test_year_precision_is_not_linked():
    year = {"origin": "sind", "date": datetime.date(2020, 1, 1), "date_precision": "year"}
    assert engine.predict(table({}, year), threshold=0.0) == []


def test_a_different_event_nearby_scores_low():
    other = {
        "origin": "sind",
        "date": datetime.date(2020, 5, 16),
        "admin1": "Helmand",
        "place": "Lashkar Gah",
        "latitude": 31.6,
        "longitude": 64.3,
        "killed": 0,
        "injured": 0,
        "abducted": 3,
        "means_of_attack": "kidnapping",
        "narrative": "Three health workers were abducted from a clinic in Lashkar Gah and "
        "released two days later after elders negotiated.",
    }
    found = engine.predict(table({}, other), threshold=0.0)
    assert len(found) == 1
    assert found[0].probability < 0.01


def test_bad_engine_or_threshold_is_refused():
    with pytest.raises(ValueError, match="Unknown linkage engine"):
        engine.predict(table({}), engine="oracle")
    with pytest.raises(ValueError, match="probability"):
        engine.predict(table({}), threshold=2)


def test_settings_are_written_for_both_dialects():
    duck = engine.settings("duckdb").create_settings_dict("duckdb")
    spark = engine.settings("spark").create_settings_dict("spark")
    duck_sql = str(duck["comparisons"])
    spark_sql = str(spark["comparisons"])
    assert "jaro_winkler_similarity" in duck_sql and "list_intersect" in duck_sql
    assert "jaro_winkler(" in spark_sql and "array_intersect" in spark_sql
