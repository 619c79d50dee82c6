"""Forecasts of major attacks per country and month, scored against naive baselines.

The series: each country's major attacks a month (the query layer's ``major_attacks``: AWSD's
definition, counted through the door, so a user's forecast rests only on what they may see),
zero-filled from the country's first month to the last month of the data (the last complete
month, or earlier when the data stop earlier: a data set that ends in 2022 is not read as
four quiet years). The forecast is for the month after it. Countries with no major attack in
the last ``QUIET_MONTHS`` months are left out (there is nothing to forecast).

Every model turns the months before a month into a predictive distribution of its count:

- ``last_value`` (baseline): Poisson, mean the last month's count;
- ``historical_mean`` (baseline): Poisson, mean of every month so far;
- ``negative_binomial`` (baseline): negative binomial with the mean and variance of every
  month so far (method of moments; Poisson when the months are not over-dispersed);
- ``weighted`` (Salama's): negative binomial around an exponentially weighted mean (half-life
  ``HALF_LIFE`` months), with the weighted variance of the months around it: it follows a
  conflict that flares or calms faster than the historical mean and is steadier than the
  last value.

Backtest: a rolling origin over the last ``BACKTEST_MONTHS`` months, each forecast from the
months before it only. Scores, lower is better: CRPS of the count distribution (the ranked
probability score, ``sum over k of (F(k) - 1[y <= k])^2``) and the Brier score of the
probability of at least one major attack; and the coverage of the 80 % interval (calibrated
when near 0.8). The published forecast for next month is the model with the lowest CRPS in
that country's backtest, said by name, with its skill against the best baseline.

Early warning: a country is flagged when the probability of at least one major attack next
month exceeds the share of the last twelve months that had one by ``WARNING_RISE`` or more.
"""

import datetime
import hashlib
import json
import math
import os
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import asdict, dataclass, field

import numpy as np

from salama.analytics import query, snapshot, store

BACKTEST_MONTHS = 24
# A country needs this many months of history before its first backtest forecast.
MIN_HISTORY = 12
HALF_LIFE = 6.0
INTERVAL = (0.1, 0.9)
WARNING_RISE = 0.25
QUIET_MONTHS = 36
# Below this CRPS the baselines are as good as perfect: no skill ratio is given.
MIN_BASELINE_CRPS = 1e-3
BASELINES = ("last_value", "historical_mean", "negative_binomial")
MODELS = (*BASELINES, "weighted")


# -- distributions -------------------------------------------------------------------------


@dataclass
class Predictive:
    """A count distribution: Poisson when ``variance <= mean``, else negative binomial."""

    mean: float
    variance: float
    # The CDF computed so far (scores, quantiles and P(X > 0) all read it).
    _cdf: np.ndarray | None = field(default=None, repr=False, compare=False)

    def pmf(self, upto: int) -> np.ndarray:
        """P(X = k) for k = 0 … ``upto``, from each term's ratio to the one before (in logs:
        no factorials, no overflow)."""
        k = np.arange(1, upto + 1, dtype=float)
        mean = max(self.mean, 1e-6)
        if self.variance <= mean * 1.000001:
            first, ratios = -mean, math.log(mean) - np.log(k)
        else:
            r = mean * mean / (self.variance - mean)
            p = r / (r + mean)
            first = r * math.log(p)
            ratios = np.log(k - 1 + r) - np.log(k) + math.log1p(-p)
        return np.exp(np.concatenate(([first], first + np.cumsum(ratios))))

    def support(self, at_least: int = 0) -> int:
        """A count above which the probability left is negligible (and ``at_least``)."""
        spread = math.sqrt(max(self.variance, self.mean, 1e-6))
        return int(max(at_least, self.mean + 20 * spread + 20))

    def cdf(self, upto: int) -> np.ndarray:
        if self._cdf is None or len(self._cdf) <= upto:
            self._cdf = np.minimum(np.cumsum(self.pmf(max(upto, self.support()))), 1.0)
        return self._cdf[: upto + 1]

    def crps(self, observed: int) -> float:
        upto = self.support(observed)
        cdf = self.cdf(upto)
        step = (np.arange(upto + 1) >= observed).astype(float)
        return float(np.sum((cdf - step) ** 2))

    def quantile(self, q: float) -> int:
        cdf = self.cdf(self.support())
        return int(np.searchsorted(cdf, q - 1e-12))

    def p_any(self) -> float:
        return float(1.0 - self.cdf(0)[0])


