"""What case officers do with cases: propose, accept or decline, edit, log follow-up and
milestones, keep identities, record consent, break the glass, close; and what organisation
admins do: designate survivor focal points, review break-glass uses.

Views, commands and the incident-submitted receiver all call these functions, which check
permissions, write the audit log and refuse stale edits. Every change runs in one transaction.
"""

import datetime
import logging
import secrets
from collections import Counter

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from salama.core import audit
from salama.core.links import absolute_url
from salama.incidents import choices as ic
from salama.organisations.choices import Role
from salama.organisations.models import Membership, has_role
from salama.registry import choices as rc
from salama.registry.models import (
    Abduction,
    BreakGlass,
    Case,
    CaseOfficer,
    Consent,
    Detention,
    FollowUp,
    Identity,
    Milestone,
    SurvivorFocalPoint,
    officer_organisation_ids,
)

logger = logging.getLogger(__name__)
REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32
BREAK_GLASS_HOURS = 8
MIN_REASON_LENGTH = 10

# Which impacts make a case, and as which offence. Killed and injured only when caused by
# violence (a road crash is not a crime to follow up); the others are violence by nature.
OFFENCE_OF_IMPACT = {
    ic.Impact.KILLED: rc.Offence.KILLING,
    ic.Impact.INJURED: rc.Offence.SERIOUS_INJURY,
    ic.Impact.SEXUAL_ASSAULT: rc.Offence.SEXUAL_ASSAULT,
    ic.Impact.ABDUCTED: rc.Offence.ABDUCTION,
    ic.Impact.ARRESTED_DETAINED: rc.Offence.ARREST_DETENTION,
}
VIOLENCE_ONLY = {ic.Impact.KILLED, ic.Impact.INJURED}

CASE_FIELDS = (
    "offence",
    "sexual_violence",
    "perpetrator_type",
    "country",
    "date",
    "gender",
    "recruitment",
    "focal_point",
)
DETENTION_FIELDS = (
    "authority",
    "notified_on",
    "notified_by",
    "medical_access_on",
    "legal_access_on",
    "charges",
    "immunity_invoked",
    "release_date",
)
ABDUCTION_FIELDS = (
    "abductor_type",
    "demands_made",
    "demands",
    "proof_of_life",
    "release_date",
    "outcome",
)


class StaleEdit(Exception):
    """Someone else saved the case after the editor loaded it (the incidents' pattern)."""

    def __init__(self, case, changes: dict):
        self.case = case
        self.changes = changes
        super().__init__(
            _("%(ref)s was changed by someone else since you opened it.") % {"ref": case.reference}
        )


class CaseError(Exception):
    """A step that the case's state does not allow, with a message for the officer."""


def new_reference() -> str:
    return "VC-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(10))


# ------------------------------------------------------------------------------- permissions


def is_case_officer(user, organisation_id: int) -> bool:
    return organisation_id in officer_organisation_ids(user)


def can_open(user, case: Case) -> bool:
    """Whether ``user`` may open the case, identity included (the door, for one case)."""
    return Case.objects.visible_to(user).filter(pk=case.pk).exists()


def _require_open(user, case: Case):
    if not can_open(user, case):
        raise PermissionDenied(_("You cannot work on case %(ref)s.") % {"ref": case.reference})


def _require_active(case: Case):
    if case.status == rc.CaseStatus.PROPOSED:
        raise CaseError(
            _("%(ref)s is still a proposal: accept it first.") % {"ref": case.reference}
        )
    if case.status == rc.CaseStatus.CLOSED:
        raise CaseError(_("%(ref)s is closed: reopen it first.") % {"ref": case.reference})
    if case.status != rc.CaseStatus.OPEN:  # declined
        raise CaseError(
            _("%(ref)s was declined: it can no longer be worked on.") % {"ref": case.reference}
        )


