"""Assessments: risk levels from the matrix, the workflow with its approvers, history, and
who may see them."""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError

from salama.conftest import make_organisation, make_user
from salama.core.models import AuditEntry
from salama.organisations.choices import Role
from salama.risk import choices as rc
from salama.risk import rules, services
from salama.risk.conftest import assessment_fields, event, make_area, make_assessment
from salama.risk.models import Assessment, RiskMatrix

pytestmark = pytest.mark.django_db


def test_a_threat_event_takes_its_risk_levels_from_the_assessment_matrix(author, area):
    assessment = make_assessment(
        author,
        area,
        events=[
            event(rc.Likelihood.VERY_LIKELY, rc.Impact.CRITICAL, residual=("likely", "severe")),
            event(rc.Likelihood.UNLIKELY, rc.Impact.MINOR, residual=("very_unlikely", "minor")),
        ],
    )
    levels = list(assessment.threat_events.values_list("risk_level", "residual_risk"))
    assert levels == [("unacceptable", "high"), ("low", "low")]
    assert assessment.matrix.version == rules.default_matrix().version
    assert assessment.highest() == ("unacceptable", "high")


def test_an_assessment_keeps_the_matrix_version_it_was_rated_with(author, area, undp):
    old = make_assessment(author, area)
    data = rules.default_matrix().to_data() | {"version": "undp-2026"}
    data["cells"]["unlikely"] = ["low", "low", "medium", "high", "high"]
    own, created = services.load_matrix(data, organisation=undp, user=author)
    assert created
    new = make_assessment(author, area)
    assert old.matrix.organisation is None and new.matrix == own
    assert old.threat_events.get().residual_risk == "medium"  # unlikely × severe, default
    assert new.threat_events.get().residual_risk == "high"  # unlikely × severe, UNDP's


def test_loading_the_same_matrix_twice_changes_nothing_and_other_cells_need_a_new_version(
    author, undp
):
    data = rules.default_matrix().to_data() | {"version": "undp-1"}
    first, created = services.load_matrix(data, organisation=undp, user=author)
    again, created_again = services.load_matrix(data, organisation=undp, user=author)
    assert created and not created_again and first == again
    data["cells"]["very_unlikely"] = ["low", "low", "low", "low", "medium"]
    with pytest.raises(rules.RuleError, match="already loaded with other cells"):
        services.load_matrix(data, organisation=undp, user=author)
    assert RiskMatrix.objects.filter(organisation=undp).count() == 1


