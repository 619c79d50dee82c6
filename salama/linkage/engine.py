"""Probabilistic record linkage of incidents with splink: the model and its two engines.

This module knows nothing of Django: it takes an Arrow table of linkage records (one row per
incident, columns :data:`RECORD_SCHEMA`) and returns scored candidate pairs. The database side
(:mod:`salama.linkage.frame`) builds that table; :mod:`salama.linkage.services` stores the
pairs. The benchmark feeds it records read straight from files, so both paths share one model.

How a pair is found (blocking) — only pairs of incidents from *different* origins (source
systems) in the *same country*:

- both dated to the day: no more than :data:`WINDOW_DAYS` days apart;
- either dated only to the month: the same calendar month.

Incidents known only to the year are not linked (there is nothing to tell them apart).

How a pair is scored (Fellegi–Sunter, via splink): date distance; place (place name, admin 1,
or one record's place named in the other's narrative); distance between the coordinates;
victim counts by impact (killed, injured, held = abducted or detained); means of attack and
sub-category; narrative similarity (share of content words in common). The m and u
probabilities are set by hand in :data:`LEVELS` — not trained — so a database of ten incidents
scores exactly like one of a million, and a result can be explained level by level. They were
set from what the sources are known to do (AWSD moves points on purpose and often leaves the
day blank; Insecurity Insight counts those killed in captivity as kidnapped, and gives
coordinates to 25 km) and checked against the two benchmarks in ``bench/linkage.py``.

Prepared columns (normalised names, content-word lists) are computed in DuckDB with SQL, never
with a Python loop per incident, so a million records prepare in seconds.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

ENGINES = ("duckdb", "spark")
# Two incidents dated to the day are compared when no more than this many days apart.
WINDOW_DAYS = 14
# Prior probability that a blocked pair (same country, dates close, other origin) is a match.
PRIOR = 0.02
# Probability from which a pair is proposed for review (the benchmarks report this cut-off).
DEFAULT_THRESHOLD = 0.5
# Narratives are compared on their first characters (long reports repeat themselves).
NARRATIVE_CHARS = 1200
# Words that say nothing about which event it was (English and French, the sources' languages).
STOPWORDS = sorted(
    {
        "about", "after", "against", "also", "among", "area", "armed", "around", "attack",
        "attacked", "avec", "been", "being", "both", "dans", "district", "during", "from",
        "have", "humanitarian", "incident", "into", "local", "members", "near", "other",
        "over", "pour", "province", "reported", "reportedly", "region", "said", "some",
        "staff", "state", "that", "their", "them", "then", "there", "these", "they", "this",
        "those", "through", "under", "unknown", "until", "village", "were", "when", "where",
        "which", "while", "with", "worker", "workers", "would",
    }
)  # fmt: skip

RECORD_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("origin", pa.string()),
        ("external_id", pa.string()),
        ("country", pa.string()),
        ("date", pa.date32()),
        ("date_precision", pa.string()),
        ("admin1", pa.string()),
        ("place", pa.string()),
        ("latitude", pa.float64()),
        ("longitude", pa.float64()),
        ("killed", pa.int64()),
        ("injured", pa.int64()),
        ("abducted", pa.int64()),
        ("detained", pa.int64()),
        ("subcategory", pa.string()),
        ("means_of_attack", pa.string()),
        ("narrative", pa.string()),
    ]
)

# Words that say what kind of area admin 1 is, not which: "Kabul Province" is "Kabul".
ADMIN_WORDS = (
    " (province|provincia|region|regional|state|governorate|prefecture|division|department|"
    "county|oblast|district|wilaya|wilayah|muhafazah|of|de|du|la|l|del) "
)
# A word worth comparing: four letters or more, not a number, not a stop word.
_WORD = "length(w) >= 4 AND NOT regexp_full_match(w, '[0-9]+') AND NOT list_contains($stopwords, w)"
PREPARE_SQL = f"""
WITH base AS (
    SELECT
        id AS unique_id,
        origin,
        coalesce(external_id, '') AS external_id,
        upper(country) AS country,
        CAST(date AS DATE) - DATE '1970-01-01' AS day,
        date_precision = 'day' AS day_known,
        year(CAST(date AS DATE)) * 12 + month(CAST(date AS DATE)) AS month_key,
        nullif(trim(regexp_replace(regexp_replace(
            ' ' || regexp_replace(lower(strip_accents(coalesce(admin1, ''))),
                                  '[^a-z0-9]+', ' ', 'g') || ' ',
            '{ADMIN_WORDS}', ' ', 'g'), '{ADMIN_WORDS}', ' ', 'g')), '') AS admin1,
        nullif(trim(regexp_replace(lower(strip_accents(coalesce(place, ''))),
                                   '[^a-z0-9]+', ' ', 'g')), '') AS place,
        latitude,
        longitude,
        coalesce(killed, 0) AS killed,
        coalesce(injured, 0) AS injured,
        coalesce(abducted, 0) + coalesce(detained, 0) AS held,
        nullif(nullif(means_of_attack, ''), 'unknown') AS means,
        nullif(nullif(subcategory, ''), 'violence_unknown') AS subcategory,
        ' ' || trim(regexp_replace(lower(strip_accents(left(coalesce(narrative, ''),
                                   {NARRATIVE_CHARS}))), '[^a-z0-9]+', ' ', 'g')) || ' '
            AS narrative
    FROM records
    WHERE date_precision IN ('day', 'month') AND country IS NOT NULL AND origin IS NOT NULL
),
words AS (
    SELECT
        * EXCLUDE (narrative),
        day // {WINDOW_DAYS} AS bucket,
        day // {WINDOW_DAYS} + 1 AS bucket_next,
        killed + injured + held AS affected,
        list_sort(list_distinct(list_filter(string_split(trim(narrative), ' '),
            w -> {_WORD}))) AS words,
        list_distinct(list_filter(string_split(coalesce(place, ''), ' '), w -> {_WORD}))
            AS place_words,
        list_distinct(list_filter(string_split(coalesce(admin1, ''), ' '), w -> {_WORD}))
            AS admin1_words
    FROM base
)
SELECT
    *,
    len(words) AS len_words,
    len(place_words) AS len_place_words,
    len(admin1_words) AS len_admin1_words