def _require_taken_on(case: Case):
    """Identities, consent and documents only on a case someone has accepted (open or
    closed): a proposal is seen by every case officer of the organisation (by all its
    survivor focal points when it is about sexual violence), so it must hold nothing that
    identifies the person."""
    if case.status == rc.CaseStatus.PROPOSED:
        raise CaseError(
            _("%(ref)s is still a proposal: accept it before recording anything about the person.")
            % {"ref": case.reference}
        )
    if case.status not in (rc.CaseStatus.OPEN, rc.CaseStatus.CLOSED):  # declined
        raise CaseError(
            _("%(ref)s was declined: nothing can be recorded about the person.")
            % {"ref": case.reference}
        )


def is_named(user, case: Case) -> bool:
    return CaseOfficer.objects.filter(case=case, user=user).exists()


def is_org_admin(user, organisation_id: int) -> bool:
    return has_role(user, organisation_id, Role.ORG_ADMIN)


def _org_admin_emails(organisation_id: int) -> list[str]:
    admins = (
        Membership.objects.filter(organisation_id=organisation_id, role=Role.ORG_ADMIN)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    return sorted(set(admins))


# ---------------------------------------------------------------------------------- snapshot


def snapshot(case: Case) -> dict:
    """The case with its detention and abduction facts, for history and stale checks.
    Never the identity: the audit log must not become a second place where names are kept."""
    data = audit.snapshot(case, exclude=("created_at", "updated_at"))
    detention = Detention.objects.filter(case=case).first()
    abduction = Abduction.objects.filter(case=case).first()
    data["detention"] = audit.snapshot(detention, exclude=("id", "case_id")) if detention else None
    data["abduction"] = audit.snapshot(abduction, exclude=("id", "case_id")) if abduction else None
    data["identity_key"] = (
        Identity.objects.filter(case=case).values_list("updated_at", flat=True).first()
    )
    return audit.jsonable(data)


def _snapshot_at_version(case: Case, version: int) -> dict:
    from salama.core.models import AuditEntry

    for entry in AuditEntry.objects.filter(
        object_type=case._meta.label_lower, object_id=str(case.pk)
    ).order_by("-seq"):
        if entry.after and entry.after.get("version") == version:
            return entry.after
    return {}


def _bump(case: Case, user, action: str, before: dict) -> Case:
    Case.objects.filter(pk=case.pk).update(version=F("version") + 1)
    case.refresh_from_db()
    audit.record(action, actor=user, obj=case, before=before, after=snapshot(case))
    return case


def _lock(case_id: int, user, expected_version: int | None) -> tuple[Case, dict]:
    case = Case.objects.select_for_update().get(pk=case_id)
    _require_open(user, case)
    before = snapshot(case)
    if expected_version is not None and case.version != expected_version:
        seen = _snapshot_at_version(case, expected_version)
        raise StaleEdit(case, audit.changes(seen, before))
    return case, before


# ------------------------------------------------------------------------------ proposals


def _slots(incident):
    """(person row, slot) for every affected person who makes a case, one per person:
    an aggregate row of N people proposes N cases, since each person needs their own
    identity and follow-up."""
    seen = Counter()
    for person in incident.persons.order_by("id"):
        if person.impact not in OFFENCE_OF_IMPACT:
            continue
        if person.impact in VIOLENCE_ONLY and person.cause != ic.Cause.VIOLENCE:
            continue
        for _n in range(person.count):
            seen[person.impact] += 1
            yield person, f"{person.impact}:{seen[person.impact]}"


def propose_for_incident(incident, user=None) -> list[Case]:
    """Propose a case for each person of a submitted incident who needs one. Idempotent:
    a slot that already has a case (proposed, open, declined or closed) gets nothing new."""
    made = []
    waiting = []  # restricted proposals of organisations with no survivor focal point
    with transaction.atomic():
        # Serialise proposers of one incident (the receiver and `salama registry propose`).
        type(incident).objects.select_for_update().filter(pk=incident.pk).first()
        existing = set(incident.registry_cases.values_list("slot", flat=True))
        for person, slot in _slots(incident):
            if slot in existing:
                continue
            offence = OFFENCE_OF_IMPACT[person.impact]
            case = Case.objects.create(
                reference=new_reference(),
                organisation_id=person.organisation_id or incident.organisation_id,
                incident=incident,
                person=person,
                slot=slot,
                status=rc.CaseStatus.PROPOSED,
                offence=offence,
                sexual_violence=offence == rc.Offence.SEXUAL_ASSAULT,
                perpetrator_type=incident.perpetrator_type,
                country=incident.country,
                date=incident.date,
                gender=person.gender,
                recruitment=person.recruitment,
                created_by=user if getattr(user, "pk", None) else None,
            )
            audit.record(
                "registry:propose",
                actor=user,
                obj=case,
                after=snapshot(case) | {"incident": incident.reference},
            )
            made.append(case)
            if case.sexual_violence and not has_focal_point(case.organisation_id):
                recipients = _org_admin_emails(case.organisation_id)
                audit.record(
                    "registry:intake:no_focal_point",
                    actor=user,
                    obj=case,
                    after={"organisation": case.organisation_id, "admins_told": len(recipients)},
                )
                waiting.append((case, recipients))
    # After the transaction, as for break-glass: mail is not rolled back.
    for case, recipients in waiting:
        _tell_admins_no_focal_point(case, recipients)
    return made


def _tell_admins_no_focal_point(case: Case, recipients: list[str]):
    """Only the pseudonymous reference leaves the system: not the offence, nor the person."""
    from django.conf import settings
    from django.core.mail import send_mail

    if not recipients:
        return
    send_mail(
        _("Restricted case %(ref)s waits for a survivor focal point") % {"ref": case.reference},
        _(
            "A restricted case, %(ref)s, was proposed for %(org)s. No case officer can see it "
            "until a survivor focal point is designated: only they see restricted proposals "
            "and take them on.\n\nDesignate one or more case officers on the registry's "
            "survivor focal points page (%(path)s).\n"
        )
        % {
            "ref": case.reference,
            "org": case.organisation.acronym,
            "path": absolute_url("registry:focal_points"),
        },
        settings.DEFAULT_FROM_EMAIL,
        recipients,
    )


def on_incident_submitted(sender, incident, user=None, **kwargs):
    """Receiver of ``salama.incidents.signals.incident_submitted``.

    Runs after the submission committed, so a failure here must not turn a saved submission
    into an error page: it is logged, and ``salama registry propose`` catches up (it is
    idempotent)."""
    try:
        propose_for_incident(incident, user)
    except Exception:
        logger.exception("registry: proposing cases for %s failed", incident.reference)


def accept(case: Case, user, reason: str = "") -> Case:
    """A case officer of the organisation takes the proposal on: the case opens, the officer
    owns it, and for sexual violence becomes its first named officer."""
    if not is_case_officer(user, case.organisation_id):
        raise PermissionDenied(_("Only a case officer of the organisation can accept a case."))
    with transaction.atomic():
        case, before = _lock(case.pk, user, None)
        if case.status != rc.CaseStatus.PROPOSED:
            raise CaseError(_("%(ref)s is not a proposal.") % {"ref": case.reference})
        today = timezone.localdate()
        Case.objects.filter(pk=case.pk).update(
            status=rc.CaseStatus.OPEN,
            decision_reason=reason.strip(),
            decided_by=user,
            decided_at=timezone.now(),
            owner=user,
            opened_on=today,
            last_movement=today,
        )
        if case.sexual_violence:
            CaseOfficer.objects.get_or_create(case=case, user=user, defaults={"named_by": user})
        return _bump(case, user, "registry:accept", before)


def decline(case: Case, user, reason: str) -> Case:
    if not is_case_officer(user, case.organisation_id):
        raise PermissionDenied(_("Only a case officer of the organisation can decline a case."))
    if len(reason.strip()) < MIN_REASON_LENGTH:
        raise ValidationError({"reason": _("Say why the case is declined.")})
    with transaction.atomic():
        case, before = _lock(case.pk, user, None)
        if case.status != rc.CaseStatus.PROPOSED:
            raise CaseError(_("%(ref)s is not a proposal.") % {"ref": case.reference})
        Case.objects.filter(pk=case.pk).update(
            status=rc.CaseStatus.DECLINED,
            decision_reason=reason.strip(),
            decided_by=user,
            decided_at=timezone.now(),
        )
        return _bump(case, user, "registry:decline", before)


# --------------------------------------------------------------------------- create and edit


def _check_fields(fields: dict):
    unknown = set(fields) - set(CASE_FIELDS)
    if unknown:
        raise ValueError(f"not case fields: {sorted(unknown)}")
    if fields.get("offence") == rc.Offence.SEXUAL_ASSAULT:
        fields["sexual_violence"] = True
    date = fields.get("date")
    if date and date > timezone.localdate():
        raise ValidationError({"date": _("The date of the offence cannot be in the future.")})


def create_case(*, user, organisation, fields: dict, identity: dict | None = None) -> Case:
    """A case opened by hand by a case officer of ``organisation``."""
    if not is_case_officer(user, organisation.pk):
        raise PermissionDenied(
            _("Only a case officer of %(org)s can open its cases.") % {"org": organisation}
        )
    fields = dict(fields)
    _check_fields(fields)
    today = timezone.localdate()
    with transaction.atomic():
        case = Case(
            reference=new_reference(),
            organisation=organisation,
            status=rc.CaseStatus.OPEN,
            owner=user,
            opened_on=today,
            last_movement=today,
            created_by=user,
            decided_by=user,
            decided_at=timezone.now(),
            **fields,
        )
        case.full_clean(exclude=["reference"])
        case.save()
        if case.sexual_violence:
            CaseOfficer.objects.create(case=case, user=user, named_by=user)
        if identity:
            record = Identity(case=case)
            record.seal(identity)
            record.save()
        audit.record("registry:create", actor=user, obj=case, after=snapshot(case))
    return case


def update_case(
    case_id: int,
    *,
    user,
    expected_version: int,
    fields: dict | None = None,
    detention: dict | None = None,
    abduction: dict | None = None,
) -> Case:
    """Apply an edit made on ``expected_version``; a stale one raises :class:`StaleEdit`
    with the fields changed meanwhile, and nothing is written."""
    fields = dict(fields or {})
    _check_fields(fields)
    with transaction.atomic():
        case, before = _lock(case_id, user, expected_version)
        if case.status in (rc.CaseStatus.DECLINED,):
            raise CaseError(_("A declined case cannot be edited."))
        if case.offence == rc.Offence.SEXUAL_ASSAULT or case.sexual_violence:
            # Lifting the restriction would widen who sees a survivor's case.
            fields["sexual_violence"] = True
        for name, value in fields.items():
            setattr(case, name, value)
        case.full_clean()
        case.save()
        if detention is not None:
            record = Detention.objects.filter(case=case).first() or Detention(case=case)
            for name in DETENTION_FIELDS:
                if name in detention:
                    setattr(record, name, detention[name])
            _check_detention(case, record)
            record.full_clean()
            record.save()
        if abduction is not None:
            record = Abduction.objects.filter(case=case).first() or Abduction(case=case)
            for name in ABDUCTION_FIELDS:
                if name in abduction:
                    setattr(record, name, abduction[name])
            _check_abduction(case, record)
            record.full_clean()
            record.save()
        after = snapshot(case)
        after["version"] = before["version"]
        if audit.changes(before, after):
            return _bump(case, user, "registry:change", before)
    return case


def _check_detention(case, record):
    errors = {}
    today = timezone.localdate()
    for name in ("notified_on", "medical_access_on", "legal_access_on", "release_date"):
        value = getattr(record, name)
        if value and value > today:
            errors[name] = _("This date is in the future.")
        elif value and value < case.date:
            errors[name] = _("This date is before the arrest (%(date)s).") % {"date": case.date}
    if errors:
        raise ValidationError(errors)


def _check_abduction(case, record):
    errors = {}
    today = timezone.localdate()
    dates = []
    for value in record.proof_of_life or []:
        day = value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value)
        if day > today or day < case.date:
            errors["proof_of_life"] = _(
                "Proof-of-life dates must fall between the abduction and today."
            )
        dates.append(day.isoformat())
    record.proof_of_life = sorted(set(dates))
    if record.release_date and (record.release_date > today or record.release_date < case.date):
        errors["release_date"] = _("The release date must fall between the abduction and today.")
    resolved = record.outcome != rc.AbductionOutcome.UNRESOLVED
    if record.outcome in (rc.AbductionOutcome.RELEASED, rc.AbductionOutcome.RESCUED) and not (
        record.release_date
    ):
        errors["release_date"] = _("Give the release date for this outcome.")
    if record.release_date and not resolved:
        errors["outcome"] = _("A release date needs an outcome other than unresolved.")
    if errors:
        raise ValidationError(errors)