def predict(model: str, history: np.ndarray) -> Predictive:
    """The distribution of the next month's count given ``history`` (oldest first)."""
    if model == "last_value":
        mean = float(history[-1])
        return Predictive(mean, mean)
    if model == "historical_mean":
        mean = float(history.mean())
        return Predictive(mean, mean)
    if model == "negative_binomial":
        mean = float(history.mean())
        return Predictive(mean, max(float(history.var(ddof=1)), mean))
    if model == "weighted":
        ages = np.arange(len(history))[::-1]
        weights = 0.5 ** (ages / HALF_LIFE)
        weights /= weights.sum()
        mean = float(np.dot(weights, history))
        variance = float(np.dot(weights, (history - mean) ** 2)) / (1 - float(np.sum(weights**2)))
        return Predictive(mean, max(variance, mean))
    raise ValueError(f"unknown model {model!r}")


# -- the series ----------------------------------------------------------------------------


def _month_index(year: int, month: int) -> int:
    return year * 12 + month - 1


def _month_name(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def monthly_series(
    user=None, countries=None, today=None, fast=True
) -> tuple[int, dict[str, tuple[int, np.ndarray]]]:
    """The series' last month (an index), and country → (index of its first month, counts a
    month up to that last month). ``fast``: from the snapshot's series table when it answers
    exactly (``query.major_attacks_by_month``), else (and with ``fast=False``) by counting
    the incidents through the door."""
    rows = None
    if fast:
        rows = query.major_attacks_by_month(user, countries)
    if rows is None:
        filters = {"country": list(countries)} if countries else {}
        rows = query.run("major_attacks", ("country", "year", "month"), filters, user=user)
    return _series(rows, today)


def _series(rows, today=None) -> tuple[int, dict[str, tuple[int, np.ndarray]]]:
    """:func:`monthly_series` of the rows ``{"country", "year", "month", "value"}``."""
    today = today or datetime.date.today()
    last = _month_index(today.year, today.month) - 1
    by_country: dict[str, dict[int, int]] = {}
    for row in rows:
        index = _month_index(int(row["year"]), int(row["month"]))
        if index <= last:
            by_country.setdefault(row["country"], {})[index] = row["value"]
    if by_country:
        last = min(last, max(max(counts) for counts in by_country.values()))
    series = {}
    for country, counts in sorted(by_country.items()):
        first = min(counts)
        values = np.zeros(last - first + 1)
        for index, value in counts.items():
            values[index - first] = value
        series[country] = (first, values)
    return last, series


# -- backtest and forecast -----------------------------------------------------------------


@dataclass
class Score:
    crps: float
    brier: float
    coverage: float
    forecasts: int


@dataclass
class CountryForecast:
    country: str
    month: str  # the month forecast (the one after the data's last), YYYY-MM
    model: str  # the model with the lowest backtest CRPS, whose forecast this is
    mean: float
    low: int  # the 80 % interval
    high: int
    p_any: float  # probability of at least one major attack
    recent_share: float  # share of the last twelve months that had one
    warning: bool
    skill: float | None  # 1 - CRPS(weighted) / CRPS(best baseline); > 0: better
    scores: dict[str, Score] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def backtest(values: np.ndarray, months: int = BACKTEST_MONTHS) -> dict[str, Score] | None:
    """Each model's scores forecasting the last ``months`` months one at a time."""
    start = max(MIN_HISTORY, len(values) - months)
    if start >= len(values):
        return None
    scores = {}
    for model in MODELS:
        crps, brier, inside = [], [], []
        for t in range(start, len(values)):
            predictive = predict(model, values[:t])
            observed = int(values[t])
            crps.append(predictive.crps(observed))
            brier.append((predictive.p_any() - (observed > 0)) ** 2)
            low, high = predictive.quantile(INTERVAL[0]), predictive.quantile(INTERVAL[1])
            inside.append(low <= observed <= high)
        scores[model] = Score(
            float(np.mean(crps)), float(np.mean(brier)), float(np.mean(inside)), len(crps)
        )
    return scores


def _forecastable(series):
    """(country, values) of the series :func:`forecast` backtests: an attack in the last
    ``QUIET_MONTHS`` months."""
    for country, (_, values) in series.items():
        if values[-QUIET_MONTHS:].any():
            yield country, values


# -- remembered backtests ------------------------------------------------------------------
#
# A country's backtest depends on its monthly counts alone, and most countries' counts are the
# same for most users (everything they see there is TLP:CLEAR or GREEN). So backtests are
# remembered by the counts' content: in each process (``MEMO_SIZE`` at most), and in the
# snapshot folder, where ``warm`` writes, after each refresh, those of every series each kind
# of signed-in user sees (``door_classes``), for every server process to read. Keyed by
# content and by the settings that shape a backtest, an entry is never stale.

MEMO_SIZE = 20_000
# At most this many kinds of user are warmed after a refresh (each: one backtest per country
# whose series differs from those already warmed, a few milliseconds each).
WARM_CLASSES = 500
WARM_FILE = "backtests.json"
_memo: "OrderedDict[str, dict[str, Score] | None]" = OrderedDict()
_memo_lock = threading.Lock()
_warm: tuple = (None, {})  # (the file's stat, key -> scores as stored)


def series_key(values: np.ndarray, months: int = BACKTEST_MONTHS) -> str:
    """The content address of ``values``' backtest."""
    values = np.ascontiguousarray(values, dtype=float)
    digest = hashlib.blake2b(digest_size=20)
    shape = (months, MIN_HISTORY, HALF_LIFE, INTERVAL, MODELS, len(values))
    digest.update(repr(shape).encode())
    digest.update(values.tobytes())
    return digest.hexdigest()


def _stored(scores: dict[str, Score] | None):
    if scores is None:
        return None
    return {m: [s.crps, s.brier, s.coverage, s.forecasts] for m, s in scores.items()}


def _loaded(stored) -> dict[str, Score] | None:
    if stored is None:
        return None
    return {m: Score(float(a), float(b), float(c), int(n)) for m, (a, b, c, n) in stored.items()}


def _warm_entries() -> dict:
    """The backtests ``warm`` last wrote (re-read when the file changes)."""
    global _warm
    path = snapshot.directory() / WARM_FILE
    try:
        stat = path.stat()
    except FileNotFoundError:
        return {}
    seen = (str(path), stat.st_mtime_ns, stat.st_size, stat.st_ino)
    cached = _warm
    if cached[0] == seen:
        return cached[1]
    try:
        entries = json.loads(path.read_text()).get("backtests", {})
    except (OSError, ValueError):
        entries = {}
    _warm = (seen, entries)
    return entries


def memo_backtest(values: np.ndarray) -> dict[str, Score] | None:
    """:func:`backtest` of ``values`` (``BACKTEST_MONTHS``), remembered by content."""
    key = series_key(values)
    with _memo_lock:
        if key in _memo:
            _memo.move_to_end(key)
            return _loaded(_stored(_memo[key]))  # a copy: callers own their scores
    warm = _warm_entries()
    scores = _loaded(warm[key]) if key in warm else backtest(values)
    with _memo_lock:
        _memo[key] = scores
        while len(_memo) > MEMO_SIZE:
            _memo.popitem(last=False)
    return _loaded(_stored(scores))


def door_classes(limit: int = WARM_CLASSES) -> list[tuple]:
    """What decides, TLP:RED aside, which rows a signed-in user sees: their organisations and
    their sharing grants. The distinct pairs among active users (at most ``limit``, the most
    common first), and ``((), ())``, a user of no organisation."""
    from django.contrib.auth import get_user_model

    from salama.incidents import grants
    from salama.organisations.models import organisation_ids

    counts = {((), ()): 0}
    for user in get_user_model().objects.filter(is_active=True).iterator():
        door = (tuple(organisation_ids(user)), tuple(grants.for_user(user)))
        counts[door] = counts.get(door, 0) + 1
    ranked = sorted(counts, key=lambda door: (door != ((), ()), -counts[door], repr(door)))
    return ranked[:limit]


def _class_counts(rows, own: tuple, shared: tuple) -> dict[tuple, int]:
    """Major attacks a (country, year, month) through the door of a user of the organisations
    ``own`` with the grants ``shared`` and no TLP:RED incident (``store.door_source``'s
    branches, over the series table's rows)."""
    counts: dict[tuple, int] = {}
    for access, organisation, country, year, month, n in rows:
        if access == snapshot.ACCESS_EVERYONE:
            seen = True
        elif organisation in own:
            seen = access in (snapshot.ACCESS_ORGANISATION, snapshot.ACCESS_SHAREABLE)
        else:
            seen = access == snapshot.ACCESS_SHAREABLE and any(
                grant.organisation_id == organisation
                and (grant.countries is None or country in grant.countries)
                for grant in shared
            )
        if seen:
            cell = (country, year, month)
            counts[cell] = counts.get(cell, 0) + int(n)
    return counts


def warm(today=None) -> dict:
    """Backtest, after a refresh, every country's series as each kind of signed-in user sees
    it (``door_classes``: a user of no organisation, and the organisations and grants of the
    active users), and write them to ``WARM_FILE`` for every server process: the first view
    of the *Forecast* page after a refresh then only reads them. Entries are addressed by
    content, so a class computed wrongly here could only miss, never give a wrong number.
    Backtests the file already holds are kept, not recomputed. Returns counts for the log."""
    started = time.perf_counter()
    state = snapshot.State.load()
    if state is None or not state.series:
        return {"series": 0, "computed": 0, "classes": 0, "seconds": 0.0}
    con = store.connect(state, fresh=True)
    try:
        rows = con.execute(
            "SELECT access, organisation_id, country, year, month, sum(n) FROM major_series "
            f"WHERE access IN ({snapshot.ACCESS_EVERYONE}, {snapshot.ACCESS_ORGANISATION}, "
            f"{snapshot.ACCESS_SHAREABLE}) GROUP BY ALL"
        ).fetchall()
    finally:
        con.close()
    classes = [_class_counts(rows, own, shared) for own, shared in door_classes()]
    before = _warm_entries()
    entries, computed = {}, 0
    for counts in classes:
        cells = [
            {"country": country, "year": year, "month": month, "value": n}
            for (country, year, month), n in counts.items()
        ]
        _, series = _series(cells, today)
        for _, values in _forecastable(series):
            key = series_key(values)
            if key in entries:
                continue
            if key in before:
                entries[key] = before[key]
            else:
                entries[key] = _stored(backtest(values))
                computed += 1
    path = snapshot.directory() / WARM_FILE
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        tmp.write_text(json.dumps({"generation": state.generation, "backtests": entries}))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return {
        "series": len(entries),
        "computed": computed,
        "classes": len(classes),
        "seconds": round(time.perf_counter() - started, 3),
    }


def forecast(user=None, countries=None, today=None, fast=True) -> list[CountryForecast]:
    """The forecast of the month after the data's last, for every country with enough history
    and an attack in the last ``QUIET_MONTHS`` months, riskiest first. ``fast=False`` reads
    the series from the incidents and backtests every country anew (the same numbers, slowly:
    for tests and benchmarks)."""
    last, series = monthly_series(user, countries, today, fast=fast)
    month = _month_name(last + 1)
    results = []
    for country, values in _forecastable(series):
        scores = backtest(values) if not fast else memo_backtest(values)
        if scores is None:
            continue
        best = min(MODELS, key=lambda m: (scores[m].crps, MODELS.index(m)))
        baseline = min(scores[m].crps for m in BASELINES)
        predictive = predict(best, values)
        recent = float(np.mean(values[-12:] > 0))
        results.append(
            CountryForecast(
                country=country,
                month=month,
                model=best,
                mean=round(predictive.mean, 2),
                low=predictive.quantile(INTERVAL[0]),
                high=predictive.quantile(INTERVAL[1]),
                p_any=round(predictive.p_any(), 3),
                recent_share=round(recent, 3),
                warning=predictive.p_any() - recent >= WARNING_RISE,
                skill=(
                    round(1 - scores["weighted"].crps / baseline, 3)
                    if baseline >= MIN_BASELINE_CRPS
                    else None
                ),
                scores=scores,
            )
        )
    results.sort(key=lambda f: (-f.p_any, -f.mean, f.country))
    return results
