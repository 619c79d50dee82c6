"""Forecasts of major attacks: the scores are right, the intervals calibrated, the weighted
model earns its place against the baselines, and the door decides what is counted."""

import datetime
import io
import json

import numpy as np
import pytest
from django.core.management import call_command
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from salama.analytics import forecast, snapshot
from salama.analytics.forecast import Predictive
from salama.conftest import make_incident
from salama.core.markings import TLP
from salama.incidents import choices as c
from salama.incidents.models import Incident

KILLED = {
    "impact": c.Impact.KILLED,
    "cause": c.Cause.VIOLENCE,
    "recruitment": "national",
    "gender": "male",
}


def crps_by_definition(predictive: Predictive, observed: int) -> float:
    """CRPS = E|X - y| - E|X - X'| / 2, summed exactly over the support."""
    upto = predictive.support(observed)
    p = predictive.pmf(upto)
    k = np.arange(upto + 1)
    first = float(np.sum(p * np.abs(k - observed)))
    second = float(np.sum(np.outer(p, p) * np.abs(k[:, None] - k[None, :])))
    return first - second / 2


@pytest.mark.parametrize(
    ("mean", "variance", "observed"), [(3.0, 3.0, 0), (3.0, 3.0, 7), (5.0, 20.0, 2), (0.4, 1.5, 1)]
)
def test_the_crps_is_the_expected_distance(mean, variance, observed):
    predictive = Predictive(mean, variance)
    assert predictive.crps(observed) == pytest.approx(
        crps_by_definition(predictive, observed), rel=1e-4
    )
    assert predictive.pmf(predictive.support()).sum() == pytest.approx(1.0, abs=1e-6)


def test_a_certain_forecast_that_comes_true_scores_zero():
    assert Predictive(0.0, 0.0).crps(0) == pytest.approx(0.0, abs=1e-6)
    assert Predictive(0.0, 0.0).crps(3) > 2.9


def test_the_80_percent_interval_covers_about_80_percent():
    rng = np.random.default_rng(7)
    # Negative binomial months: mean 5, variance 15.
    values = rng.negative_binomial(2.5, 2.5 / 7.5, size=260).astype(float)
    scores = forecast.backtest(values, months=240)
    assert 0.72 <= scores["negative_binomial"].coverage <= 0.93
    assert 0.72 <= scores["weighted"].coverage <= 0.93
    # Poisson intervals are too narrow for over-dispersed months: they cover less.
    assert scores["historical_mean"].coverage < scores["negative_binomial"].coverage


def test_the_weighted_model_follows_a_conflict_that_flares():
    """Faster than the long-run baselines when the level changes …"""
    rng = np.random.default_rng(11)
    values = np.concatenate([rng.poisson(1.0, 60), rng.poisson(12.0, 30)]).astype(float)
    scores = forecast.backtest(values, months=24)
    assert scores["weighted"].crps < scores["historical_mean"].crps
    assert scores["weighted"].crps < scores["negative_binomial"].crps


def test_the_weighted_model_is_steadier_than_the_last_value():
    """… and steadier than last month's count when the level holds."""
    rng = np.random.default_rng(5)
    values = rng.negative_binomial(3.0, 3.0 / 9.0, size=120).astype(float)
    scores = forecast.backtest(values, months=96)
    assert scores["weighted"].crps < scores["last_value"].crps
    assert scores["weighted"].brier <= scores["last_value"].brier


@pytest.mark.django_db
def test_the_forecast_counts_only_what_the_user_may_see(client, reporter, outsider, undp):
    """Two years of monthly attacks in Afghanistan: GREEN ones every month, AMBER ones (the
    outsider does not see them) in the last six months; the owner's forecast warns, the
    outsider's sees only the GREEN months."""
    today = datetime.date(2025, 1, 15)
    for months_ago in range(1, 25):
        year, month = divmod(2025 * 12 - months_ago, 12)
        date = datetime.date(year, month + 1, 10)
        incidents = [TLP.GREEN] if months_ago % 3 == 0 else []
        if months_ago <= 6:
            incidents += [TLP.AMBER] * 4
        for marking in incidents:
            made = make_incident(
                reporter,
                undp,
                persons=[KILLED],
                marking=marking,
                date=date,
                country="AF",
                place="Kabul",
                latitude=34.5,
                longitude=69.2,
            )
            Incident.objects.filter(pk=made.pk).update(
                status=c.Status.ENDORSED, version=F("version") + 1
            )
    snapshot.refresh(full=True)

    (owner,) = forecast.forecast(reporter, today=today)
    (other,) = forecast.forecast(outsider, today=today)
    assert owner.country == other.country == "AF" and owner.month == "2025-01"
    assert owner.mean > 3 > other.mean
    assert owner.p_any > 0.9 and other.p_any < 0.6
    assert set(owner.scores) == set(forecast.MODELS)
    assert owner.low <= owner.mean <= owner.high

    out = io.StringIO()
    call_command("analytics", "forecast", "--format", "json", "--today", "2025-01-15", stdout=out)
    operator = json.loads(out.getvalue())
    assert operator[0]["country"] == "AF" and operator[0]["model"] in forecast.MODELS

    client.force_login(reporter)
    page = client.get(reverse("analytics:forecast"))
    assert page.status_code == 200
    assert "Afghanistan" in page.text and "80 % interval" in page.text


def test_the_forecast_page_forgets_what_an_ended_agreement_shared(client, reporter, undp, nrc):
    """A partner's forecast of countries it sees only through a full sharing agreement is
    kept per user and snapshot: ending the agreement must not leave it on the page."""
    from salama.conftest import make_user
    from salama.organisations.choices import Role
    from salama.sharing import agreements

    today = datetime.date.today()
    for months_ago in range(1, 25):
        year, month = divmod(today.year * 12 + today.month - 1 - months_ago, 12)
        made = make_incident(
            reporter,
            undp,
            persons=[KILLED],
            marking=TLP.AMBER,
            date=datetime.date(year, month + 1, 10),
            country="AF",
            place="Kabul",
            latitude=34.5,
            longitude=69.2,
        )
        # Saved long before the snapshot: the stale check has nothing to hide from anyone.
        Incident.objects.filter(pk=made.pk).update(
            status=c.Status.ENDORSED, updated_at=timezone.now() - datetime.timedelta(hours=2)
        )
    snapshot.refresh(full=True)
    ada = make_user("ada", undp, roles=(Role.ORG_ADMIN,))
    nils = make_user("nils", nrc, roles=(Role.ORG_ADMIN,))
    partner = make_user("pia", nrc, roles=(Role.ANALYST,))
    shared = agreements.accept(
        agreements.propose(undp, nrc, level="full", purpose="SLT", by=ada), by=nils
    )
    client.force_login(partner)
    assert "Afghanistan" in client.get(reverse("analytics:forecast")).text
    agreements.end(shared, by=ada)
    assert "Afghanistan" not in client.get(reverse("analytics:forecast")).text