def close_case(case: Case, user, *, expected_version: int, reason: str) -> Case:
    if len(reason.strip()) < MIN_REASON_LENGTH:
        raise ValidationError({"reason": _("Say why the case is closed.")})
    with transaction.atomic():
        case, before = _lock(case.pk, user, expected_version)
        _require_active(case)
        Case.objects.filter(pk=case.pk).update(
            status=rc.CaseStatus.CLOSED, closed_on=timezone.localdate(), decision_reason=reason
        )
        return _bump(case, user, "registry:close", before)


def reopen_case(case: Case, user, *, expected_version: int) -> Case:
    with transaction.atomic():
        case, before = _lock(case.pk, user, expected_version)
        if case.status != rc.CaseStatus.CLOSED:
            raise CaseError(_("Only a closed case can be reopened."))
        Case.objects.filter(pk=case.pk).update(
            status=rc.CaseStatus.OPEN, closed_on=None, last_movement=timezone.localdate()
        )
        return _bump(case, user, "registry:reopen", before)


# ------------------------------------------------------------------------------- identity


def read_identity(case: Case, user, *, purpose: str = "view") -> dict | None:
    """The person's identity, for someone allowed to see it; every read is audited."""
    _require_open(user, case)
    record = Identity.objects.filter(case=case).first()
    if record is None:
        return None
    data = record.open()
    audit.record(
        "registry:identity:view",
        actor=user,
        obj=case,
        after={"purpose": purpose, "fields": [k for k, v in data.items() if v]},
    )
    return data


