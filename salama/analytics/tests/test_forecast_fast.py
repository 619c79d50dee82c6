"""The forecast's fast path (the snapshot's series table, remembered and warmed backtests)
gives exactly the numbers of the slow one (every incident counted through the door, every
country backtested anew), persona by persona, sharing agreements and TLP:RED included."""

import datetime
import itertools
import json
import random

import numpy as np
import pytest
from django.contrib.auth.models import AnonymousUser
from django.db.models import F
from django.urls import reverse

from salama.analytics import forecast, query, snapshot, tasks
from salama.conftest import make_incident, make_organisation, make_user
from salama.core.markings import TLP
from salama.incidents import choices as c
from salama.incidents.models import Incident
from salama.organisations.choices import OrganisationType, Role
from salama.sharing.models import Agreement
from salama.sharing.tests.conftest import agreed

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2025, 1, 15)
STATUSES = [s for s in c.Status if s != c.Status.MERGED]
PLACES = {
    "SS": {"country": "SS"},
    "SD": {
        "country": "SD",
        "admin1": "Khartoum",
        "place": "Khartoum",
        "latitude": 15.5,
        "longitude": 32.53,
    },
    "AF": {
        "country": "AF",
        "admin1": "Kabul",
        "place": "Kabul",
        "latitude": 34.5,
        "longitude": 69.2,
    },
}


def person(impact):
    return {
        "impact": impact,
        "cause": c.Cause.VIOLENCE,
        "recruitment": c.Recruitment.NATIONAL,
        "gender": c.Gender.MALE,
    }


@pytest.fixture
def world(undp, nrc, reporter, outsider):
    """Thirty months of incidents in three countries: every marking and status, owned by UNDP
    and NRC, major attacks and not (a robbery; a safety incident; a merged one), some TLP:RED
    ones naming the outsider or reported by NRC's Rada; and sharing agreements: UNDP shares
    South Sudan with NRC, and everything with WFP."""
    rng = random.Random(3)
    rada = make_user("rada", nrc, roles=(Role.REPORTER,))
    wfp = make_organisation("WFP", OrganisationType.UN_AFP)
    wendy = make_user("wendy", wfp, roles=(Role.ANALYST,))
    undp_admin = make_user("ada", undp, roles=(Role.ORG_ADMIN,))
    nrc_admin = make_user("nils", nrc, roles=(Role.ORG_ADMIN,))
    wfp_admin = make_user("wanda", wfp, roles=(Role.ORG_ADMIN,))
    agreed(undp, nrc, undp_admin, nrc_admin, level=Agreement.Level.FULL, countries=["SS"])
    agreed(undp, wfp, undp_admin, wfp_admin, level=Agreement.Level.FULL)
    both = make_user("bea", nrc, roles=(Role.ANALYST,))
    both.memberships.create(organisation=undp, role=Role.REPORTER)
    nobody = make_user("nora", None, roles=())
    ulla = make_user("ulla", undp, roles=(Role.ANALYST,))
    for months_ago, country in itertools.product(range(1, 31), PLACES):
        year, month = divmod(2025 * 12 - months_ago, 12)
        date = datetime.date(year, month + 1, rng.randint(1, 28))
        # Every month some CLEAR and GREEN attacks, and a random few of every other kind.
        kinds = [(TLP.GREEN, c.Status.ENDORSED, reporter, undp)] * rng.randint(0, 2)
        for _ in range(rng.randint(1, 3)):
            owner = rng.choice([(reporter, undp), (rada, nrc)])
            kinds.append((rng.choice(list(TLP)), rng.choice(STATUSES), *owner))
        for marking, status, who, org in kinds:
            impact = rng.choice([c.Impact.KILLED, c.Impact.ABDUCTED, c.Impact.ROBBERY])
            incident = make_incident(
                who, org, persons=[person(impact)], marking=marking, date=date, **PLACES[country]
            )
            changes = {"status": status, "version": F("version") + 1}
            if rng.random() < 0.05:
                changes["category"] = c.Category.SAFETY
            if rng.random() < 0.03:
                changes["status"] = c.Status.MERGED
            Incident.objects.filter(pk=incident.pk).update(**changes)
            if marking == TLP.RED and rng.random() < 0.5:
                incident.recipients.create(user=outsider)
    return {
        "operator": None,
        "reporter (UNDP, reports RED)": reporter,
        "ulla (UNDP analyst)": ulla,
        "outsider (NRC, named, SS shared)": outsider,
        "rada (NRC, reports RED)": rada,
        "wendy (WFP, all shared)": wendy,
        "bea (NRC and UNDP)": both,
        "nora (no organisation)": nobody,
        "anonymous": AnonymousUser(),
    }


