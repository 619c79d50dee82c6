"""Labelled benchmarks for the linkage model, built from the real public files.

(a) *Noisy copies*: every AWSD row, and for half of them a copy with the noise of
    ``data/noise.json`` (dates moved up to ±3 days, admin 1 spelt another way, counts ±1, the
    narrative reworded, coordinates missing or moved, the place left out). A pair is true when
    it is a row and its own copy.
(b) *Hand-labelled pairs*: ``data/awsd_sind_pairs.csv``, AWSD Incident ID × SiND Event ID,
    each read side by side (date, place, victims, narrative) and labelled with a one-line
    reason; matches and near misses (same country, days apart). The model links every AWSD and
    SiND event of 2020–2022; a labelled pair is predicted the same event when the model scores
    it at or above the threshold.

Both read the files with the importers' own converters (``to_facts``), so the records are what
an import would store. Used by ``bench/linkage.py`` and the tests.
"""

from __future__ import annotations

import csv
import datetime
import json
import math
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
from django.conf import settings

from salama.incidents import choices as c
from salama.linkage import engine

DATA = Path(__file__).parent / "data"
LABELS = DATA / "awsd_sind_pairs.csv"
NOISE = DATA / "noise.json"
INTERCHANGE_DATA = settings.BASE_DIR / "interchange" / "data"
AWSD_FILE = INTERCHANGE_DATA / "awsd" / "awsd_1997-2022.csv"
KIKA_FILE = INTERCHANGE_DATA / "kika" / "aidWorkerKIKA.json"
# The benchmark files are public data up to 2024: any later date is a garbled cell.
CONTEXT_LATEST = datetime.date(2025, 12, 31)
# Ids of the SiND records, apart from AWSD's (whose Incident IDs are below 10,000).
SIND_ID_OFFSET = 10_000_000
COPY_ID_OFFSET = 20_000_000


def _context():
    from salama.interchange.formats import Context

    return Context(latest_date=CONTEXT_LATEST, tolerance_km=settings.COORDINATE_BORDER_TOLERANCE_KM)


def record_of(facts, record_id: int, origin: str) -> dict:
    """A linkage record (engine.RECORD_SCHEMA) from importer facts."""
    fields = facts.fields
    counts = dict.fromkeys(
        (c.Impact.KILLED, c.Impact.INJURED, c.Impact.ABDUCTED, c.Impact.ARRESTED_DETAINED), 0
    )
    for person in facts.persons:
        if person["impact"] in counts:
            counts[person["impact"]] += person.get("count", 1)
    return {
        "id": record_id,
        "origin": origin,
        "external_id": facts.external_id,
        "country": fields["country"],
        "date": fields["date"],
        "date_precision": fields["date_precision"],
        "admin1": fields.get("admin1", ""),
        "place": fields.get("place", ""),
        "latitude": fields.get("latitude"),
        "longitude": fields.get("longitude"),
        "killed": counts[c.Impact.KILLED],
        "injured": counts[c.Impact.INJURED],
        "abducted": counts[c.Impact.ABDUCTED],
        "detained": counts[c.Impact.ARRESTED_DETAINED],
        "subcategory": fields.get("subcategory", ""),
        "means_of_attack": fields.get("means_of_attack", ""),
        "narrative": fields.get("narrative", ""),
    }


def awsd_records(path=AWSD_FILE) -> list[dict]:
    """Every AWSD row the importer accepts, as records with id = the Incident ID."""
    from salama.interchange.formats import Facts, awsd

    context, records = _context(), []
    with open(path, encoding="utf-8", newline="") as lines:
        reading = awsd.read(lines)
        for row in reading.rows:
            facts = awsd.to_facts(row.raw, reading.layout, context) if not row.problem else None
            if isinstance(facts, Facts) and facts.external_id.isdigit():
                records.append(record_of(facts, int(facts.external_id), "awsd"))
    return records


