"""Intake of sexual-violence proposals: only the organisation's survivor focal points see
them until one accepts; nobody else learns they exist, except through break-glass."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from salama.conftest import make_incident, make_user
from salama.core.models import AuditEntry
from salama.incidents import choices as ic
from salama.incidents import services as incident_services
from salama.organisations.choices import Role
from salama.registry import choices as rc
from salama.registry import services
from salama.registry.models import Case, CaseOfficer, SurvivorFocalPoint


def _sexual_assault():
    return {
        "impact": ic.Impact.SEXUAL_ASSAULT,
        "cause": ic.Cause.VIOLENCE,
        "gender": ic.Gender.FEMALE,
        "recruitment": ic.Recruitment.NATIONAL,
    }


def propose(reporter, organisation, persons=None):
    """Submit an incident as the reporter would, and return the cases it proposed."""
    incident = make_incident(reporter, organisation, persons=persons or [_sexual_assault()])
    return services.propose_for_incident(incident, reporter)


@pytest.fixture
def focal(officer, undp, org_admin):
    services.designate_focal_point(undp, officer, org_admin)
    return officer


@pytest.fixture
def proposal(focal, reporter, undp):
    mail.outbox.clear()
    (case,) = propose(reporter, undp)
    return case


def _sees(user, case) -> bool:
    return Case.objects.visible_to(user).filter(pk=case.pk).exists()


# ------------------------------------------------------------------------------ the door


def test_the_focal_point_sees_a_restricted_proposal_in_the_list_and_on_its_page(
    client, focal, proposal
):
    assert proposal.sexual_violence and proposal.status == rc.CaseStatus.PROPOSED
    client.force_login(focal)
    listing = client.get(reverse("registry:list"))
    assert proposal.reference in listing.text
    assert listing.context["proposals_waiting"] == 1
    page = client.get(reverse("registry:detail", args=[proposal.reference]))
    assert page.status_code == 200 and "survivor focal points" in page.text
    assert "Accept" in page.text


@pytest.mark.parametrize("persona", ["second_officer", "foreign_officer", "analyst", "endorser"])
def test_no_one_else_learns_a_restricted_proposal_exists(client, request, proposal, persona):
    user = request.getfixturevalue(persona)
    assert not _sees(user, proposal)
    client.force_login(user)
    listing = client.get(reverse("registry:list"))
    filtered = client.get(
        reverse("registry:list"), {"status": "proposed", "offence": rc.Offence.SEXUAL_ASSAULT}
    )
    detail = client.get(reverse("registry:detail", args=[proposal.reference]))
    identity = client.get(reverse("registry:identity", args=[proposal.reference]))
    accept = client.post(reverse("registry:decide", args=[proposal.reference, "accept"]))
    assert identity.status_code == 404 and accept.status_code == 404
    if persona == "second_officer":
        # A case officer of the organisation: their list and counts leave it out, and its
        # page offers break-glass only, by reference, saying nothing of the case.
        assert listing.status_code == 200 and proposal.reference not in listing.text
        assert listing.context["proposals_waiting"] == 0 and "await" not in listing.text
        assert filtered.context["cases"] == []
        assert detail.status_code == 403 and "Break the glass" in detail.text
        assert "Accept" not in detail.text
        assert proposal.get_offence_display() not in detail.text
    elif persona == "foreign_officer":
        assert listing.status_code == 200 and proposal.reference not in listing.text
        assert listing.context["proposals_waiting"] == 0
        assert detail.status_code == 404
    else:
        assert listing.status_code == 403 and detail.status_code == 404
    case = Case.objects.get(pk=proposal.pk)
    assert case.status == rc.CaseStatus.PROPOSED


def test_a_focal_point_of_another_organisation_sees_nothing(
    proposal, foreign_officer, nrc, reporter
):
    nrc_admin = make_user("nils", nrc, roles=(Role.ORG_ADMIN,))
    services.designate_focal_point(nrc, foreign_officer, nrc_admin)
    assert not _sees(foreign_officer, proposal)
    (theirs,) = propose(reporter, nrc)  # a proposal of their own organisation
    assert _sees(foreign_officer, theirs)


def test_other_proposals_stay_open_to_every_case_officer(reporter, undp, second_officer, focal):
    (injury,) = propose(
        reporter,
        undp,
        persons=[{"impact": ic.Impact.INJURED, "cause": ic.Cause.VIOLENCE}],
    )
    assert not injury.sexual_violence
    assert _sees(second_officer, injury) and _sees(focal, injury)


def test_a_non_designated_officer_cannot_accept_or_decline(proposal, second_officer):
    with pytest.raises(PermissionDenied):
        services.accept(proposal, second_officer)
    with pytest.raises(PermissionDenied):
        services.decline(proposal, second_officer, "Not a case for the registry at all.")


def test_accepting_makes_the_focal_point_the_first_named_officer(
    proposal, focal, second_officer, undp, org_admin
):
    services.designate_focal_point(undp, second_officer, org_admin)
    assert _sees(second_officer, proposal)  # every focal point sees the proposal...
    accepted = services.accept(proposal, focal)
    assert list(CaseOfficer.objects.filter(case=accepted).values_list("user", flat=True)) == [
        focal.pk
    ]
    assert _sees(focal, accepted)
    assert not _sees(second_officer, accepted)  # ...once accepted, only the named officers


def test_removing_a_focal_point_hides_proposals_but_not_cases_they_took_on(
    reporter, undp, focal, org_admin
):
    first, second = propose(reporter, undp, persons=[_sexual_assault(), _sexual_assault()])
    services.accept(first, focal)
    assert services.undesignate_focal_point(undp, focal, org_admin)
    assert _sees(focal, first)  # named on it
    assert not _sees(focal, second)


def test_break_glass_reaches_a_restricted_proposal(
    client, proposal, second_officer, org_admin, foreign_officer
):
    client.force_login(second_officer)
    url = reverse("registry:break_glass", args=[proposal.reference])
    granted = client.post(url, {"reason": "The survivor called the hotline; needs help tonight."})
    assert granted.status_code == 302
    assert _sees(second_officer, proposal)
    page = client.get(reverse("registry:detail", args=[proposal.reference]))
    assert page.status_code == 200 and "Emergency access" in page.text
    entry = AuditEntry.objects.get(action="registry:break_glass")
    assert entry.actor == second_officer and entry.object_id == str(proposal.pk)
    assert [m.to for m in mail.outbox] == [["ada@example.org"]]
    # An officer of another organisation has no such path.
    client.force_login(foreign_officer)
    assert client.post(url, {"reason": "Curious about this one, sorry."}).status_code == 404


# ----------------------------------------------------------- no focal point: tell the admins


def test_a_restricted_proposal_without_focal_point_is_reported_to_the_admins(
    reporter, undp, officer, org_admin
):
    (case,) = propose(reporter, undp)
    assert not _sees(officer, case)  # nobody sees it yet
    assert [m.to for m in mail.outbox] == [["ada@example.org"]]
    message = mail.outbox[0]
    assert case.reference in message.subject and case.reference in message.body
    assert reverse("registry:focal_points") in message.body
    body = (message.subject + message.body).lower()
    for word in ("sexual", "assault", "female", "juba"):
        assert word not in body, word
    entry = AuditEntry.objects.get(action="registry:intake:no_focal_point")
    assert entry.object_id == str(case.pk) and entry.after["admins_told"] == 1
    # Once someone is designated, the proposal reaches them.
    services.designate_focal_point(undp, officer, org_admin)
    assert _sees(officer, case)


def test_the_notice_goes_out_when_a_submission_commits(
    reporter, undp, org_admin, django_capture_on_commit_callbacks
):
    incident = make_incident(reporter, undp, persons=[_sexual_assault()])
    with django_capture_on_commit_callbacks(execute=True):
        incident_services.submit(incident, reporter)
    case = Case.objects.get(incident=incident)
    assert len(mail.outbox) == 1 and case.reference in mail.outbox[0].subject


def test_no_notice_when_a_focal_point_exists_or_for_other_offences(
    reporter, undp, focal, nrc, org_admin
):
    mail.outbox.clear()
    propose(reporter, undp)
    propose(reporter, nrc, persons=[{"impact": ic.Impact.INJURED, "cause": ic.Cause.VIOLENCE}])
    assert mail.outbox == []
    assert not AuditEntry.objects.filter(action="registry:intake:no_focal_point").exists()


def test_the_notice_is_audited_even_without_an_admin_to_mail(reporter, nrc):
    (case,) = propose(reporter, nrc)
    assert mail.outbox == []
    entry = AuditEntry.objects.get(action="registry:intake:no_focal_point")
    assert entry.object_id == str(case.pk) and entry.after["admins_told"] == 0


# ----------------------------------------------------------------------- designation rules


def test_only_case_officers_can_be_designated(undp, org_admin, analyst, officer):
    with pytest.raises(ValidationError) as error:
        services.designate_focal_point(undp, analyst, org_admin)
    assert "user" in error.value.message_dict
    services.designate_focal_point(undp, officer, org_admin)
    services.designate_focal_point(undp, officer, org_admin)  # twice: still one
    assert SurvivorFocalPoint.objects.get().designated_by == org_admin
    assert AuditEntry.objects.filter(action="registry:focal_point:designate").count() == 1


@pytest.mark.parametrize("persona", ["officer", "analyst", "endorser", "foreign_admin"])
def test_only_the_organisation_admin_designates(request, undp, nrc, second_officer, persona):
    if persona == "foreign_admin":
        user = make_user("nils", nrc, roles=(Role.ORG_ADMIN,))
    else:
        user = request.getfixturevalue(persona)
    with pytest.raises(PermissionDenied):
        services.designate_focal_point(undp, second_officer, user)
    with pytest.raises(PermissionDenied):
        services.undesignate_focal_point(undp, second_officer, user)
    assert not SurvivorFocalPoint.objects.exists()


def test_the_admin_designates_and_removes_on_the_page(
    client, org_admin, undp, officer, second_officer, analyst, reporter
):
    propose(reporter, undp)
    client.force_login(org_admin)
    page = client.get(reverse("registry:focal_points"))
    assert page.status_code == 200
    assert "1 restricted proposal waits" in page.text and "Nobody can see it" in page.text
    choices = page.context["sections"][0]["form"].fields["user"].queryset
    assert set(choices) == {officer, second_officer}  # case officers only, not the analyst
    designate = reverse("registry:focal_point_designate", args=[undp.pk])
    assert client.post(designate, {"user": analyst.pk}).status_code == 302
    assert not SurvivorFocalPoint.objects.exists()
    assert client.post(designate, {"user": officer.pk}).status_code == 302
    assert SurvivorFocalPoint.objects.get(organisation=undp).user == officer
    page = client.get(reverse("registry:focal_points"))
    assert "cora" in page.text and "Nobody can see it" not in page.text
    remove = reverse("registry:focal_point_remove", args=[undp.pk, officer.pk])
    assert client.post(remove).status_code == 302
    assert not SurvivorFocalPoint.objects.exists()
    assert AuditEntry.objects.filter(action="registry:focal_point:remove").count() == 1


@pytest.mark.parametrize("persona", ["officer", "analyst", "endorser", "foreign_admin"])
def test_the_focal_points_page_is_for_the_organisation_admin(
    client, request, undp, nrc, second_officer, persona
):
    if persona == "foreign_admin":
        user = make_user("nils", nrc, roles=(Role.ORG_ADMIN,))
    else:
        user = request.getfixturevalue(persona)
    client.force_login(user)
    page = client.get(reverse("registry:focal_points"))
    if persona == "foreign_admin":  # their own organisation only
        assert page.status_code == 200
        assert [s["organisation"] for s in page.context["sections"]] == [nrc]
    else:
        assert page.status_code == 403
    designate = reverse("registry:focal_point_designate", args=[undp.pk])
    assert client.post(designate, {"user": second_officer.pk}).status_code == 404
    assert not SurvivorFocalPoint.objects.exists()


def test_the_django_admin_keeps_the_case_officer_rule(admin_client, undp, officer, analyst):
    url = reverse("admin:registry_survivorfocalpoint_add")
    refused = admin_client.post(url, {"organisation": undp.pk, "user": analyst.pk})
    assert refused.status_code == 200 and not SurvivorFocalPoint.objects.exists()
    saved = admin_client.post(url, {"organisation": undp.pk, "user": officer.pk})
    assert saved.status_code == 302
    assert SurvivorFocalPoint.objects.get().user == officer
    entry = AuditEntry.objects.get(action="registry:focal_point:designate")
    assert entry.after["via"] == "admin"


def test_a_declined_restricted_proposal_stays_with_the_focal_points(
    focal, proposal, second_officer, undp, org_admin
):
    """Declining does not make the case vanish for everyone: the focal points keep it (and
    its reason) in view; other officers still see nothing of it."""
    services.decline(proposal, focal, "Reported twice; the other report is being followed.")
    proposal.refresh_from_db()
    assert proposal.status == rc.CaseStatus.DECLINED
    assert _sees(focal, proposal)
    assert not _sees(second_officer, proposal)
    # A focal point designated later sees it too; one who is no longer does not.
    services.designate_focal_point(undp, second_officer, org_admin)
    assert _sees(second_officer, proposal)
    services.undesignate_focal_point(undp, second_officer, org_admin)
    assert not _sees(second_officer, proposal)