def set_identity(case: Case, user, *, expected_version: int, data: dict) -> Case:
    with transaction.atomic():
        case, before = _lock(case.pk, user, expected_version)
        _require_taken_on(case)
        record = Identity.objects.filter(case=case).first() or Identity(case=case)
        record.seal(data)
        record.save()
        return _bump(case, user, "registry:identity:change", before)


# ------------------------------------------------------------------------ consent, access


def has_consent(case: Case, use: str) -> bool:
    """The newest consent recorded for ``use`` (a refusal after consent withdraws it)."""
    latest = case.consents.filter(use=use).order_by("-recorded_on", "-id").first()
    return bool(latest and latest.given)


def consent_status(case: Case) -> dict:
    """Each use → the newest consent recorded for it, or None when nobody has asked yet."""
    latest = {}
    for consent in case.consents.order_by("recorded_on", "id"):
        latest[consent.use] = consent
    return {rc.ConsentUse(use): latest.get(use) for use in rc.ConsentUse.values}


def _require_consent(case: Case, use: str, field: str, message):
    """A use of a restricted case that the survivor has not (or no longer) consented to."""
    if case.sexual_violence and not has_consent(case, use):
        raise ValidationError({field: message})


def record_consent(case: Case, user, *, use: str, given: bool, recorded_on, note="") -> Consent:
    _require_open(user, case)
    _require_taken_on(case)
    if recorded_on > timezone.localdate():
        raise ValidationError({"recorded_on": _("This date is in the future.")})
    with transaction.atomic():
        consent = Consent.objects.create(
            case=case,
            use=use,
            given=given,
            recorded_on=recorded_on,
            note=note,
            recorded_by=user,
        )
        audit.record(
            "registry:consent",
            actor=user,
            obj=case,
            after={"use": use, "given": given, "recorded_on": recorded_on},
        )
    return consent


