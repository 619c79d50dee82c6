"""What people do with risk records: load a matrix, write, submit, approve and revise an
assessment, accept an activity's residual risk; and the go / no-go of activities × areas.

Views, commands and the demo call these functions, which check permissions, keep the audit
log (:func:`salama.core.audit.record`) and run each change in one transaction.
"""

import datetime
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from salama.core import audit
from salama.organisations.choices import Role
from salama.organisations.models import has_role
from salama.risk import choices as rc
from salama.risk import rules
from salama.risk.models import (
    ActivityArea,
    ApprovalAuthority,
    Assessment,
    ChecklistAnswer,
    ChecklistItem,
    Finding,
    GeneralThreat,
    Measure,
    Premises,
    RiskAcceptance,
    RiskMatrix,
    ThreatEvent,
)

# Who may write an assessment for their organisation: field focal points, analysts, admins.
AUTHOR_ROLES = (Role.REPORTER, Role.ANALYST, Role.ORG_ADMIN)


class WorkflowError(Exception):
    """A status move that is not allowed from where the assessment stands."""


# ---------------------------------------------------------------------------------- matrices


def ensure_default_matrix() -> RiskMatrix:
    """The instance's default matrix row (from ``data/risk_matrix_default.yaml``)."""
    matrix = rules.default_matrix()
    row = RiskMatrix.objects.filter(organisation=None, version=matrix.version).first()
    if row is None:
        row = RiskMatrix.objects.create(
            organisation=None, version=matrix.version, name=matrix.name, data=matrix.to_data()
        )
    return row


def current_matrix(organisation) -> RiskMatrix:
    """The matrix new assessments of ``organisation`` use: its latest loaded, or the default."""
    own = RiskMatrix.objects.filter(organisation=organisation).order_by("-loaded_at", "-id")
    return own.first() or ensure_default_matrix()


def load_matrix(source, *, organisation=None, user=None) -> tuple[RiskMatrix, bool]:
    """Validate and store a matrix (a path to a YAML/JSON file, or its parsed content).

    Returns ``(row, created)``. Loading the same version with the same cells again changes
    nothing; the same version with other cells is refused — a changed matrix needs a new
    version, or old assessments would be re-read with cells they were not rated with.
    Raises :class:`rules.RuleError` naming every offending cell.
    """
    data = rules.read_yaml(Path(source)) if isinstance(source, str | Path) else source
    matrix = rules.parse_matrix(data)
    with transaction.atomic():
        existing = RiskMatrix.objects.filter(
            organisation=organisation, version=matrix.version
        ).first()
        if existing is not None:
            if existing.matrix.cells == matrix.cells:
                return existing, False
            raise rules.RuleError(
                [
                    _(
                        "Version %(v)s is already loaded with other cells; give the changed "
                        "matrix a new version."
                    )
                    % {"v": matrix.version}
                ]
            )
        row = RiskMatrix.objects.create(
            organisation=organisation,
            version=matrix.version,
            name=matrix.name,
            data=matrix.to_data(),
            loaded_by=user if getattr(user, "pk", None) else None,
        )
        audit.record("risk.matrix.load", actor=user, obj=row, after=audit.snapshot(row))
    return row, True


# ------------------------------------------------------------------------------ assessments


def can_author(user, organisation_id: int) -> bool:
    return any(has_role(user, organisation_id, role) for role in AUTHOR_ROLES)


def can_edit(user, assessment: Assessment) -> bool:
    return assessment.status == rc.AssessmentStatus.DRAFT and can_author(
        user, assessment.organisation_id
    )


def can_approve(user, assessment: Assessment) -> bool:
    """A second person, holding the approver role in the owning organisation, and the
    designated approver when one is named."""
    return (
        assessment.status == rc.AssessmentStatus.SUBMITTED
        and getattr(user, "is_authenticated", False)
        and user.pk not in (assessment.created_by_id, assessment.submitted_by_id)
        and has_role(user, assessment.organisation_id, Role.APPROVER)
        and assessment.designated_approver_id in (None, user.pk)
    )


def can_return(user, assessment: Assessment) -> bool:
    return assessment.status == rc.AssessmentStatus.SUBMITTED and has_role(
        user, assessment.organisation_id, Role.APPROVER
    )