FROM words
"""


@dataclass
class Level:
    """One level of a comparison: its SQL (``{jw}`` is the dialect's Jaro-Winkler, ``{overlap}``
    the size of the intersection of two lists), m and u; ``agrees`` names it as a reason."""

    label: str
    sql: str
    m: float = 0.0
    u: float = 0.0
    null: bool = False
    agrees: str = ""


@dataclass
class Comparison:
    name: str
    levels: list[Level] = field(default_factory=list)


OVERLAP = "{overlap}(words_l, words_r) / least(len_words_l, len_words_r)"
LEVELS = [
    Comparison(
        "date",
        [
            Level("one date is only the year", "NOT day_known_l AND NOT day_known_r", null=True),
            Level(
                "same day",
                "day_known_l AND day_known_r AND day_l = day_r",
                0.55,
                0.035,
                agrees="date:same_day",
            ),
            Level(
                "one day apart",
                "day_known_l AND day_known_r AND abs(day_l - day_r) <= 1",
                0.25,
                0.07,
                agrees="date:within_1_day",
            ),
            Level(
                "three days apart at most",
                "day_known_l AND day_known_r AND abs(day_l - day_r) <= 3",
                0.12,
                0.14,
                agrees="date:within_3_days",
            ),
            Level(
                "same month, one dated to the month",
                "month_key_l = month_key_r AND NOT (day_known_l AND day_known_r)",
                0.05,
                0.05,
                agrees="date:same_month",
            ),
            Level("further apart", "ELSE", 0.03, 0.70),
        ],
    ),
    Comparison(
        "place",
        [
            Level(
                "no place on either side",
                "(place_l IS NULL AND admin1_l IS NULL) OR (place_r IS NULL AND admin1_r IS NULL)",
                null=True,
            ),
            Level(
                "same place",
                "place_l IS NOT NULL AND place_r IS NOT NULL AND {jw}(place_l, place_r) >= 0.92",
                0.45,
                0.03,
                agrees="place:same_place",
            ),
            Level(
                "place named in the other narrative",
                "(len_place_words_l > 0 AND {has_all}(words_r, place_words_l)) OR "
                "(len_place_words_r > 0 AND {has_all}(words_l, place_words_r))",
                0.2,
                0.02,
                agrees="place:in_narrative",
            ),
            Level(
                "same admin 1",
                "admin1_l IS NOT NULL AND admin1_r IS NOT NULL AND "
                "{jw}(admin1_l, admin1_r) >= 0.88",
                0.28,
                0.3,
                agrees="place:same_admin1",
            ),
            Level(
                "admin 1 named in the other narrative",
                "(len_admin1_words_l > 0 AND {has_all}(words_r, admin1_words_l)) OR "
                "(len_admin1_words_r > 0 AND {has_all}(words_l, admin1_words_r))",
                0.05,
                0.05,
                agrees="place:admin1_in_narrative",
            ),
            Level("different places", "ELSE", 0.04, 0.6),
        ],
    ),
    Comparison(
        "coordinates",
        [
            Level("coordinates missing", "latitude_l IS NULL OR latitude_r IS NULL", null=True),
            Level("within 5 km", "{km} <= 5", 0.45, 0.03, agrees="coordinates:within_5_km"),
            Level("within 25 km", "{km} <= 25", 0.3, 0.08, agrees="coordinates:within_25_km"),
            Level("within 100 km", "{km} <= 100", 0.15, 0.25),
            Level("further", "ELSE", 0.1, 0.64),
        ],
    ),
    Comparison(
        "victims",
        [
            Level("no victims counted", "affected_l = 0 OR affected_r = 0", null=True),
            Level(
                "same counts",
                "killed_l = killed_r AND injured_l = injured_r AND held_l = held_r",
                0.6,
                0.08,
                agrees="victims:same_counts",
            ),
            Level(
                "counts within one",
                "abs(killed_l - killed_r) <= 1 AND abs(injured_l - injured_r) <= 1 AND "
                "abs(held_l - held_r) <= 1",
                0.2,
                0.12,
                agrees="victims:within_one",
            ),
            Level(
                "same impacts",
                "(killed_l > 0) = (killed_r > 0) AND (injured_l > 0) = (injured_r > 0) AND "
                "(held_l > 0) = (held_r > 0)",
                0.1,
                0.22,
            ),
            Level("different", "ELSE", 0.1, 0.58),
        ],
    ),
    Comparison(
        "means",
        [
            Level(
                "means or category unknown",
                "(means_l IS NULL OR means_r IS NULL) AND "
                "(subcategory_l IS NULL OR subcategory_r IS NULL)",
                null=True,
            ),
            Level(
                "same means of attack", "means_l = means_r", 0.65, 0.22, agrees="means:same_means"
            ),
            Level(
                "same sub-category",
                "subcategory_l = subcategory_r",
                0.2,
                0.2,
                agrees="means:same_subcategory",
            ),
            Level("different", "ELSE", 0.15, 0.58),
        ],
    ),
    Comparison(
        "narrative",
        [
            Level("narrative too short", "len_words_l < 3 OR len_words_r < 3", null=True),
            Level(
                "half the words in common",
                f"{OVERLAP} >= 0.5",
                0.35,
                0.006,
                agrees="narrative:very_similar",
            ),
            Level(
                "a third of the words in common",
                f"{OVERLAP} >= 0.3",
                0.3,
                0.04,
                agrees="narrative:similar",
            ),
            Level("some words in common", f"{OVERLAP} >= 0.15", 0.2, 0.25),
            Level("different", "ELSE", 0.15, 0.7),
        ],
    ),
]

# The blocking rules, in the order splink applies them (a pair found by one is not found
# again by a later one). Buckets of WINDOW_DAYS days turn "within WINDOW_DAYS days" into
# equality joins, so the database can hash-join instead of comparing whole countries.
_OTHER_ORIGIN = "l.origin <> r.origin AND l.country = r.country"
_DAY_RULE = f"l.day_known AND r.day_known AND abs(l.day - r.day) <= {WINDOW_DAYS}"
BLOCKING_RULES = [
    f"{_OTHER_ORIGIN} AND l.bucket = r.bucket AND {_DAY_RULE}",
    f"{_OTHER_ORIGIN} AND l.bucket_next = r.bucket AND {_DAY_RULE}",
    f"{_OTHER_ORIGIN} AND l.bucket = r.bucket_next AND {_DAY_RULE}",
    f"{_OTHER_ORIGIN} AND l.month_key = r.month_key AND NOT (l.day_known AND r.day_known)",
]

# Per dialect: Jaro-Winkler, the size of two lists' intersection, "every item of b is in a".
_DIALECT = {
    "duckdb": {
        "jw": "jaro_winkler_similarity",
        "overlap": "len(list_intersect({a}, {b}))",
        "has_all": "list_has_all({a}, {b})",
    },
    "spark": {
        "jw": "jaro_winkler",
        "overlap": "size(array_intersect({a}, {b}))",
        "has_all": "(size(array_except({b}, {a})) = 0)",
    },
}
_CALL = re.compile(r"\{(overlap|has_all)\}\((\w+), (\w+)\)")
_KM = (
    "(2 * 6371 * asin(sqrt(power(sin(radians(latitude_r - latitude_l) / 2), 2) + "
    "cos(radians(latitude_l)) * cos(radians(latitude_r)) * "
    "power(sin(radians(longitude_r - longitude_l) / 2), 2))))"
)


def _sql(template: str, dialect: str) -> str:
    names = _DIALECT[dialect]
    sql = _CALL.sub(lambda m: names[m[1]].format(a=m[2], b=m[3]), template)
    return sql.replace("{jw}", names["jw"]).replace("{km}", _KM)


def settings(dialect: str):
    """The splink settings for ``dialect`` ("duckdb" or "spark"): same model, its SQL."""
    from splink import SettingsCreator

    comparisons = []
    for comparison in LEVELS:
        levels = []
        for level in comparison.levels:
            spec = {"sql_condition": _sql(level.sql, dialect), "label_for_charts": level.label}
            if level.null:
                spec["is_null_level"] = True
            else:
                spec["m_probability"] = level.m
                spec["u_probability"] = level.u
            levels.append(spec)
        comparisons.append({"output_column_name": comparison.name, "comparison_levels": levels})
    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=BLOCKING_RULES,
        probability_two_random_records_match=PRIOR,
        # Matching columns bring the gamma_ columns, which say which level each field reached.
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=False,
        additional_columns_to_retain=[],
    )


def prepare(records: pa.Table, con: duckdb.DuckDBPyConnection | None = None) -> pa.Table:
    """Normalise the records for comparison (names, words, buckets), in DuckDB."""
    if records.schema != RECORD_SCHEMA:
        records = records.select(RECORD_SCHEMA.names).cast(RECORD_SCHEMA)
    con = con or duckdb.connect()
    con.register("records", records)
    try:
        prepared = con.execute(PREPARE_SQL, {"stopwords": STOPWORDS}).to_arrow_table()
    finally:
        con.unregister("records")
    return prepared


@dataclass
class Candidate:
    """A scored pair: ``a`` has the lower id. ``agreements`` are codes like ``date:same_day``."""

    a: int
    b: int
    probability: float
    match_weight: float
    agreements: list[str]


def _agreement_codes() -> list[tuple[str, list[str]]]:
    """Per comparison, the agreement code of each gamma value (gamma counts down from the top
    non-null level to 0 for the ELSE level; null levels are -1)."""
    codes = []
    for comparison in LEVELS:
        scored = [level for level in comparison.levels if not level.null]
        by_gamma = {len(scored) - 1 - i: level.agrees for i, level in enumerate(scored)}
        codes.append((comparison.name, by_gamma))
    return codes


def _to_candidates(rows: list[dict]) -> list[Candidate]:
    codes = _agreement_codes()
    candidates = []
    for row in rows:
        agreements = [
            by_gamma[gamma]
            for name, by_gamma in codes
            if (gamma := row.get(f"gamma_{name}")) is not None and by_gamma.get(gamma)
        ]
        a, b = sorted((int(row["unique_id_l"]), int(row["unique_id_r"])))
        candidates.append(
            Candidate(a, b, float(row["match_probability"]), float(row["match_weight"]), agreements)
        )
    candidates.sort(key=lambda c: (-c.probability, c.a, c.b))
    return candidates


def _quiet():
    logging.getLogger("splink").setLevel(logging.WARNING)


def predict_duckdb(prepared: pa.Table, threshold: float) -> list[Candidate]:
    from splink import DuckDBAPI, Linker

    _quiet()
    con = duckdb.connect()
    db_api = DuckDBAPI(con)
    sdf = db_api.register(prepared, table_name="incidents_to_link")
    linker = Linker(sdf, settings("duckdb"), log_level=None)
    predictions = linker.inference.predict(
        threshold_match_probability=threshold, warning_mode="never"
    )
    columns = ["unique_id_l", "unique_id_r", "match_probability", "match_weight"] + [
        f"gamma_{c.name}" for c in LEVELS
    ]
    table = con.sql(
        f"SELECT {', '.join(columns)} FROM {predictions.physical_name}"
    ).to_arrow_table()
    return _to_candidates(table.to_pylist())


def best_links(candidates: list[Candidate], origin_of: dict[int, str]) -> list[Candidate]:
    """Keep, for each record, its best pair with each other origin (greedily, most probable
    first): one source tells of one event once, so a second, weaker pair of the same record
    with the same source is another event (or that source's own duplicate, not ours to
    propose). Once the best is merged, the next run finds the other again if it is real."""
    taken: set[tuple[int, str]] = set()
    kept = []
    for cand in sorted(candidates, key=lambda c: (-c.probability, c.a, c.b)):
        left, right = (cand.a, origin_of[cand.b]), (cand.b, origin_of[cand.a])
        if left in taken or right in taken:
            continue
        taken.update((left, right))
        kept.append(cand)
    return kept


def predict(
    records: pa.Table,
    *,
    engine: str = "duckdb",
    threshold: float = DEFAULT_THRESHOLD,
    spark=None,
    one_to_one: bool = True,
) -> list[Candidate]:
    """Score every blocked pair of ``records``; return those at or above ``threshold`` (with
    ``one_to_one``, only each record's best pair per other origin: :func:`best_links`)."""
    if engine not in ENGINES:
        raise ValueError(f"Unknown linkage engine {engine!r}; choose one of {', '.join(ENGINES)}.")
    if not 0 <= threshold <= 1:
        raise ValueError("The threshold is a probability, between 0 and 1.")
    prepared = prepare(records)
    if prepared.num_rows < 2:
        return []
    if engine == "spark":
        from salama.linkage.spark import predict_spark

        candidates = _to_candidates(predict_spark(prepared, threshold, spark=spark))
    else:
        candidates = predict_duckdb(prepared, threshold)
    if not one_to_one or not candidates:
        return candidates
    ids = pa.array(sorted({c.a for c in candidates} | {c.b for c in candidates}), pa.int64())
    chosen = prepared.filter(pc.is_in(prepared["unique_id"], value_set=ids))
    origin_of = dict(
        zip(chosen["unique_id"].to_pylist(), chosen["origin"].to_pylist(), strict=True)
    )
    return best_links(candidates, origin_of)