def fresh(user):
    """The user as a new request loads them (organisations and grants read anew)."""
    if user is None or not user.is_authenticated:
        return user
    return type(user).objects.get(pk=user.pk)


def slow_rows(user, countries=None):
    filters = {"country": list(countries)} if countries else {}
    return query.run("major_attacks", ("country", "year", "month"), filters, user=user)


def same_series(fast, slow):
    assert fast[0] == slow[0]
    assert list(fast[1]) == list(slow[1])
    for country, (first, values) in slow[1].items():
        assert fast[1][country][0] == first, country
        assert np.array_equal(fast[1][country][1], values), country


def as_dicts(results):
    return [r.as_dict() for r in results]


def test_the_series_table_answers_exactly_as_the_incidents_for_every_persona(world):
    snapshot.refresh(full=True)
    seen = set()
    for name, user in world.items():
        user = fresh(user)
        fast = query.major_attacks_by_month(user)
        assert fast is not None, name  # the fast path answered, no fallback
        assert fast == slow_rows(user), name
        for countries in (["SS"], ["SD", "AF"]):
            assert query.major_attacks_by_month(user, countries) == slow_rows(user, countries)
        same_series(
            forecast.monthly_series(user, today=TODAY),
            forecast.monthly_series(user, today=TODAY, fast=False),
        )
        seen.add(json.dumps(fast))
    # The personas see different things: the parity is not between empty answers.
    assert len(seen) >= 6
    assert slow_rows(fresh(world["anonymous"])) == []


def test_the_fast_forecast_equals_the_slow_one_for_every_persona(world):
    snapshot.refresh(full=True)
    forecast.warm(today=TODAY)
    forecast._memo.clear()
    for name, user in world.items():
        user = fresh(user)
        slow = as_dicts(forecast.forecast(user, today=TODAY, fast=False))
        assert as_dicts(forecast.forecast(user, today=TODAY)) == slow, name
        # Again, from the process's memory this time.
        assert as_dicts(forecast.forecast(user, today=TODAY)) == slow, name
        if user is None or user.is_authenticated:
            assert {f["country"] for f in slow} == {"SS", "SD", "AF"}, name


def test_warmed_backtests_serve_the_first_view_without_computing(world, monkeypatch):
    """After ``warm``, a user of no organisation, of one organisation, a partner under an
    agreement and a user of two organisations get their forecast from the warm file alone
    (as another process would: nothing in memory)."""
    snapshot.refresh(full=True)
    warmed = (
        "nora (no organisation)",
        "ulla (UNDP analyst)",
        "wendy (WFP, all shared)",
        "bea (NRC and UNDP)",
    )
    expected = {
        name: as_dicts(forecast.forecast(fresh(world[name]), today=TODAY, fast=False))
        for name in (*warmed, "rada (NRC, reports RED)")
    }
    outcome = forecast.warm(today=TODAY)
    # No organisation; UNDP; NRC with South Sudan shared; WFP with everything shared; NRC and
    # UNDP: five kinds of user, three countries each (some series may coincide).
    assert outcome["classes"] == 5 and 3 <= outcome["series"] <= 15
    assert outcome["computed"] == outcome["series"]
    forecast._memo.clear()

    def no_backtest(*args, **kwargs):
        raise AssertionError("backtest computed on the first view")

    monkeypatch.setattr(forecast, "backtest", no_backtest)
    for name in warmed:
        assert as_dicts(forecast.forecast(fresh(world[name]), today=TODAY)) == expected[name]
    # Rada reported TLP:RED attacks: her series are her own, computed on her first view.
    with pytest.raises(AssertionError, match="first view"):
        forecast.forecast(fresh(world["rada (NRC, reports RED)"]), today=TODAY)
    monkeypatch.undo()
    assert (
        as_dicts(forecast.forecast(fresh(world["rada (NRC, reports RED)"]), today=TODAY))
        == (expected["rada (NRC, reports RED)"])
    )
    # Warming again computes nothing new: the file's backtests are kept.
    assert forecast.warm(today=TODAY)["computed"] == 0