def full_snapshot(assessment: Assessment) -> dict:
    data = audit.snapshot(assessment, exclude=("created_at", "updated_at"))
    data["general_threats"] = [
        audit.snapshot(g, exclude=("assessment_id",)) for g in assessment.general_threats.all()
    ]
    data["threat_events"] = [
        audit.snapshot(t, exclude=("assessment_id",)) for t in assessment.threat_events.all()
    ]
    data["measures"] = [
        audit.snapshot(m, exclude=("assessment_id",)) for m in assessment.measures.all()
    ]
    return data


@transaction.atomic
def create_assessment(
    *,
    user,
    area,
    fields: dict,
    general_threats=(),
    threat_events=(),
    measures=(),
    check_permission=True,
) -> Assessment:
    """A draft assessment of ``area`` with the organisation's current matrix.

    ``threat_events`` and ``measures`` are dicts of model fields; a measure may name its
    threat event by position with ``"event": index``.
    """
    if check_permission and not can_author(user, area.organisation_id):
        raise PermissionDenied(_("You may not write risk assessments for this organisation."))
    assessment = Assessment(
        organisation_id=area.organisation_id,
        area=area,
        matrix=current_matrix(area.organisation),
        created_by=user if getattr(user, "pk", None) else None,
        **fields,
    )
    assessment.full_clean()
    approver = assessment.designated_approver
    if approver is not None and not has_role(approver, area.organisation_id, Role.APPROVER):
        raise ValidationError(
            {
                "designated_approver": _(
                    "The designated approver must be an approver of the area's organisation."
                )
            }
        )
    assessment.save()
    _add_parts(assessment, general_threats, threat_events, measures)
    audit.record(
        "risk.assessment.create", actor=user, obj=assessment, after=full_snapshot(assessment)
    )
    return assessment


def _add_parts(assessment, general_threats, threat_events, measures):
    for data in general_threats:
        threat = GeneralThreat(assessment=assessment, **data)
        threat.full_clean()
        threat.save()
    events = []
    for data in threat_events:
        event = ThreatEvent(assessment=assessment, **data)
        event.full_clean(exclude=["risk_level", "residual_risk"])
        event.save()
        events.append(event)
    for data in measures:
        data = dict(data)
        index = data.pop("event", None)
        measure = Measure(
            assessment=assessment,
            threat_event=events[index] if index is not None else None,
            **data,
        )
        measure.full_clean()
        measure.save()


def _add_to_draft(user, assessment: Assessment, item, exclude=()):
    """Validate and save ``item`` (a part of ``assessment``), with before/after in the audit
    log; only a draft its organisation's authors may edit."""
    if not can_edit(user, assessment):
        raise PermissionDenied(_("Only a draft of your organisation can be changed."))
    before = full_snapshot(assessment)
    item.full_clean(exclude=list(exclude))
    item.save()
    audit.record(
        "risk.assessment.edit",
        actor=user,
        obj=assessment,
        before=before,
        after=full_snapshot(assessment),
    )
    return item


@transaction.atomic
def add_general_threat(*, user, assessment: Assessment, fields: dict) -> GeneralThreat:
    """Rate one threat category (SRM step 4a); one rating per category and assessment."""
    return _add_to_draft(user, assessment, GeneralThreat(assessment=assessment, **fields))


@transaction.atomic
def add_threat_event(*, user, assessment: Assessment, fields: dict) -> ThreatEvent:
    event = ThreatEvent(assessment=assessment, **fields)
    return _add_to_draft(user, assessment, event, exclude=["risk_level", "residual_risk"])


@transaction.atomic
def add_measure(*, user, assessment: Assessment, fields: dict) -> Measure:
    if not can_edit(user, assessment):
        raise PermissionDenied(_("Only a draft of your organisation can be changed."))
    event = fields.get("threat_event")
    if event is not None and event.assessment_id != assessment.pk:
        raise PermissionDenied(_("That threat event belongs to another assessment."))
    return _add_to_draft(user, assessment, Measure(assessment=assessment, **fields))


def can_track_measures(user, assessment: Assessment) -> bool:
    """SRM step 10: the organisation's authors and approvers track implementation, also after
    approval (that is when measures get done); a superseded assessment is history."""
    return assessment.status != rc.AssessmentStatus.SUPERSEDED and (
        can_author(user, assessment.organisation_id)
        or has_role(user, assessment.organisation_id, Role.APPROVER)
    )


