"""The risk demo: every decision on the matrix page, and a second run changes nothing."""

import pytest

from salama.conftest import make_organisation, make_user
from salama.core.models import AuditEntry
from salama.organisations.choices import Role
from salama.risk import services
from salama.risk.demo import load_demo
from salama.risk.models import ActivityArea, Assessment, RiskAcceptance

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_people(db):
    agency = make_organisation("UNDEMO")
    ngo = make_organisation("DEMO-NGO")
    users = {
        "analyst": make_user("analyst", agency, roles=(Role.ANALYST,)),
        "approver": make_user("approver", agency, roles=(Role.APPROVER,)),
        "reporter": make_user("reporter", agency, roles=(Role.REPORTER,)),
        "endorser": make_user("endorser", agency, roles=(Role.ENDORSER,)),
    }
    return {"UNDEMO": agency, "DEMO-NGO": ngo}, users


def test_the_demo_shows_every_decision_at_every_pc_level(demo_people):
    organisations, users = demo_people
    counts = load_demo(organisations, users)
    assert counts == {
        "areas": 2,
        "assessments": 2,
        "activities": 8,
        "acceptances": 2,
        "premises": 1,
        "incidents": 3,
    }
    rows = services.weigh(ActivityArea.objects.all(), services.timezone.localdate())
    decisions = {(r.area_name, r.activity_code): r.outcome.decision for r in rows}
    juba = {code: d for (area, code), d in decisions.items() if area == "Juba (demo)"}
    assert juba == {
        "DEMO-PC1": "needs_approval",
        "DEMO-PC2A": "go",
        "DEMO-PC2B": "needs_approval",
        "DEMO-PC3": "no_go",
        "DEMO-PC4": "no_go",
    }
    assert {r.pc_level for r in rows} == {"PC1", "PC2", "PC3", "PC4"}
    assert {r.residual_risk for r in rows} == {"high", "medium"}
    assert decisions[("Bor (demo)", "DEMO-PC3")] == "go"


def test_loading_the_demo_twice_changes_nothing(demo_people):
    organisations, users = demo_people
    load_demo(organisations, users)
    entries = AuditEntry.objects.count()
    again = load_demo(organisations, users)
    assert set(again.values()) == {0}
    assert AuditEntry.objects.count() == entries
    assert Assessment.objects.count() == 2 and RiskAcceptance.objects.count() == 2


def test_the_demo_assessment_shows_a_trend_and_a_contradicted_rating(demo_people):
    from salama.risk.models import Area
    from salama.risk.trend import area_trend, contradictions

    organisations, users = demo_people
    load_demo(organisations, users)
    area = Area.objects.get(name="Juba (demo)")
    trend = area_trend(users["analyst"], area, services.timezone.localdate())
    assert trend.quarter_count("crime") == 2 and trend.total_last == 3
    flagged = contradictions(Assessment.objects.get(area=area), trend)
    assert [c.threat_event.description for c in flagged] == ["Burglary of staff residences"]