def test_backtests_are_remembered_by_content(monkeypatch):
    calls = []
    real = forecast.backtest

    def counting(values, months=forecast.BACKTEST_MONTHS):
        calls.append(len(values))
        return real(values, months)

    monkeypatch.setattr(forecast, "backtest", counting)
    forecast._memo.clear()
    values = np.array([float(v % 4) for v in range(40)])
    first = forecast.memo_backtest(values)
    again = forecast.memo_backtest(values.copy())
    assert first == again == real(values) and len(calls) == 1
    again["weighted"].crps = -1  # callers own their copy
    assert forecast.memo_backtest(values) == first
    other = values.copy()
    other[-1] += 1
    assert forecast.memo_backtest(other) != first and len(calls) == 2
    # Bounded: the oldest go first.
    monkeypatch.setattr(forecast, "MEMO_SIZE", 2)
    forecast.memo_backtest(values + 1)
    assert forecast.series_key(values) not in forecast._memo
    assert len(forecast._memo) == 2


def test_a_change_after_the_snapshot_is_answered_exactly(world, reporter):
    """A marking raised to RED after the snapshot: the door hides it at once (the fast path
    steps aside); after the next, incremental, refresh the series table has it."""
    snapshot.refresh(full=True)
    forecast.warm(today=TODAY)
    nora = fresh(world["nora (no organisation)"])
    before = forecast.monthly_series(nora, today=TODAY)
    green = (
        Incident.objects.filter(
            marking=TLP.GREEN,
            status=c.Status.ENDORSED,
            country="SS",
            category=c.Category.VIOLENCE,
            persons__impact=c.Impact.KILLED,
        )
        .order_by("-date")
        .first()
    )
    green.marking = TLP.RED
    green.save()
    assert query.major_attacks_by_month(nora) == slow_rows(nora)
    hidden = forecast.monthly_series(nora, today=TODAY)
    same_series(hidden, forecast.monthly_series(nora, today=TODAY, fast=False))
    assert hidden[1]["SS"][1].sum() == before[1]["SS"][1].sum() - 1
    for name, user in world.items():
        user = fresh(user)
        assert query.major_attacks_by_month(user) == slow_rows(user), name
    assert snapshot.refresh().kind == "incremental"
    for name, user in world.items():
        user = fresh(user)
        assert query.major_attacks_by_month(user) == slow_rows(user), name
        assert as_dicts(forecast.forecast(user, today=TODAY)) == as_dicts(
            forecast.forecast(user, today=TODAY, fast=False)
        ), name


def test_the_worker_warms_after_its_refresh_and_the_page_reads_the_warm_file(
    world, client, monkeypatch
):
    outcome = tasks.refresh_snapshot.call(full=True)
    assert outcome["kind"] == "full" and outcome["forecast_warmed"]["series"] > 0
    assert (snapshot.directory() / forecast.WARM_FILE).exists()
    assert snapshot.State.load().series
    forecast._memo.clear()
    monkeypatch.setattr(forecast, "backtest", None)  # any backtest would fail the page
    client.force_login(world["nora (no organisation)"])
    page = client.get(reverse("analytics:forecast"))
    assert page.status_code == 200 and "South Sudan" in page.text


def test_a_snapshot_of_the_old_layout_is_ignored(world):
    """FORMAT changed with the series table: an older snapshot is refreshed in full first."""
    snapshot.refresh(full=True)
    state = snapshot.State.load()
    state.format = 3
    state.series = ""
    state.save()
    assert snapshot.State.load() is None and snapshot.outdated()


def test_a_failed_warm_up_leaves_the_refresh_done(reporter, undp, monkeypatch):
    make_incident(reporter, undp, persons=[person(c.Impact.KILLED)])

    def broken(today=None):
        raise OSError("disk full")

    monkeypatch.setattr(forecast, "warm", broken)
    outcome = tasks.refresh_snapshot.call(full=True)
    assert outcome["kind"] == "full" and outcome["forecast_warmed"] is None
    assert query.total("major_attacks") == 1
    monkeypatch.undo()
    # A refresh that finds nothing changed warms only when the file is missing.
    assert tasks.refresh_snapshot.call()["forecast_warmed"]["classes"] >= 1
    again = tasks.refresh_snapshot.call()
    assert again["kind"] == "unchanged" and again["forecast_warmed"] is None