@transaction.atomic
def set_measure_status(*, user, measure: Measure, status: str) -> Measure:
    if not can_track_measures(user, measure.assessment):
        raise PermissionDenied(_("You may not track this assessment's measures."))
    if status not in rc.MeasureStatus.values:
        raise ValidationError(_("Unknown status %(s)r.") % {"s": status})
    before = audit.snapshot(measure)
    measure.status = status
    measure.save(update_fields=["status"])
    audit.record(
        "risk.measure.status", actor=user, obj=measure, before=before, after=audit.snapshot(measure)
    )
    return measure


def _locked(assessment: Assessment) -> Assessment:
    return Assessment.objects.select_for_update().get(pk=assessment.pk)


@transaction.atomic
def submit(*, user, assessment: Assessment) -> Assessment:
    """Draft → submitted; fixes the highest inherent and residual risk of its threat events."""
    assessment = _locked(assessment)
    if assessment.status != rc.AssessmentStatus.DRAFT:
        raise WorkflowError(_("Only a draft can be submitted."))
    if not can_author(user, assessment.organisation_id):
        raise PermissionDenied(_("You may not submit assessments for this organisation."))
    if not assessment.threat_events.exists():
        raise WorkflowError(_("Rate at least one specific threat event before submitting."))
    before = full_snapshot(assessment)
    assessment.risk_level, assessment.residual_risk = assessment.highest()
    assessment.status = rc.AssessmentStatus.SUBMITTED
    assessment.submitted_by = user
    assessment.submitted_at = timezone.now()
    assessment.save()
    audit.record(
        "risk.assessment.submit",
        actor=user,
        obj=assessment,
        before=before,
        after=full_snapshot(assessment),
    )
    return assessment


@transaction.atomic
def return_to_draft(*, user, assessment: Assessment, reason: str) -> Assessment:
    assessment = _locked(assessment)
    if not can_return(user, assessment):
        raise PermissionDenied(_("Only an approver of the organisation can send it back."))
    before = audit.snapshot(assessment)
    assessment.status = rc.AssessmentStatus.DRAFT
    assessment.submitted_by = None
    assessment.submitted_at = None
    assessment.save()
    after = audit.snapshot(assessment) | {"reason": reason}
    audit.record("risk.assessment.return", actor=user, obj=assessment, before=before, after=after)
    return assessment


@transaction.atomic
def approve(*, user, assessment: Assessment) -> Assessment:
    """Submitted → approved by the designated approver; the area's previously approved
    assessment becomes superseded (kept, with a link to its successor)."""
    assessment = _locked(assessment)
    if assessment.status != rc.AssessmentStatus.SUBMITTED:
        raise WorkflowError(_("Only a submitted assessment can be approved."))
    if not can_approve(user, assessment):
        raise PermissionDenied(
            _(
                "Only the designated approver of the owning organisation, who is not its "
                "author, can approve this assessment."
            )
        )
    now = timezone.now()
    previous = (
        Assessment.objects.select_for_update()
        .filter(area_id=assessment.area_id, status=rc.AssessmentStatus.APPROVED)
        .first()
    )
    if previous is not None:
        before = audit.snapshot(previous)
        previous.status = rc.AssessmentStatus.SUPERSEDED
        previous.superseded_by = assessment
        previous.superseded_at = now
        previous.save()
        audit.record(
            "risk.assessment.supersede",
            actor=user,
            obj=previous,
            before=before,
            after=audit.snapshot(previous),
        )
    before = audit.snapshot(assessment)
    assessment.status = rc.AssessmentStatus.APPROVED
    assessment.approved_by = user
    assessment.approved_at = now
    assessment.save()
    audit.record(
        "risk.assessment.approve",
        actor=user,
        obj=assessment,
        before=before,
        after=audit.snapshot(assessment),
    )
    return assessment


