import datetime

import pytest

from salama.conftest import incident_fields, make_organisation, make_user
from salama.incidents import choices as c
from salama.incidents.models import Incident
from salama.incidents.services import create_incident
from salama.organisations.choices import OrganisationType, Role

KILLED_NATIONAL = {
    "impact": c.Impact.KILLED,
    "cause": c.Cause.VIOLENCE,
    "recruitment": c.Recruitment.NATIONAL,
    "gender": c.Gender.OTHER_OR_UNKNOWN,
}


def make_sourced(
    organisation, system, external_id, *, persons=None, status=c.Status.CLOSED, **overrides
):
    """An imported-looking incident: a source with ``system`` and ``external_id``."""
    incident = create_incident(
        user=None,
        organisation=organisation,
        fields=incident_fields(**overrides),
        persons=[KILLED_NATIONAL] if persons is None else persons,
        sources=[
            {"kind": c.SourceKind.DATABASE_IMPORT, "system": system, "external_id": external_id}
        ],
        check_permission=False,
    )
    Incident.objects.filter(pk=incident.pk).update(status=status)
    incident.refresh_from_db()
    return incident


AMBUSH = {
    "date": datetime.date(2021, 6, 12),
    "country": "ML",
    "admin1": "Mopti",
    "place": "Bandiagara",
    "latitude": 14.35,
    "longitude": -3.61,
    "means_of_attack": c.MeansOfAttack.SHOOTING,
    "narrative": "Unknown gunmen ambushed a marked NGO vehicle near Bandiagara and killed the "
    "national driver; the convoy was carrying food supplies to Douentza.",
}


@pytest.fixture
def awsd_org(db):
    return make_organisation("AWSD", OrganisationType.OTHER, "Aid Worker Security Database")


@pytest.fixture
def ii_org(db):
    return make_organisation("II", OrganisationType.OTHER, "Insecurity Insight")


@pytest.fixture
def analyst(undp):
    return make_user("ana", undp, roles=(Role.ANALYST,))


@pytest.fixture
def same_event(awsd_org, ii_org):
    """One ambush as AWSD and as Insecurity Insight tell it (a day apart, other words)."""
    awsd = make_sourced(awsd_org, "awsd", "3150", **AMBUSH)
    sind = make_sourced(
        ii_org,
        "sind",
        "30111",
        **{
            **AMBUSH,
            "date": datetime.date(2021, 6, 13),
            "admin1": "Mopti Region",
            "place": "",
            "latitude": 14.4,
            "longitude": -3.5,
            "narrative": "12 June 2021: gunmen ambushed an NGO vehicle carrying food near "
            "Bandiagara, Mopti; the national driver was killed.",
        },
    )
    return awsd, sind


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "spark: runs splink on Apache Spark in local mode (needs pyspark and Java 17)"
    )