def sind_records(path=KIKA_FILE) -> list[dict]:
    """Every SiND event of the KIKA file the importer accepts (id = SIND_ID_OFFSET + event)."""
    from salama.interchange.formats import Facts, kika

    context, records = _context(), []
    reading = kika.read_file(path)
    for row in reading.rows:
        facts = kika.to_facts(row.raw, reading.layout, context) if not row.problem else None
        if isinstance(facts, Facts) and facts.external_id.isdigit():
            records.append(record_of(facts, SIND_ID_OFFSET + int(facts.external_id), "sind"))
    return records


def table_of(records: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(records, schema=engine.RECORD_SCHEMA)


# -- (a) noisy copies ------------------------------------------------------------------------


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 2)
    if rng.random() < 0.5:  # swap two letters
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word[:i] + word[i + 1 :]  # drop one


def _reword(text: str, rules: dict, rng: random.Random) -> str:
    synonyms = rules["synonyms"]
    pattern = re.compile(
        r"\b(" + "|".join(re.escape(k) for k in sorted(synonyms, key=len, reverse=True)) + r")\b"
    )

    def swap(match):
        if rng.random() < rules["synonym_probability"]:
            return rng.choice(synonyms[match.group(0)])
        return match.group(0)

    words = pattern.sub(swap, text).split()
    kept = [w for w in words if rng.random() >= rules["drop_word_probability"]] or words
    sentences = re.split(r"(?<=[.;])\s+", " ".join(kept))
    if len(sentences) > 1:
        rng.shuffle(sentences)
    return " ".join(sentences)


def noisy_copy(record: dict, rng: random.Random, rules: dict, new_id: int) -> dict:
    """Another source's account of the same event, made from ``record`` by ``rules``."""
    copy = dict(record, id=new_id, origin="copy", external_id=f"copy-{record['external_id']}")
    if record["date_precision"] == c.DatePrecision.DAY and (
        rng.random() < rules["date_shift_probability"]
    ):
        shift = rng.randint(-rules["date_shift_days"], rules["date_shift_days"])
        copy["date"] = record["date"] + datetime.timedelta(days=shift)
    admin1 = record["admin1"] or ""
    if admin1 and rng.random() < rules["admin1_variant_probability"]:
        spellings = rules["admin1_spellings"].get(admin1)
        if spellings and rng.random() < 0.7:
            admin1 = rng.choice(spellings)
        else:
            admin1 += rng.choice(rules["admin1_suffixes"])
        if rng.random() < rules["admin1_typo_probability"]:
            admin1 = _typo(admin1, rng)
        copy["admin1"] = admin1
    for column in ("killed", "injured", "abducted", "detained"):
        if copy[column] and rng.random() < rules["count_change_probability"]:
            copy[column] = max(0, copy[column] + rng.choice((-1, 1)))
    if rng.random() < rules["place_blank_probability"]:
        copy["place"] = ""
    if copy["latitude"] is not None:
        draw = rng.random()
        if draw < rules["coordinates_missing_probability"]:
            copy["latitude"] = copy["longitude"] = None
        elif (
            draw < rules["coordinates_missing_probability"] + rules["coordinates_move_probability"]
        ):
            km, bearing = rng.uniform(0, rules["coordinates_move_km"]), rng.uniform(0, 2 * math.pi)
            dlat = km * math.cos(bearing) / 111.0
            dlon = (
                km
                * math.sin(bearing)
                / (111.0 * max(0.1, math.cos(math.radians(copy["latitude"]))))
            )
            copy["latitude"] = max(-90.0, min(90.0, copy["latitude"] + dlat))
            copy["longitude"] = (copy["longitude"] + dlon + 180) % 360 - 180
    narrative_rules = rules["narrative"]
    text = _reword(record["narrative"] or "", narrative_rules, rng)
    if rng.random() < narrative_rules["month_prefix_probability"]:
        text = f"{copy['date']:%B %Y}: {text}"
    copy["narrative"] = text
    return copy