def name_officer(case: Case, by, officer) -> CaseOfficer:
    """Name a case officer of the organisation on a restricted case. The owner, an officer
    already named, or an organisation admin may do it."""
    allowed = (
        case.owner_id == by.pk
        or is_named(by, case)
        or has_role(by, case.organisation_id, Role.ORG_ADMIN)
    )
    if not allowed:
        raise PermissionDenied(_("Only the owner or a named officer can name another officer."))
    if not has_role(officer, case.organisation_id, Role.CASE_OFFICER):
        raise ValidationError(
            {"officer": _("Only case officers of the organisation can be named.")}
        )
    others = case.named_officers.exclude(user=officer)
    if others.exists() and not is_named(officer, case):
        # The first officer (the one who took the case on) needs no consent; widening the
        # circle does. Break-glass stays possible without it: it is the emergency path.
        _require_consent(
            case,
            rc.ConsentUse.SHARING,
            "officer",
            _(
                "The survivor has not consented to sharing the case beyond the named "
                "officers: record that consent before naming another officer."
            ),
        )
    with transaction.atomic():
        named, created = CaseOfficer.objects.get_or_create(
            case=case, user=officer, defaults={"named_by": by}
        )
        if created:
            audit.record("registry:name_officer", actor=by, obj=case, after={"officer": officer.pk})
    return named