@transaction.atomic
def revise(*, user, assessment: Assessment, period_start, period_end, review_date) -> Assessment:
    """A new draft copied from ``assessment`` (the living record: rate again, submit, approve;
    the copy supersedes it when approved). It takes the organisation's current matrix, so
    its threat events are re-rated through that matrix."""
    if not can_author(user, assessment.organisation_id):
        raise PermissionDenied(_("You may not write risk assessments for this organisation."))
    copied = {
        f.name: getattr(assessment, f.name)
        for f in Assessment._meta.concrete_fields
        if f.name
        in {
            "marking",
            "political",
            "economic",
            "social",
            "environmental",
            "infrastructure",
            "security_forces",
            "threat_actors",
            "un_mandate",
            "main_issues",
            "programme_partners",
            "programme_personnel",
            "programme_frequency",
            "programme_locations",
            "review_triggers",
        }
    }
    copied.update(period_start=period_start, period_end=period_end, review_date=review_date)
    events = list(assessment.threat_events.all())
    index = {event.pk: i for i, event in enumerate(events)}
    return create_assessment(
        user=user,
        area=assessment.area,
        fields=copied,
        general_threats=[
            {k: getattr(g, k) for k in ("category", "intent", "capability", "inhibiting_context")}
            | {"notes": g.notes}
            for g in assessment.general_threats.all()
        ],
        threat_events=[
            {
                k: getattr(e, k)
                for k in (
                    "category",
                    "description",
                    "likelihood",
                    "impact",
                    "residual_likelihood",
                    "residual_impact",
                    "strategy",
                )
            }
            for e in events
        ],
        measures=[
            {k: getattr(m, k) for k in ("kind", "description", "owner", "status", "due_date")}
            | {"event": index.get(m.threat_event_id)}
            for m in assessment.measures.all()
        ],
    )


# ------------------------------------------------------------------------------- decisions


@dataclass(slots=True)
class DecisionRow:
    """One activity in one area, weighed: what the matrix page and the command show."""

    activity_area_id: int
    activity_id: int
    activity_code: str
    activity_name: str
    area_id: int
    area_name: str
    pc_level: str | None
    residual_risk: str | None
    assessment_id: int | None
    outcome: rules.Outcome

    def as_json(self) -> dict:
        return {
            "activity": self.activity_code,
            "activity_name": self.activity_name,
            "area": self.area_name,
            "pc_level": self.pc_level,
            "residual_risk": self.residual_risk,
            "assessment": self.assessment_id,
            "decision": self.outcome.decision,
            "required_approver": self.outcome.required_approver,
            "expires_on": self.outcome.expires_on.isoformat() if self.outcome.expires_on else None,
            "reasons": self.outcome.reasons,
            "reason_codes": self.outcome.codes,
        }


def current_assessments(area_ids) -> dict[int, tuple[int, str]]:
    """area id → (id, residual risk) of its approved assessment, in one query."""
    rows = Assessment.objects.approved().filter(area_id__in=area_ids)
    return {
        area_id: (pk, residual or None)
        for area_id, pk, residual in rows.values_list("area_id", "pk", "residual_risk")
    }


def latest_acceptances(activity_area_ids) -> dict[int, rules.Acceptance]:
    """activity-area id → its newest acceptance, in one query (``activity_area_ids`` may be a
    subquery, which keeps a page of thousands of pairs out of an ``IN`` list)."""
    latest = {}
    rows = (
        RiskAcceptance.objects.filter(activity_area_id__in=activity_area_ids)
        .order_by("activity_area_id", "-approved_at", "-id")
        .values_list(
            "activity_area_id",
            "assessment_id",
            "pc_level",
            "residual_risk",
            "approver_level",
            "approved_by__username",
            "approved_at",
            "expires_on",
        )
    )
    for aa, assessment, pc, residual, level, who, at, expires in rows:
        if aa not in latest:
            latest[aa] = rules.Acceptance(
                assessment, pc, residual, level, who, timezone.localdate(at), expires
            )
    return latest