def test_the_workflow_from_draft_to_superseded_keeps_its_history(author, approver, area):
    first = make_assessment(author, area)
    assert first.status == rc.AssessmentStatus.DRAFT
    services.submit(user=author, assessment=first)
    first.refresh_from_db()
    assert (first.status, first.risk_level, first.residual_risk) == ("submitted", "high", "medium")
    services.approve(user=approver, assessment=first)
    first.refresh_from_db()
    assert first.status == "approved" and first.approved_by == approver

    second = services.revise(
        user=author,
        assessment=first,
        period_start=datetime.date(2027, 1, 1),
        period_end=datetime.date(2027, 12, 31),
        review_date=datetime.date(2027, 6, 30),
    )
    assert second.threat_events.count() == 1 and second.measures.get().threat_event is not None
    services.submit(user=author, assessment=second)
    services.approve(user=approver, assessment=second)
    first.refresh_from_db()
    assert first.status == "superseded" and first.superseded_by == second
    assert Assessment.objects.approved().get(area=area) == second
    actions = list(
        AuditEntry.objects.filter(object_type="risk.assessment", object_id=str(first.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == [
        "risk.assessment.create",
        "risk.assessment.submit",
        "risk.assessment.approve",
        "risk.assessment.supersede",
    ]


def test_only_a_draft_with_threat_events_can_be_submitted(author, approver, area):
    empty = make_assessment(author, area, events=[])
    with pytest.raises(services.WorkflowError, match="at least one"):
        services.submit(user=author, assessment=empty)
    approved = make_assessment(author, make_area(area.organisation, "Bor"), approver=approver)
    with pytest.raises(services.WorkflowError):
        services.submit(user=author, assessment=approved)


def test_the_author_cannot_approve_their_own_assessment(undp, area):
    both = make_user("bea", undp, roles=(Role.ANALYST, Role.APPROVER))
    assessment = make_assessment(both, area)
    services.submit(user=both, assessment=assessment)
    with pytest.raises(PermissionDenied):
        services.approve(user=both, assessment=assessment)


def test_an_approver_of_another_organisation_cannot_approve(author, outside_approver, area):
    assessment = make_assessment(author, area)
    services.submit(user=author, assessment=assessment)
    assert not services.can_approve(outside_approver, assessment)
    with pytest.raises(PermissionDenied):
        services.approve(user=outside_approver, assessment=assessment)
    assessment.refresh_from_db()
    assert assessment.status == "submitted"


def test_only_the_designated_approver_may_approve_when_one_is_named(author, approver, head, area):
    assessment = make_assessment(author, area, designated_approver=head)
    services.submit(user=author, assessment=assessment)
    assert not services.can_approve(approver, assessment)
    with pytest.raises(PermissionDenied):
        services.approve(user=approver, assessment=assessment)
    services.approve(user=head, assessment=assessment)
    assert Assessment.objects.get(pk=assessment.pk).status == "approved"


def test_an_approver_can_send_a_submission_back_to_draft(author, approver, area):
    assessment = make_assessment(author, area)
    services.submit(user=author, assessment=assessment)
    services.return_to_draft(user=approver, assessment=assessment, reason="Rate terrorism too")
    assessment.refresh_from_db()
    assert assessment.status == "draft"
    entry = AuditEntry.objects.filter(action="risk.assessment.return").get()
    assert entry.after["reason"] == "Rate terrorism too"


def test_someone_without_an_author_role_cannot_write_an_assessment(area, undp):
    case_officer = make_user("cora", undp, roles=(Role.CASE_OFFICER,))
    with pytest.raises(PermissionDenied):
        services.create_assessment(user=case_officer, area=area, fields=assessment_fields())


def test_a_period_that_ends_before_it_starts_is_refused(author, area):
    with pytest.raises(ValidationError, match="ends before"):
        make_assessment(author, area, period_end=datetime.date(2025, 1, 1))
    assert not Assessment.objects.exists()


def test_an_area_of_another_organisation_cannot_hold_the_assessment(author, area, nrc):
    assessment = Assessment(organisation=nrc, area=area, **assessment_fields())
    with pytest.raises(ValidationError, match="another organisation"):
        assessment.clean()


# ------------------------------------------------------------------------------ visibility


@pytest.mark.parametrize(
    ("marking", "status", "seen_by"),
    [
        ("GREEN", "draft", {"ana", "rita", "hana"}),
        ("GREEN", "submitted", {"ana", "rita", "hana", "omar"}),
        ("CLEAR", "submitted", {"ana", "rita", "hana", "omar"}),
        ("AMBER", "submitted", {"ana", "rita", "hana"}),
        ("AMBER+STRICT", "submitted", {"ana", "rita", "hana"}),
        ("RED", "submitted", {"ana", "hana"}),
    ],
)
def test_who_sees_an_assessment(author, reporter, outsider, head, area, marking, status, seen_by):
    assessment = make_assessment(author, area, marking=marking, designated_approver=head)
    if status == "submitted":
        services.submit(user=author, assessment=assessment)
    people = {"ana": author, "rita": reporter, "omar": outsider, "hana": head}
    seeing = {
        name
        for name, person in people.items()
        if Assessment.objects.visible_to(person).filter(pk=assessment.pk).exists()
    }
    assert seeing == seen_by
    assert not Assessment.objects.visible_to(AnonymousUser()).exists()


def test_an_approver_of_another_organisation_sees_amber_assessments_of_neither(
    author, outside_approver, area
):
    make_assessment(author, area, marking="AMBER")
    other = make_organisation("WFP")
    make_assessment(
        make_user("wes", other, roles=(Role.ANALYST,)), make_area(other, "Wau"), marking="AMBER"
    )
    assert not Assessment.objects.visible_to(outside_approver).exists()


def test_the_designated_approver_must_be_an_approver_of_the_organisation(
    author, outside_approver, reporter, area
):
    for person in (outside_approver, reporter):
        with pytest.raises(ValidationError, match="designated approver"):
            make_assessment(author, area, designated_approver=person)
    assert not Assessment.objects.exists()
