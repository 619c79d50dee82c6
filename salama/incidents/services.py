"""What people do with incidents: create, edit, submit, endorse, close, merge.

Views, the API, importers and commands all call these functions, which check permissions,
keep the audit log and refuse stale edits. Every change runs in one transaction.
"""

import secrets

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from salama.core import audit
from salama.incidents import choices as c
from salama.incidents.models import (
    AffectedPerson,
    Incident,
    IncidentRecipient,
    ReportedTotal,
    RoadCrash,
    Source,
)
from salama.incidents.signals import incident_submitted
from salama.organisations.choices import Role
from salama.organisations.models import Membership, has_role, organisation_ids

REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
EDITOR_ROLES = (Role.REPORTER, Role.ENDORSER, Role.ORG_ADMIN)
# Fields a person may set; the rest are kept by the workflow.
WORKFLOW_FIELDS = {
    "id",
    "reference",
    "organisation_id",
    "reported_by_id",
    "status",
    "submitted_at",
    "endorsed_by_id",
    "endorsed_at",
    "closed_at",
    "merged_into_id",
    "version",
    "created_at",
    "updated_at",
}


class WorkflowError(Exception):
    """A status move that is not allowed from where the incident stands."""


class StaleEdit(Exception):
    """Someone else saved the incident after the editor loaded it."""

    def __init__(self, incident, changes: dict):
        self.incident = incident
        self.changes = changes
        super().__init__(
            _("%(ref)s was changed by someone else since you opened it.")
            % {"ref": incident.reference}
        )


def new_reference() -> str:
    return "SAL-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(10))


def full_snapshot(incident: Incident) -> dict:
    """The incident with its persons, totals, sources and road-crash facts, for history."""
    data = audit.snapshot(incident, exclude=("updated_at", "created_at"))
    data["persons"] = [
        audit.snapshot(p, exclude=("id", "incident_id")) for p in incident.persons.order_by("id")
    ]
    data["totals"] = [
        audit.snapshot(t, exclude=("id", "incident_id")) for t in incident.totals.order_by("id")
    ]
    data["sources"] = [
        audit.snapshot(s, exclude=("id", "incident_id", "content_hash"))
        for s in incident.sources.order_by("id")
    ]
    crash = RoadCrash.objects.filter(incident=incident).first()
    data["road_crash"] = audit.snapshot(crash, exclude=("id", "incident_id")) if crash else None
    data["recipients"] = sorted(incident.recipients.values_list("user_id", flat=True))
    return data


def can_edit(user, incident: Incident) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if incident.status in (c.Status.CLOSED, c.Status.MERGED):
        return False
    if incident.reported_by_id == user.pk:
        return True
    return any(has_role(user, incident.organisation_id, role) for role in EDITOR_ROLES)


def can_endorse(user, incident: Incident) -> bool:
    return (
        incident.status == c.Status.SUBMITTED
        and getattr(user, "is_authenticated", False)
        and user.pk != incident.reported_by_id
        and has_role(user, incident.organisation_id, Role.ENDORSER)
    )


def can_send_back(user, incident: Incident) -> bool:
    return incident.status == c.Status.SUBMITTED and has_role(
        user, incident.organisation_id, Role.ENDORSER
    )


def can_close(user, incident: Incident) -> bool:
    return incident.status == c.Status.ENDORSED and (
        has_role(user, incident.organisation_id, Role.ENDORSER)
        or has_role(user, incident.organisation_id, Role.ORG_ADMIN)
    )


MERGE_ROLES = (Role.ENDORSER, Role.ORG_ADMIN)


def can_merge(user, duplicate: Incident, survivor: Incident) -> bool:
    """Who may fold a duplicate into its survivor: someone who sees both and is an analyst
    (linkage's reviewers) or an endorser or admin of the duplicate's organisation."""
    if not getattr(user, "is_authenticated", False):
        return False
    visible = Incident.objects.visible_to(user).filter(pk__in=[duplicate.pk, survivor.pk])
    if visible.count() != 2:
        return False
    if Membership.objects.filter(user=user, role=Role.ANALYST).exists():
        return True
    return any(has_role(user, duplicate.organisation_id, role) for role in MERGE_ROLES)


def reporting_organisations(user):
    """The organisations ``user`` may report for (the rule of :func:`can_report_for`)."""
    from salama.organisations.models import Organisation

    if not getattr(user, "is_authenticated", False):
        return Organisation.objects.none()
    return (
        Organisation.objects.filter(memberships__user=user, memberships__role__in=EDITOR_ROLES)
        .distinct()
        .order_by("acronym")
    )


def can_report_for(user, organisation_id: int) -> bool:
    return organisation_id in organisation_ids(user) and any(
        has_role(user, organisation_id, role) for role in EDITOR_ROLES
    )