def weigh(activity_areas, today: datetime.date, *, names: bool = True) -> list[DecisionRow]:
    """The decision for each of ``activity_areas`` (a queryset of ``ActivityArea``): three
    queries whatever their number, then the pure rule per pair. ``names=False`` leaves the
    activity and area names empty (the matrix page has them already) and saves two joins."""
    if names:
        columns = ("activity__code", "activity__name", "area__name")
    else:
        columns = (Value(""), Value(""), Value(""))
    pairs = [
        (pk, activity, code, name, area, area_name, pc)
        for pk, activity, area, pc, code, name, area_name in activity_areas.values_list(
            "pk", "activity_id", "area_id", "pc_level", *columns
        )
    ]
    assessments = current_assessments({p[4] for p in pairs})
    acceptances = latest_acceptances(activity_areas.order_by().values("pk"))
    pc = rules.pc_rules()
    # Pairs with the same facts get the same outcome; on a page of thousands most share one
    # (no acceptance yet, the area's assessment), so each distinct case is weighed once.
    outcomes = {}
    result = []
    for pk, activity_id, code, name, area_id, area_name, pc_level in pairs:
        assessment_id, residual = assessments.get(area_id, (None, None))
        acceptance = acceptances.get(pk)
        key = (pc_level, residual, assessment_id, acceptance)
        outcome = outcomes.get(key)
        if outcome is None:
            outcome = outcomes[key] = rules.decide(
                pc_level=pc_level or None,
                residual_risk=residual,
                assessment_id=assessment_id,
                acceptance=acceptance,
                today=today,
                rules=pc,
            )
        result.append(
            DecisionRow(
                pk,
                activity_id,
                code,
                name,
                area_id,
                area_name,
                pc_level or None,
                residual,
                assessment_id,
                outcome,
            )
        )
    return result


def decision_for(activity_area: ActivityArea, today: datetime.date) -> DecisionRow:
    return weigh(ActivityArea.objects.filter(pk=activity_area.pk), today)[0]


def authority_of(user, organisation_id: int) -> str | None:
    """The approver level ``user`` is designated at in the organisation (None: not one)."""
    if not has_role(user, organisation_id, Role.APPROVER):
        return None
    return (
        ApprovalAuthority.objects.filter(organisation_id=organisation_id, user=user)
        .values_list("level", flat=True)
        .first()
    )


def can_accept(user, activity_area: ActivityArea, required: str | None) -> bool:
    """An approver of the activity's own organisation, designated high enough."""
    organisation_id = activity_area.activity.organisation_id
    return rules.pc_rules().may_accept(authority_of(user, organisation_id), required)


@transaction.atomic
def accept_risk(*, user, activity_area: ActivityArea, today=None, note="") -> RiskAcceptance:
    """Record ``user``'s acceptance of the activity's residual risk in its area, valid for the
    rules' validity period. Only an activity that needs approval can be accepted."""
    today = today or timezone.localdate()
    activity_area = ActivityArea.objects.select_for_update().get(pk=activity_area.pk)
    row = decision_for(activity_area, today)
    outcome = row.outcome
    if outcome.decision == rc.Decision.NO_GO:
        raise WorkflowError(" ".join(outcome.reasons))
    if outcome.decision == rc.Decision.GO:
        raise WorkflowError(_("This activity is already accepted and valid."))
    if not can_accept(user, activity_area, outcome.required_approver):
        raise PermissionDenied(
            _("Accepting this risk needs: %(who)s of the activity's organisation.")
            % {"who": rules.label(rc.ApproverLevel, outcome.required_approver)}
        )
    acceptance = RiskAcceptance.objects.create(
        activity_area=activity_area,
        assessment_id=row.assessment_id,
        pc_level=row.pc_level,
        residual_risk=row.residual_risk,
        approver_level=authority_of(user, activity_area.activity.organisation_id),
        approved_by=user,
        approved_at=timezone.now(),
        expires_on=rules.add_months(today, rules.pc_rules().validity_months),
        note=note,
    )
    audit.record(
        "risk.acceptance.approve",
        actor=user,
        obj=acceptance,
        after=audit.snapshot(acceptance) | {"reasons": outcome.reasons},
    )
    return acceptance


def can_rate(user, activity_area: ActivityArea) -> bool:
    """Authors and approvers of the activity's organisation rate its criticality."""
    organisation_id = activity_area.activity.organisation_id
    return can_author(user, organisation_id) or has_role(user, organisation_id, Role.APPROVER)


@transaction.atomic
def set_programme_criticality(*, user, activity_area: ActivityArea, fields: dict) -> ActivityArea:
    """Rate an activity's criticality in an area; a changed PC level sends an accepted
    activity back to review (the decision sees the acceptance's PC level differ)."""
    if not can_rate(user, activity_area):
        raise PermissionDenied(_("You may not rate this organisation's activities."))
    before = audit.snapshot(activity_area, exclude=("updated_at",))
    for name, value in fields.items():
        setattr(activity_area, name, value)
    activity_area.full_clean(exclude=["pc_level"])
    activity_area.save()
    audit.record(
        "risk.activity.criticality",
        actor=user,
        obj=activity_area,
        before=before,
        after=audit.snapshot(activity_area, exclude=("updated_at",)),
    )
    return activity_area