def noisy_dataset(records: list[dict], *, seed: int = 1, rules: dict | None = None):
    """The records plus noisy copies of a ``copy_fraction`` of them; and the true pairs."""
    rules = rules or json.loads(NOISE.read_text(encoding="utf-8"))
    rng = random.Random(seed)
    copies, truth = [], set()
    for record in records:
        if rng.random() < rules["copy_fraction"]:
            copy = noisy_copy(record, rng, rules, COPY_ID_OFFSET + record["id"])
            copies.append(copy)
            truth.add((record["id"], copy["id"]))
    return records + copies, truth


# -- scoring ------------------------------------------------------------------------------


@dataclass
class Score:
    true_positives: int
    false_positives: int
    false_negatives: int
    true_negatives: int | None = None

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        real = self.true_positives + self.false_negatives
        return self.true_positives / real if real else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict:
        return {
            "true_positives": self.true_positives,
            "false_positives": self.false_positives,
            "false_negatives": self.false_negatives,
            "true_negatives": self.true_negatives,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }


def score_pairs(predicted: set, truth: set) -> Score:
    return Score(len(predicted & truth), len(predicted - truth), len(truth - predicted))


def load_labels(path=LABELS) -> list[dict]:
    """The hand-labelled pairs; refuses a malformed file rather than scoring a wrong one."""
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    seen = set()
    for number, row in enumerate(rows, start=2):
        key = (row["awsd_incident_id"], row["sind_event_id"])
        if not all(part.isdigit() for part in key):
            raise ValueError(f"{path.name} line {number}: ids must be numbers, got {key}.")
        if row["same_event"] not in ("yes", "no"):
            raise ValueError(f"{path.name} line {number}: same_event must be yes or no.")
        if not row["reason"].strip():
            raise ValueError(f"{path.name} line {number}: every label needs its reason.")
        if key in seen:
            raise ValueError(f"{path.name} line {number}: the pair {key} is labelled twice.")
        seen.add(key)
    return rows


@dataclass
class Result:
    name: str
    records: int
    true_pairs: int
    candidates: int
    seconds: float
    score: Score
    threshold: float
    errors: list


def run_noisy(
    *, engine_name="duckdb", threshold=engine.DEFAULT_THRESHOLD, seed=1, spark=None, records=None
) -> Result:
    records = awsd_records() if records is None else records
    data, truth = noisy_dataset(records, seed=seed)
    table = table_of(data)
    began = time.perf_counter()
    found = engine.predict(table, engine=engine_name, threshold=threshold, spark=spark)
    seconds = time.perf_counter() - began
    predicted = {(cand.a, cand.b) for cand in found}
    score = score_pairs(predicted, truth)
    errors = sorted(predicted ^ truth)[:20]
    return Result(
        "noisy AWSD copies", len(data), len(truth), len(found), seconds, score, threshold, errors
    )


def run_labelled(
    *, engine_name="duckdb", threshold=engine.DEFAULT_THRESHOLD, spark=None, years=(2020, 2022)
) -> Result:
    labels = load_labels()
    first, last = years
    chosen = [r for r in awsd_records() + sind_records() if first <= r["date"].year <= last]
    table = table_of(chosen)
    began = time.perf_counter()
    found = engine.predict(table, engine=engine_name, threshold=0.0, spark=spark)
    seconds = time.perf_counter() - began
    probability = {(cand.a, cand.b): cand.probability for cand in found}
    tp = fp = fn = tn = 0
    errors = []
    for label in labels:
        key = (int(label["awsd_incident_id"]), SIND_ID_OFFSET + int(label["sind_event_id"]))
        p = probability.get(key, 0.0)
        said, truth = p >= threshold, label["same_event"] == "yes"
        tp += said and truth
        fp += said and not truth
        fn += truth and not said
        tn += not said and not truth
        if said != truth:
            errors.append(
                (
                    label["awsd_incident_id"],
                    label["sind_event_id"],
                    round(p, 4),
                    label["same_event"],
                    label["reason"],
                )
            )
    return Result(
        "hand-labelled AWSD × SiND 2020–2022",
        len(chosen),
        sum(r["same_event"] == "yes" for r in labels),
        len(found),
        seconds,
        Score(tp, fp, fn, tn),
        threshold,
        errors,
    )