def break_glass(case: Case, user, reason: str) -> BreakGlass:
    """Emergency access to a restricted case for a case officer of its organisation who is
    not named on it: asks for a reason, lasts BREAK_GLASS_HOURS, is written to the audit log
    and e-mailed to the organisation's admins."""
    from django.conf import settings
    from django.core.mail import send_mail

    if not Case.objects.reachable_for_break_glass(user).filter(pk=case.pk).exists():
        raise PermissionDenied(_("Emergency access is for the organisation's case officers."))
    reason = reason.strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise ValidationError({"reason": _("Say why you need emergency access.")})
    now = timezone.now()
    with transaction.atomic():
        grant = BreakGlass.objects.create(
            case=case,
            user=user,
            reason=reason,
            at=now,
            expires_at=now + datetime.timedelta(hours=BREAK_GLASS_HOURS),
        )
        audit.record(
            "registry:break_glass",
            actor=user,
            obj=case,
            after={"reason": reason, "expires_at": grant.expires_at},
        )
    recipients = _org_admin_emails(case.organisation_id)
    if recipients:
        send_mail(
            _("Emergency access to restricted case %(ref)s") % {"ref": case.reference},
            _(
                "%(user)s used emergency (break-glass) access to restricted case %(ref)s "
                "at %(at)s, until %(until)s.\n\nReason given: %(reason)s\n\n"
                "Review it in the emergency access log: %(log)s\n"
            )
            % {
                "user": user.get_username(),
                "ref": case.reference,
                "at": f"{now:%Y-%m-%d %H:%M} UTC",
                "until": f"{grant.expires_at:%Y-%m-%d %H:%M} UTC",
                "reason": reason,
                "log": absolute_url("registry:break_glass_log"),
            },
            settings.DEFAULT_FROM_EMAIL,
            recipients,
        )
    return grant


# ------------------------------------------------------------------ organisation admins


def has_focal_point(organisation_id: int) -> bool:
    return SurvivorFocalPoint.objects.filter(organisation_id=organisation_id).exists()


def designate_focal_point(organisation, user, by) -> SurvivorFocalPoint:
    """An organisation admin designates one of its case officers to take in proposed
    sexual-violence cases. Designating someone already designated changes nothing."""
    if not is_org_admin(by, organisation.pk):
        raise PermissionDenied(
            _("Only an admin of %(org)s can designate its survivor focal points.")
            % {"org": organisation}
        )
    if not has_role(user, organisation.pk, Role.CASE_OFFICER):
        raise ValidationError(
            {"user": _("Only case officers of the organisation can be survivor focal points.")}
        )
    with transaction.atomic():
        focal, created = SurvivorFocalPoint.objects.get_or_create(
            organisation=organisation, user=user, defaults={"designated_by": by}
        )
        if created:
            audit.record(
                "registry:focal_point:designate",
                actor=by,
                obj=organisation,
                after={"user": user.pk, "username": user.get_username()},
            )
    return focal