def eligible_recipients(organisation_id: int, reporter=None, named=()):
    """Who may be named on a TLP:RED incident: the active members of its organisation, and
    whoever is named already. Never the whole user directory: the list of another
    organisation's staff is not the reporter's to browse."""
    users = get_user_model().objects.filter(is_active=True)
    users = users.filter(
        Q(memberships__organisation_id=organisation_id) | Q(pk__in=list(named))
    ).distinct()
    if reporter is not None:  # the reporter always sees their own report
        users = users.exclude(pk=reporter.pk)
    return users.order_by("username")


def _replace_children(incident, persons, totals, sources, road_crash, recipients):
    if persons is not None:
        incident.persons.all().delete()
        AffectedPerson.objects.bulk_create(
            [AffectedPerson(incident=incident, **p) for p in persons]
        )
    if totals is not None:
        incident.totals.all().delete()
        ReportedTotal.objects.bulk_create([ReportedTotal(incident=incident, **t) for t in totals])
    if sources is not None:
        incident.sources.all().delete()
        Source.objects.bulk_create([Source(incident=incident, **s) for s in sources])
    if road_crash is not None:
        RoadCrash.objects.filter(incident=incident).delete()
        if road_crash:
            RoadCrash.objects.create(incident=incident, **road_crash)
    if recipients is not None:
        incident.recipients.all().delete()
        IncidentRecipient.objects.bulk_create(
            [IncidentRecipient(incident=incident, user=u) for u in recipients]
        )


def create_incident(
    *,
    user,
    organisation,
    fields: dict,
    persons: list[dict] = (),
    totals: list[dict] = (),
    sources: list[dict] = (),
    road_crash: dict | None = None,
    recipients=(),
    check_permission: bool = True,
) -> Incident:
    """Create a draft incident owned by ``organisation``, reported by ``user``."""
    if check_permission and not can_report_for(user, organisation.pk):
        raise PermissionDenied(
            _("You cannot report incidents for %(org)s.") % {"org": organisation}
        )
    with transaction.atomic():
        incident = Incident(
            reference=new_reference(),
            organisation=organisation,
            reported_by=user if getattr(user, "pk", None) else None,
            status=c.Status.DRAFT,
            **fields,
        )
        incident.full_clean(exclude=["reference"])
        incident.save()
        _replace_children(
            incident, list(persons), list(totals), list(sources), road_crash or {}, recipients
        )
        audit.record("create", actor=user, obj=incident, after=full_snapshot(incident))
    return incident


def _snapshot_at_version(incident: Incident, version: int) -> dict | None:
    from salama.core.models import AuditEntry

    for entry in AuditEntry.objects.filter(
        object_type=incident._meta.label_lower, object_id=str(incident.pk)
    ).order_by("-seq"):
        if entry.after and entry.after.get("version") == version:
            return entry.after
    return None


def update_incident(
    incident_id: int,
    *,
    user,
    expected_version: int,
    fields: dict | None = None,
    persons: list[dict] | None = None,
    totals: list[dict] | None = None,
    sources: list[dict] | None = None,
    road_crash: dict | None = None,
    recipients=None,
    action: str = "change",
    check_permission: bool = True,
) -> Incident:
    """Apply an edit made on ``expected_version``; refuse it if the record moved on since.

    ``None`` for a child list leaves it as it is; a list replaces it. Raises StaleEdit
    with the fields changed meanwhile, so the editor can see them and decide.
    """
    fields = dict(fields or {})
    forbidden = set(fields) & WORKFLOW_FIELDS
    if forbidden:
        raise ValueError(f"these fields are set by the workflow: {sorted(forbidden)}")
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident_id)
        if check_permission and not can_edit(user, incident):
            raise PermissionDenied(_("You cannot edit %(ref)s.") % {"ref": incident.reference})
        before = full_snapshot(incident)
        if incident.version != expected_version:
            seen = _snapshot_at_version(incident, expected_version) or {}
            raise StaleEdit(incident, audit.changes(seen, before))
        for name, value in fields.items():
            setattr(incident, name, value)
        incident.full_clean()
        incident.save()
        _replace_children(incident, persons, totals, sources, road_crash, recipients)
        after = full_snapshot(incident)
        if audit.changes(before, after):
            Incident.objects.filter(pk=incident.pk).update(version=F("version") + 1)
            incident.refresh_from_db()
            after["version"] = incident.version
            audit.record(action, actor=user, obj=incident, before=before, after=after)
        # An edit that changes nothing keeps the version and leaves no history entry.
    return incident


