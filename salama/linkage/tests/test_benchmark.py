"""The labelled benchmarks are data: they must be well formed, real, and met by the model."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salama.linkage import benchmark, engine


@pytest.fixture(scope="module")
def awsd():
    return {r["id"]: r for r in benchmark.awsd_records()}


@pytest.fixture(scope="module")
def sind():
    return {r["id"] - benchmark.SIND_ID_OFFSET: r for r in benchmark.sind_records()}


def test_hand_labels_are_real_pairs_with_reasons(awsd, sind):
    labels = benchmark.load_labels()
    assert len(labels) >= 100
    yes = [row for row in labels if row["same_event"] == "yes"]
    assert 0.3 < len(yes) / len(labels) < 0.7, "near misses as well as matches"
    for row in labels:
        a, b = awsd[int(row["awsd_incident_id"])], sind[int(row["sind_event_id"])]
        assert a["country"] == b["country"], row
        assert 2020 <= a["date"].year <= 2022 and 2020 <= b["date"].year <= 2022, row
        assert abs((a["date"] - b["date"]).days) <= 5, row
        assert len(row["reason"]) > 20


def test_a_malformed_label_file_is_refused(tmp_path):
    bad = tmp_path / "labels.csv"
    bad.write_text("awsd_incident_id,sind_event_id,same_event,reason\n1,2,maybe,x\n")
    with pytest.raises(ValueError, match="yes or no"):
        benchmark.load_labels(bad)
    bad.write_text("awsd_incident_id,sind_event_id,same_event,reason\n1,2,yes,\n")
    with pytest.raises(ValueError, match="reason"):
        benchmark.load_labels(bad)


def test_noisy_copies_follow_the_rules(awsd):
    rules = json.loads(benchmark.NOISE.read_text())
    data, truth = benchmark.noisy_dataset(list(awsd.values()), seed=7)
    copies = {r["id"]: r for r in data if r["origin"] == "copy"}
    assert len(truth) == len(copies) and 0.4 < len(copies) / len(awsd) < 0.6
    shifted = moved = 0
    for original_id, copy_id in truth:
        original, copy = awsd[original_id], copies[copy_id]
        assert copy["country"] == original["country"]
        assert abs((copy["date"] - original["date"]).days) <= rules["date_shift_days"]
        for column in ("killed", "injured", "abducted", "detained"):
            assert abs(copy[column] - original[column]) <= 1
        shifted += copy["date"] != original["date"]
        moved += copy["latitude"] != original["latitude"]
    assert shifted > len(truth) / 3 and moved > len(truth) / 3


def test_benchmark_a_noisy_copies_meets_its_target():
    result = benchmark.run_noisy()
    assert result.score.f1 >= 0.95, result.score.as_dict()


def test_benchmark_b_hand_labelled_meets_its_target():
    result = benchmark.run_labelled()
    assert result.score.f1 >= 0.85, (result.score.as_dict(), result.errors)


def candidate(a, b, p):
    return engine.Candidate(a, b, p, 0.0, [])


@settings(deadline=None)  # a pure function; the shared machine's load is not its business
@given(
    st.lists(
        st.tuples(st.integers(1, 12), st.integers(1, 12), st.floats(0, 1)),
        max_size=40,
    )
)
def test_best_links_keeps_one_pair_per_record_and_origin(raw):
    origin_of = {i: "awsd" if i % 3 == 0 else "sind" if i % 3 == 1 else "org:1" for i in range(13)}
    pairs = {}
    for a, b, p in raw:
        if a != b and origin_of[a] != origin_of[b]:
            pairs[(min(a, b), max(a, b))] = p
    candidates = [candidate(a, b, p) for (a, b), p in pairs.items()]
    kept = engine.best_links(candidates, origin_of)
    seen = set()
    for cand in kept:
        for record, other in ((cand.a, cand.b), (cand.b, cand.a)):
            assert (record, origin_of[other]) not in seen
            seen.add((record, origin_of[other]))
    # Every dropped pair lost to a kept pair at least as probable.
    for cand in candidates:
        if cand not in kept:
            rivals = [
                k
                for k in kept
                if {(cand.a, origin_of[cand.b]), (cand.b, origin_of[cand.a])}
                & {(k.a, origin_of[k.b]), (k.b, origin_of[k.a])}
            ]
            assert rivals and max(r.probability for r in rivals) >= cand.probability