def undesignate_focal_point(organisation, user, by) -> bool:
    """Remove a designation; cases the officer was already named on stay theirs."""
    if not is_org_admin(by, organisation.pk):
        raise PermissionDenied(
            _("Only an admin of %(org)s can change its survivor focal points.")
            % {"org": organisation}
        )
    with transaction.atomic():
        removed, _n = SurvivorFocalPoint.objects.filter(
            organisation=organisation, user=user
        ).delete()
        if removed:
            audit.record(
                "registry:focal_point:remove",
                actor=by,
                obj=organisation,
                before={"user": user.pk, "username": user.get_username()},
            )
    return bool(removed)


def review_break_glass(grant: BreakGlass, by) -> BreakGlass:
    """An admin of the case's organisation marks a break-glass use as looked at."""
    organisation_id = grant.case.organisation_id
    if not is_org_admin(by, organisation_id):
        raise PermissionDenied(
            _("Only an admin of the case's organisation can review emergency access.")
        )
    with transaction.atomic():
        grant = BreakGlass.objects.select_for_update().select_related("case").get(pk=grant.pk)
        if grant.reviewed_at is not None:
            raise CaseError(
                _("This emergency access was already reviewed by %(user)s on %(at)s.")
                % {
                    "user": grant.reviewed_by.get_username() if grant.reviewed_by else "—",
                    "at": f"{grant.reviewed_at:%Y-%m-%d %H:%M} UTC",
                }
            )
        grant.reviewed_by = by
        grant.reviewed_at = timezone.now()
        grant.save(update_fields=["reviewed_by", "reviewed_at"])
        audit.record(
            "registry:break_glass:review",
            actor=by,
            obj=grant.case,
            after={
                "break_glass": grant.pk,
                "user": grant.user_id,
                "at": grant.at,
                "reviewed_at": grant.reviewed_at,
            },
        )
    return grant


# --------------------------------------------------------------------- follow-up, milestones


def _moved(case: Case, day: datetime.date):
    """Move the overdue clock forward to ``day`` (never backward)."""
    if case.last_movement is None or day > case.last_movement:
        Case.objects.filter(pk=case.pk).update(last_movement=day)
        case.last_movement = day