def _move(incident: Incident, user, *, to: str, allowed_from: tuple, stamp: dict) -> Incident:
    with transaction.atomic():
        current = Incident.objects.select_for_update().get(pk=incident.pk)
        if current.status not in allowed_from:
            raise WorkflowError(
                # Translators: the two quoted words are status names, e.g. "Draft" and
                # "Endorsed"; keep them quoted so no agreement with the sentence is needed.
                _("%(ref)s cannot move from “%(status)s” to “%(to)s”.")
                % {
                    "ref": current.reference,
                    "status": current.get_status_display(),
                    "to": c.Status(to).label,
                }
            )
        before = full_snapshot(current)
        current.status = to
        for name, value in stamp.items():
            setattr(current, name, value)
        current.version = F("version") + 1
        current.save()
        current.refresh_from_db()
        audit.record(
            f"status:{to}", actor=user, obj=current, before=before, after=full_snapshot(current)
        )
    return current


def submit(incident: Incident, user) -> Incident:
    if not can_edit(user, incident):
        raise PermissionDenied(_("You cannot submit %(ref)s.") % {"ref": incident.reference})
    if not incident.persons.exists() and not any(
        (incident.premises_hit, incident.vehicles_hit, incident.supplies_hit)
    ):
        raise WorkflowError(
            _(
                "Add at least one affected person, "
                "or say what premises, vehicles or supplies were hit."
            )
        )
    submitted = _move(
        incident,
        user,
        to=c.Status.SUBMITTED,
        allowed_from=(c.Status.DRAFT,),
        stamp={"submitted_at": timezone.now()},
    )
    transaction.on_commit(lambda: incident_submitted.send(Incident, incident=submitted, user=user))
    return submitted


def endorse(incident: Incident, user) -> Incident:
    """A second person, holding the endorser role in the owning organisation, confirms it."""
    if incident.reported_by_id is not None and user.pk == incident.reported_by_id:
        raise PermissionDenied(_("The person who reported an incident cannot endorse it."))
    if not has_role(user, incident.organisation_id, Role.ENDORSER):
        raise PermissionDenied(
            _("Only an endorser of %(org)s can endorse this incident.")
            % {"org": incident.organisation}
        )
    return _move(
        incident,
        user,
        to=c.Status.ENDORSED,
        allowed_from=(c.Status.SUBMITTED,),
        stamp={"endorsed_by": user, "endorsed_at": timezone.now()},
    )


def return_to_draft(incident: Incident, user) -> Incident:
    if not has_role(user, incident.organisation_id, Role.ENDORSER):
        raise PermissionDenied(_("Only an endorser can send an incident back."))
    return _move(
        incident,
        user,
        to=c.Status.DRAFT,
        allowed_from=(c.Status.SUBMITTED,),
        stamp={"submitted_at": None},
    )


def close(incident: Incident, user) -> Incident:
    if not (
        has_role(user, incident.organisation_id, Role.ENDORSER)
        or has_role(user, incident.organisation_id, Role.ORG_ADMIN)
    ):
        raise PermissionDenied(_("Only an endorser or organisation admin can close an incident."))
    return _move(
        incident,
        user,
        to=c.Status.CLOSED,
        allowed_from=(c.Status.ENDORSED,),
        stamp={"closed_at": timezone.now()},
    )


def merge(
    duplicate: Incident, survivor: Incident, user, *, check_permission: bool = True
) -> Incident:
    """Mark ``duplicate`` as merged into ``survivor``; its sources move to the survivor.

    Reversible: the audit entry keeps which sources moved. ``check_permission=False`` is for
    callers that applied their own rule first (linkage's review queue, automatic merges).
    """
    if check_permission and not can_merge(user, duplicate, survivor):
        raise PermissionDenied(
            _("You cannot merge %(dup)s into %(ref)s.")
            % {"dup": duplicate.reference, "ref": survivor.reference}
        )
    if duplicate.pk == survivor.pk:
        raise WorkflowError(_("An incident cannot be merged into itself."))
    if survivor.status == c.Status.MERGED:
        raise WorkflowError(_("%(ref)s is itself merged.") % {"ref": survivor.reference})
    with transaction.atomic():
        moved = list(duplicate.sources.values_list("pk", flat=True))
        Source.objects.filter(pk__in=moved).update(incident=survivor)
        merged = _move(
            duplicate,
            user,
            to=c.Status.MERGED,
            allowed_from=(c.Status.DRAFT, c.Status.SUBMITTED, c.Status.ENDORSED, c.Status.CLOSED),
            stamp={"merged_into": survivor},
        )
        audit.record(
            "merge",
            actor=user,
            obj=survivor,
            after={"merged": duplicate.reference, "moved_sources": moved},
        )
    return merged


def history(incident: Incident):
    """The audit entries of this incident, newest first, with what changed in each."""
    from salama.core.models import AuditEntry

    entries = AuditEntry.objects.filter(
        object_type=incident._meta.label_lower, object_id=str(incident.pk)
    ).order_by("-seq")
    for entry in entries:
        entry.changed = audit.changes(entry.before, entry.after) if entry.before else {}
        yield entry
