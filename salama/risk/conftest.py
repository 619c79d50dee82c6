"""Risk personas and builders (on top of salama/conftest.py).

- ``author``: a UNDP analyst who writes assessments;
- ``approver``: UNDP approver designated up to Designated Official (High);
- ``head``: UNDP approver designated as executive head (up to Very High);
- ``outside_approver``: an NRC approver designated as executive head — of another organisation;
- ``rita`` (``reporter``) and ``omar`` (``outsider``) from salama/conftest.py.
"""

import datetime

import pytest

from salama.conftest import make_user
from salama.organisations.choices import Role
from salama.risk import choices as rc
from salama.risk import services
from salama.risk.models import Activity, ActivityArea, ApprovalAuthority, Area

TODAY = datetime.date(2026, 6, 15)


def make_approver(username, organisation, level):
    user = make_user(username, organisation, roles=(Role.APPROVER,))
    ApprovalAuthority.objects.create(organisation=organisation, user=user, level=level)
    return user


def make_area(organisation, name="Juba", country="SS", admin1=("Central Equatoria",), **extra):
    kind = rc.AreaKind.ADMIN1 if admin1 else rc.AreaKind.COUNTRY
    area, _ = Area.objects.get_or_create(
        organisation=organisation,
        name=name,
        defaults={"kind": kind, "country": country, "admin1": list(admin1)} | extra,
    )
    return area


def event(
    likelihood=rc.Likelihood.LIKELY,
    impact=rc.Impact.SEVERE,
    residual=(rc.Likelihood.UNLIKELY, rc.Impact.SEVERE),
    category=rc.ThreatCategory.CRIME,
    description="Armed robbery of a vehicle on the main road",
    strategy=rc.Strategy.CONTROL,
):
    return {
        "category": category,
        "description": description,
        "likelihood": likelihood,
        "impact": impact,
        "residual_likelihood": residual[0],
        "residual_impact": residual[1],
        "strategy": strategy,
    }


def assessment_fields(**overrides):
    return {
        "period_start": datetime.date(2026, 1, 1),
        "period_end": datetime.date(2026, 12, 31),
        "review_date": datetime.date(2026, 9, 30),
        "marking": "AMBER",
        "political": "Transitional government; elections postponed.",
        "threat_actors": "Criminal gangs on the main supply routes.",
    } | overrides


def make_assessment(author, area, events=None, approver=None, **fields):
    """An assessment of ``area`` by ``author``; submitted and approved when ``approver``."""
    assessment = services.create_assessment(
        user=author,
        area=area,
        fields=assessment_fields(**fields),
        general_threats=[
            {
                "category": rc.ThreatCategory.CRIME,
                "intent": 4,
                "capability": 3,
                "inhibiting_context": 2,
            }
        ],
        threat_events=events if events is not None else [event()],
        measures=[
            {
                "kind": rc.MeasureKind.PREVENTIVE,
                "description": "Convoy of two vehicles, radio checks every 30 minutes",
                "owner": "Field security associate",
                "due_date": datetime.date(2026, 2, 1),
                "event": 0,
            }
        ]
        if events is None or events
        else [],
        check_permission=False,
    )
    if approver is not None:
        services.submit(user=author, assessment=assessment)
        services.approve(user=approver, assessment=assessment)
        assessment.refresh_from_db()
    return assessment


def make_activity_area(organisation, area, code="OUT-1", name="Food distribution", **pc):
    activity, _ = Activity.objects.get_or_create(
        organisation=organisation, code=code, defaults={"name": name}
    )
    pc = {"contribution": 4, "implementation_likelihood": 4} | pc
    return ActivityArea.objects.create(activity=activity, area=area, **pc)


@pytest.fixture
def author(undp):
    return make_user("ana", undp, roles=(Role.ANALYST,))


@pytest.fixture
def approver(undp):
    return make_approver("paul", undp, rc.ApproverLevel.DESIGNATED_OFFICIAL)


@pytest.fixture
def head(undp):
    return make_approver("hana", undp, rc.ApproverLevel.EXECUTIVE_HEAD)


@pytest.fixture
def outside_approver(nrc):
    return make_approver("nils", nrc, rc.ApproverLevel.EXECUTIVE_HEAD)


@pytest.fixture
def area(undp):
    return make_area(undp)