def add_follow_up(case: Case, user, data: dict) -> FollowUp:
    """Log one step with the host Government. On a sexual-violence case the survivor must
    have consented to the authorities being involved."""
    _require_open(user, case)
    _require_active(case)
    if case.sexual_violence and not has_consent(case, rc.ConsentUse.AUTHORITIES):
        raise CaseError(
            _(
                "The survivor has not consented to follow-up with the authorities: "
                "record the consent first."
            )
        )
    today = timezone.localdate()
    errors = {}
    if data["date"] > today:
        errors["date"] = _("This date is in the future.")
    if data.get("response_received") and not data.get("response_date"):
        errors["response_date"] = _("Give the date the response was received.")
    if data.get("response_date"):
        if not data.get("response_received"):
            data["response_received"] = True
        if data["response_date"] > today:
            errors["response_date"] = _("This date is in the future.")
        elif data["response_date"] < data["date"]:
            errors["response_date"] = _("The response cannot come before the request.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        entry = FollowUp(case=case, recorded_by=user, **data)
        entry.full_clean()
        entry.save()
        if entry.response_date:
            _moved(case, entry.response_date)
        audit.record(
            "registry:follow_up",
            actor=user,
            obj=case,
            after=audit.snapshot(entry, exclude=("created_at",)),
        )
    return entry


def record_response(entry: FollowUp, user, *, response_date, summary: str = "") -> FollowUp:
    """A response arrived to an earlier step."""
    case = entry.case
    _require_open(user, case)
    if response_date > timezone.localdate() or response_date < entry.date:
        raise ValidationError(
            {"response_date": _("The response date must fall between the request and today.")}
        )
    with transaction.atomic():
        FollowUp.objects.filter(pk=entry.pk).update(
            response_received=True,
            response_date=response_date,
            summary=(entry.summary + "\n\n" + summary).strip() if summary else entry.summary,
        )
        entry.refresh_from_db()
        _moved(case, response_date)
        audit.record(
            "registry:response",
            actor=user,
            obj=case,
            after={"follow_up": entry.pk, "response_date": response_date},
        )
    return entry


def add_milestone(case: Case, user, *, stage: str, date, evidence: str) -> Milestone:
    """Record the next justice milestone. Milestones go forward only (steps may be
    skipped when the authorities say nothing of them); an outcome ends the sequence."""
    _require_open(user, case)
    _require_active(case)
    if not evidence.strip():
        raise ValidationError({"evidence": _("Say what shows this milestone was reached.")})
    _require_consent(
        case,
        rc.ConsentUse.AUTHORITIES,
        "stage",
        _(
            "The survivor has not consented to the authorities being involved: record that "
            "consent before recording a justice milestone."
        ),
    )
    if stage in rc.NEEDS_LEGAL_CONSENT:
        _require_consent(
            case,
            rc.ConsentUse.LEGAL,
            "stage",
            _(
                "The survivor has not consented to legal proceedings: record that consent "
                "before recording a charge, a trial or a verdict."
            ),
        )
    with transaction.atomic():
        Case.objects.select_for_update().filter(pk=case.pk).first()
        last = case.milestones.order_by("-date", "-id").first()
        highest = max((m.rank for m in case.milestones.all()), default=0)
        rank = rc.STAGE_RANK[rc.Stage(stage)]
        if highest and highest >= rc.STAGE_RANK[rc.Stage.CONVICTED]:
            raise CaseError(_("This case already has an outcome; no milestone can follow it."))
        if rank <= highest:
            raise CaseError(
                _("Milestones go in order: %(stage)s cannot follow %(last)s.")
                % {"stage": rc.Stage(stage).label, "last": last.get_stage_display()}
            )
        if date > timezone.localdate():
            raise ValidationError({"date": _("This date is in the future.")})
        if last and date < last.date:
            raise ValidationError(
                {
                    "date": _("This date is before the previous milestone (%(date)s).")
                    % {"date": last.date}
                }
            )
        if date < case.date:
            raise ValidationError({"date": _("This date is before the offence.")})
        milestone = Milestone.objects.create(
            case=case, stage=stage, date=date, evidence=evidence.strip(), recorded_by=user
        )
        _moved(case, date)
        audit.record(
            "registry:milestone",
            actor=user,
            obj=case,
            after={"stage": stage, "date": date, "evidence": evidence.strip()},
        )
    return milestone


def current_stage(case: Case) -> Milestone | None:
    return max(case.milestones.all(), key=lambda m: (m.rank, m.date), default=None)


# ------------------------------------------------------------------------------ timeline


def timeline(case: Case) -> list[dict]:
    """Everything that happened on the case, oldest first, as (date, kind, object)."""
    items = [{"date": case.date, "kind": "offence", "obj": case}]
    if case.opened_on:
        items.append({"date": case.opened_on, "kind": "opened", "obj": case})
    for entry in case.follow_ups.all():
        items.append({"date": entry.date, "kind": "follow_up", "obj": entry})
        if entry.response_date:
            items.append({"date": entry.response_date, "kind": "response", "obj": entry})
    for milestone in case.milestones.all():
        items.append({"date": milestone.date, "kind": "milestone", "obj": milestone})
    for consent in case.consents.all():
        items.append({"date": consent.recorded_on, "kind": "consent", "obj": consent})
    for grant in case.break_glass.all():
        items.append({"date": timezone.localdate(grant.at), "kind": "break_glass", "obj": grant})
    for document in case.documents.all():
        items.append(
            {"date": timezone.localdate(document.uploaded_at), "kind": "document", "obj": document}
        )
    if case.closed_on:
        items.append({"date": case.closed_on, "kind": "closed", "obj": case})
    order = {"offence": 0, "opened": 1}
    return sorted(items, key=lambda i: (i["date"], order.get(i["kind"], 5)))
