import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from salama.conftest import make_incident
from salama.core.models import AuditEntry
from salama.incidents import choices as ic
from salama.incidents import services as incident_services
from salama.registry import choices as rc
from salama.registry import services
from salama.registry.models import Case


def _person(impact, cause=ic.Cause.VIOLENCE, count=1, **extra):
    return {"impact": impact, "cause": cause, "count": count, **extra}


def _submit(incident, user, capture):
    with capture(execute=True):
        incident_services.submit(incident, user)


def test_submitting_proposes_one_case_per_person(
    reporter, undp, nrc, django_capture_on_commit_callbacks
):
    incident = make_incident(
        reporter,
        undp,
        persons=[
            _person(ic.Impact.KILLED, organisation=nrc),
            _person(ic.Impact.INJURED, count=3),  # aggregate row: three people, three cases
            _person(ic.Impact.KILLED, cause=ic.Cause.SAFETY),  # a road death: no case
            _person(ic.Impact.ROBBERY),  # not an offence the registry follows
            _person(ic.Impact.SEXUAL_ASSAULT),
            _person(ic.Impact.ARRESTED_DETAINED),
            _person(ic.Impact.ABDUCTED),
        ],
        perpetrator_type=ic.PerpetratorType.CRIMINAL,
    )
    _submit(incident, reporter, django_capture_on_commit_callbacks)
    cases = Case.objects.filter(incident=incident)
    assert cases.count() == 7
    assert set(cases.values_list("status", flat=True)) == {rc.CaseStatus.PROPOSED}
    killed = cases.get(offence=rc.Offence.KILLING)
    assert killed.organisation == nrc  # the person's organisation, not the reporter's
    assert killed.perpetrator_type == ic.PerpetratorType.CRIMINAL
    assert cases.filter(offence=rc.Offence.SERIOUS_INJURY).count() == 3
    assert cases.get(offence=rc.Offence.SEXUAL_ASSAULT).sexual_violence
    assert AuditEntry.objects.filter(action="registry:propose").count() == 7


def test_resubmitting_proposes_nothing_twice(
    reporter, endorser, undp, django_capture_on_commit_callbacks
):
    incident = make_incident(reporter, undp)
    _submit(incident, reporter, django_capture_on_commit_callbacks)
    incident_services.return_to_draft(incident, endorser)
    incident.refresh_from_db()
    _submit(incident, reporter, django_capture_on_commit_callbacks)
    assert Case.objects.filter(incident=incident).count() == 1


def test_nothing_is_proposed_until_the_submission_commits(reporter, undp):
    incident = make_incident(reporter, undp)
    incident_services.submit(incident, reporter)  # inside the test's transaction
    assert not Case.objects.filter(incident=incident).exists()


def test_accept_and_decline(
    reporter, undp, officer, foreign_officer, analyst, django_capture_on_commit_callbacks
):
    incident = make_incident(reporter, undp, persons=[_person(ic.Impact.INJURED, count=2)])
    _submit(incident, reporter, django_capture_on_commit_callbacks)
    first, second = Case.objects.filter(incident=incident).order_by("slot")
    for outsider in (foreign_officer, analyst):
        with pytest.raises(PermissionDenied):
            services.accept(first, outsider)
    accepted = services.accept(first, officer)
    assert accepted.status == rc.CaseStatus.OPEN and accepted.owner == officer
    assert accepted.opened_on and accepted.last_movement == accepted.opened_on
    with pytest.raises(ValidationError):
        services.decline(second, officer, "")
    declined = services.decline(second, officer, "Slightly injured only; not serious.")
    assert declined.status == rc.CaseStatus.DECLINED
    assert declined.decision_reason.startswith("Slightly")
    with pytest.raises(services.CaseError):
        services.accept(declined, officer)


def test_accepting_a_sexual_violence_proposal_names_the_officer(
    reporter, undp, officer, second_officer, org_admin, django_capture_on_commit_callbacks
):
    for focal in (officer, second_officer):
        services.designate_focal_point(undp, focal, org_admin)
    incident = make_incident(reporter, undp, persons=[_person(ic.Impact.SEXUAL_ASSAULT)])
    _submit(incident, reporter, django_capture_on_commit_callbacks)
    proposal = Case.objects.get(incident=incident)
    # A proposal (no identity yet) is seen by every survivor focal point of the organisation...
    assert Case.objects.visible_to(second_officer).filter(pk=proposal.pk).exists()
    # ...so nothing identifying may be recorded on it before someone takes it on.
    with pytest.raises(services.CaseError, match="accept it"):
        services.set_identity(proposal, second_officer, expected_version=1, data={"name": "N"})
    with pytest.raises(services.CaseError):
        services.record_consent(
            proposal, officer, use="statistics", given=True, recorded_on=proposal.date
        )
    services.accept(proposal, officer)
    # ...once accepted, only by the named officers.
    assert Case.objects.visible_to(officer).filter(pk=proposal.pk).exists()
    assert not Case.objects.visible_to(second_officer).filter(pk=proposal.pk).exists()


def test_propose_command_catches_up(reporter, undp, capsys):
    from django.core.management import call_command

    incident = make_incident(reporter, undp)
    incident_services.submit(incident, reporter)  # on_commit never fires inside the test
    call_command("registry", "propose")
    assert Case.objects.filter(incident=incident).count() == 1
    call_command("registry", "propose")
    assert Case.objects.filter(incident=incident).count() == 1
