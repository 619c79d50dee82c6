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
import math
from dataclasses import asdict, dataclass, field

import numpy as np

from salama.analytics import query

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
    user=None, countries=None, today=None
) -> tuple[int, dict[str, tuple[int, np.ndarray]]]:
    """The series' last month (an index), and country → (index of its first month, counts a
    month up to that last month)."""
    today = today or datetime.date.today()
    last = _month_index(today.year, today.month) - 1
    filters = {"country": list(countries)} if countries else {}
    rows = query.run("major_attacks", ("country", "year", "month"), filters, user=user)
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


def forecast(user=None, countries=None, today=None) -> list[CountryForecast]:
    """The forecast of the month after the data's last, for every country with enough history
    and an attack in the last ``QUIET_MONTHS`` months, riskiest first."""
    last, series = monthly_series(user, countries, today)
    month = _month_name(last + 1)
    results = []
    for country, (_, values) in series.items():
        if not values[-QUIET_MONTHS:].any():
            continue
        scores = backtest(values)
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
