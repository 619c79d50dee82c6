"""The one authorisation door, proved for three personas and every marking."""

import pytest
from django.contrib.auth.models import AnonymousUser

from salama.conftest import make_incident, make_user
from salama.core.markings import TLP
from salama.incidents import choices as c
from salama.incidents.models import (
    AffectedPerson,
    Incident,
    IncidentRecipient,
    ReportedTotal,
    RoadCrash,
    Source,
)
from salama.incidents.services import endorse, submit
from salama.organisations.choices import Role

# marking → (reporter of the owning organisation, analyst of another organisation, anonymous)
EXPECTED = {
    TLP.CLEAR: (True, True, False),
    TLP.GREEN: (True, True, False),
    TLP.AMBER: (True, False, False),
    TLP.AMBER_STRICT: (True, False, False),
    TLP.RED: (True, False, False),
}


def _submitted(reporter, endorser, organisation, marking):
    incident = make_incident(reporter, organisation, marking=marking)
    incident = submit(incident, reporter)
    return endorse(incident, endorser)


@pytest.mark.parametrize("marking", list(TLP))
def test_each_persona_sees_exactly_what_the_marking_allows(
    marking, reporter, endorser, outsider, undp
):
    incident = _submitted(reporter, endorser, undp, marking)
    for persona, expected in zip(
        (reporter, outsider, AnonymousUser()), EXPECTED[marking], strict=True
    ):
        visible = Incident.objects.visible_to(persona).filter(pk=incident.pk).exists()
        assert visible is expected, (marking, persona)


@pytest.mark.parametrize(
    "model", [AffectedPerson, ReportedTotal, Source, RoadCrash], ids=lambda m: m.__name__
)
@pytest.mark.parametrize("marking", list(TLP))
def test_rows_hanging_off_incidents_follow_the_same_door(
    model, marking, reporter, endorser, outsider, undp
):
    incident = _submitted(reporter, endorser, undp, marking)
    AffectedPerson.objects.get_or_create(
        incident=incident, impact=c.Impact.KILLED, cause=c.Cause.VIOLENCE
    )
    ReportedTotal.objects.create(incident=incident, dimension="gender", value="male", count=1)
    Source.objects.create(incident=incident, kind=c.SourceKind.MEDIA)
    RoadCrash.objects.create(incident=incident)
    for persona, expected in zip(
        (reporter, outsider, AnonymousUser()), EXPECTED[marking], strict=True
    ):
        assert model.objects.visible_to(persona).exists() is expected, (marking, persona)


def test_red_is_hidden_from_colleagues_who_are_not_named(reporter, endorser, undp):
    colleague = make_user("carl", undp, roles=(Role.ANALYST,))
    incident = make_incident(reporter, undp, marking=TLP.RED)
    assert not Incident.objects.visible_to(colleague).filter(pk=incident.pk).exists()
    IncidentRecipient.objects.create(incident=incident, user=colleague)
    assert Incident.objects.visible_to(colleague).filter(pk=incident.pk).exists()


def test_a_named_recipient_of_another_organisation_sees_a_red_incident(reporter, outsider, undp):
    incident = make_incident(reporter, undp, marking=TLP.RED)
    IncidentRecipient.objects.create(incident=incident, user=outsider)
    assert Incident.objects.visible_to(outsider).filter(pk=incident.pk).exists()


def test_drafts_stay_within_the_owning_organisation_even_when_green(reporter, outsider, undp):
    incident = make_incident(reporter, undp, marking=TLP.GREEN)
    assert incident.status == c.Status.DRAFT
    assert Incident.objects.visible_to(reporter).filter(pk=incident.pk).exists()
    assert not Incident.objects.visible_to(outsider).filter(pk=incident.pk).exists()


def test_a_superuser_gets_no_way_around_the_door(reporter, undp, django_user_model):
    boss = django_user_model.objects.create_superuser("root", password="x" * 20)
    incident = make_incident(reporter, undp, marking=TLP.AMBER)
    assert not Incident.objects.visible_to(boss).filter(pk=incident.pk).exists()


def test_the_door_returns_each_incident_once(reporter, endorser, undp):
    incident = make_incident(reporter, undp, marking=TLP.RED)
    IncidentRecipient.objects.create(incident=incident, user=endorser)
    assert Incident.objects.visible_to(reporter).filter(pk=incident.pk).count() == 1