# -------------------------------------------------------------------------------- premises

CHECKLIST_FILE = rules.DATA_DIR / "premises_checklist.yaml"
PREMISES_ROLES = (Role.REPORTER, Role.ANALYST, Role.ORG_ADMIN, Role.APPROVER)


def ensure_default_checklist() -> int:
    """Create the default checklist items of ``data/premises_checklist.yaml`` that are
    missing (never touching items an administrator has edited); returns how many."""
    data = rules.read_yaml(CHECKLIST_FILE)
    created = 0
    for order, item in enumerate(data["items"]):
        _row, made = ChecklistItem.objects.get_or_create(
            organisation=None,
            code=item["code"],
            defaults={"text": item["text"], "kinds": list(item["kinds"]), "order": order},
        )
        created += made
    return created


def checklist_for(premises: Premises) -> list[ChecklistItem]:
    """The items that apply to ``premises``: its organisation's own where it has any with
    that code, else the default ones; active only, and for its kind."""
    ensure_default_checklist()
    items = ChecklistItem.objects.filter(
        Q(organisation=None) | Q(organisation_id=premises.organisation_id)
    ).order_by("order", "id")
    by_code = {}
    for item in items:
        if item.organisation_id is not None or item.code not in by_code:
            by_code[item.code] = item
    return [
        item for item in by_code.values() if item.active and premises.kind in (item.kinds or [])
    ]


def can_manage_premises(user, premises: Premises) -> bool:
    return any(has_role(user, premises.organisation_id, role) for role in PREMISES_ROLES)


@transaction.atomic
def record_checklist(*, user, premises: Premises, answers: dict, today) -> int:
    """Save answers (item id → yes / no / na); a "no" opens a finding when none is open for
    that item. Returns the number of answers saved."""
    if not can_manage_premises(user, premises):
        raise PermissionDenied(_("You may not check this organisation's premises."))
    items = {item.pk: item for item in checklist_for(premises)}
    saved = 0
    for item_id, answer in answers.items():
        item = items.get(int(item_id))
        if item is None or answer not in rc.ComplianceAnswer.values:
            raise ValidationError(_("Unknown checklist item or answer."))
        before = ChecklistAnswer.objects.filter(premises=premises, item=item).first()
        old = audit.snapshot(before) if before else None
        row, _created = ChecklistAnswer.objects.update_or_create(
            premises=premises,
            item=item,
            defaults={"answer": answer, "checked_on": today, "checked_by": user},
        )
        audit.record(
            "risk.premises.check", actor=user, obj=premises, before=old, after=audit.snapshot(row)
        )
        saved += 1
        open_finding = premises.findings.filter(item=item, status=rc.ActionStatus.OPEN)
        if answer == rc.ComplianceAnswer.NO and not open_finding.exists():
            add_finding(
                user=user,
                premises=premises,
                fields={
                    "item": item,
                    "description": _("Not compliant: %(item)s") % {"item": item.text},
                    "corrective_action": _("To be decided"),
                    "owner": _("Security focal point"),
                    "due_date": today + datetime.timedelta(days=30),
                },
            )
    return saved


@transaction.atomic
def add_finding(*, user, premises: Premises, fields: dict) -> Finding:
    if not can_manage_premises(user, premises):
        raise PermissionDenied(_("You may not check this organisation's premises."))
    finding = Finding(premises=premises, **fields)
    finding.full_clean()
    finding.save()
    audit.record("risk.premises.finding", actor=user, obj=finding, after=audit.snapshot(finding))
    return finding


@transaction.atomic
def close_finding(*, user, finding: Finding, today) -> Finding:
    if not can_manage_premises(user, finding.premises):
        raise PermissionDenied(_("You may not check this organisation's premises."))
    before = audit.snapshot(finding)
    finding.status = rc.ActionStatus.DONE
    finding.closed_on = today
    finding.save()
    audit.record(
        "risk.premises.finding",
        actor=user,
        obj=finding,
        before=before,
        after=audit.snapshot(finding),
    )
    return finding
