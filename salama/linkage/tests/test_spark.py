"""The Spark engine gives the DuckDB engine's answer (pyspark in local mode, on loopback)."""

import datetime
import json
from io import StringIO

import pyarrow as pa
import pytest
from django.core.management import call_command

from salama.linkage import engine
from salama.linkage.models import CandidatePair

pytest.importorskip("pyspark")
pytestmark = pytest.mark.spark

BASE = {
    "origin": "awsd",
    "external_id": "1",
    "country": "AF",
    "date": datetime.date(2020, 5, 10),
    "date_precision": "day",
    "admin1": "Kandahar Province",
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
OTHERS = [
    {"origin": "sind", "date": datetime.date(2020, 5, 11), "admin1": "Kandahar"},
    {
        "origin": "sind",
        "date": datetime.date(2020, 5, 1),
        "date_precision": "month",
        "place": "",
        "latitude": None,
        "longitude": None,
    },
    {
        "origin": "sind",
        "date": datetime.date(2020, 5, 18),
        "admin1": "Helmand",
        "place": "Lashkar Gah",
        "latitude": 31.6,
        "longitude": 64.3,
        "killed": 0,
        "injured": 0,
        "abducted": 3,
        "means_of_attack": "kidnapping",
        "narrative": "Three health workers were "
        "abducted from a clinic in Lashkar Gah and released two days later.",
    },
    {"origin": "awsd", "date": datetime.date(2020, 5, 12)},  # same origin: never compared
]


def test_spark_and_duckdb_engines_agree():
    rows = [{**BASE, "id": 1}] + [{**BASE, "id": i + 2, **o} for i, o in enumerate(OTHERS)]
    table = pa.Table.from_pylist(rows, schema=engine.RECORD_SCHEMA)
    duck = engine.predict(table, threshold=0.0, one_to_one=False)
    spark = engine.predict(table, engine="spark", threshold=0.0, one_to_one=False)
    assert [(c.a, c.b, c.agreements) for c in spark] == [(c.a, c.b, c.agreements) for c in duck]
    for s, d in zip(spark, duck, strict=True):
        assert s.probability == pytest.approx(d.probability, abs=1e-9)
    assert {(c.a, c.b) for c in duck} == {(1, 2), (1, 3), (1, 4), (2, 5), (3, 5), (4, 5)}


def test_link_command_on_spark(same_event):
    out = StringIO()
    call_command("link", "--engine", "spark", "--format", "json", stdout=out)
    pairs = json.loads(out.getvalue())
    assert [(p["a"]["source"], p["b"]["source"]) for p in pairs] == [("awsd", "sind")]
    assert CandidatePair.objects.get().run.engine == "spark"
