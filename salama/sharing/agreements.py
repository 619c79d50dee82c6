"""Sharing agreements: proposing, accepting, declining and ending them, and what they share.

The rules (Saving Lives Together, with FIRST TLP 2.0 markings):

- Only TLP:AMBER incidents past draft are shared by an agreement. TLP:CLEAR and TLP:GREEN are
  seen by every user of the instance already; TLP:AMBER+STRICT stays in its organisation and
  TLP:RED with its named recipients, whatever any agreement says (``core.markings``).
- The provider's organisation admin proposes; the recipient's organisation admin accepts or
  declines; an admin of either side ends it (a proposal may be withdrawn). Every step is in
  the audit log. Nothing is shared before acceptance, before ``starts_on`` or after ``ends_on``.
- Level ``full``: the recipient's members see the incidents as the provider's do, on every
  page, export and API (through ``Incident.objects.visible_to``, via ``incidents.grants``);
  with ``assessments``, also the provider's approved TLP:AMBER security risk assessments of
  areas in the agreement's countries, read-only (``Assessment.objects.visible_to``).
  Level ``redacted``: they see ``redaction.redact``'s form of each incident, on the shared
  pages and API only. Level ``aggregate``: figures only, small cells suppressed
  (``salama.sharing.figures``).
"""

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from salama.core import audit, geo, markings
from salama.incidents import choices as c
from salama.incidents import grants
from salama.incidents.models import Incident
from salama.organisations.choices import Role
from salama.organisations.models import has_role, organisation_ids
from salama.sharing.models import Agreement

CACHE = "_salama_agreements_in_force"


class AgreementError(Exception):
    """The agreement cannot be made or changed as asked; the message says why."""


def _clean_countries(countries) -> list[str]:
    cleaned = sorted({str(code).strip().upper() for code in countries or [] if str(code).strip()})
    unknown = [code for code in cleaned if not geo.is_country_code(code)]
    if unknown:
        raise AgreementError(
            _("Unknown country codes: %(codes)s (use ISO 3166 alpha-2).")
            % {"codes": ", ".join(unknown)}
        )
    return cleaned


def _unchangeable(agreement: Agreement) -> str:
    return _("This agreement can no longer change this way: it is “%(state)s”.") % {
        "state": agreement.get_state_display()
    }


def summary(agreement: Agreement) -> dict:
    """What the audit log keeps of an agreement."""
    return {
        "provider": agreement.provider.acronym,
        "recipient": agreement.recipient.acronym,
        "level": agreement.level,
        "countries": agreement.countries,
        "narratives": agreement.narratives,
        "assessments": agreement.assessments,
        "starts_on": agreement.starts_on.isoformat(),
        "ends_on": agreement.ends_on.isoformat() if agreement.ends_on else None,
        "state": agreement.state(),
    }


def propose(
    provider,
    recipient,
    *,
    level: str,
    purpose: str,
    by,
    countries=(),
    starts_on: datetime.date | None = None,
    ends_on: datetime.date | None = None,
    narratives: bool = False,
    assessments: bool = False,
) -> Agreement:
    """``provider`` offers to share with ``recipient``; ``by`` must administer ``provider``.

    ``assessments`` (the provider's security risk assessments too) holds only at the full
    level: a redacted or aggregate form of an assessment is not defined, so it is dropped.
    """
    if not has_role(by, provider.pk, Role.ORG_ADMIN):
        raise AgreementError(
            _("Only an organisation admin of %(organisation)s may offer its data.")
            % {"organisation": provider.acronym}
        )
    if provider.pk == recipient.pk:
        raise AgreementError(_("An organisation does not need an agreement with itself."))
    if level not in Agreement.Level.values:
        raise AgreementError(
            _("Unknown level %(level)r: choose full, redacted or aggregate.") % {"level": level}
        )
    purpose = (purpose or "").strip()
    if not purpose:
        raise AgreementError(_("Say what need to know the agreement serves (its purpose)."))
    starts_on = starts_on or timezone.localdate()
    if ends_on and ends_on < starts_on:
        raise AgreementError(_("The agreement cannot end before it starts."))
    agreement = Agreement(
        provider=provider,
        recipient=recipient,
        level=level,
        countries=_clean_countries(countries),
        narratives=bool(narratives) and level != Agreement.Level.AGGREGATE,
        assessments=bool(assessments) and level == Agreement.Level.FULL,
        starts_on=starts_on,
        ends_on=ends_on,
        purpose=purpose,
        proposed_by=by,
        proposed_at=timezone.now(),
    )
    with transaction.atomic():
        agreement.save()
        audit.record("agreement:propose", actor=by, obj=agreement, after=summary(agreement))
    return agreement


def _locked(agreement: Agreement) -> Agreement:
    return (
        Agreement.objects.select_for_update()
        .select_related("provider", "recipient")
        .get(pk=agreement.pk)
    )


def _change(agreement: Agreement, by, action: str, **values) -> None:
    """Set ``values`` on the (locked) agreement, save them, and audit the step."""
    before = summary(agreement)
    for name, value in values.items():
        setattr(agreement, name, value)
    agreement.save(update_fields=list(values))
    audit.record(
        f"agreement:{action}", actor=by, obj=agreement, before=before, after=summary(agreement)
    )


def accept(agreement: Agreement, *, by) -> Agreement:
    """The recipient's organisation admin accepts a proposal; it is in force from its start."""
    with transaction.atomic():
        agreement = _locked(agreement)
        if not has_role(by, agreement.recipient_id, Role.ORG_ADMIN):
            raise AgreementError(
                _("Only an organisation admin of %(organisation)s may accept it.")
                % {"organisation": agreement.recipient.acronym}
            )
        if agreement.state() != Agreement.State.PROPOSED:
            raise AgreementError(_unchangeable(agreement))
        _change(agreement, by, "accept", accepted_by=by, accepted_at=timezone.now())
    forget(by)
    return agreement


def decline(agreement: Agreement, *, by, reason: str = "") -> Agreement:
    """The recipient's organisation admin declines a proposal."""
    with transaction.atomic():
        agreement = _locked(agreement)
        if not has_role(by, agreement.recipient_id, Role.ORG_ADMIN):
            raise AgreementError(
                _("Only an organisation admin of %(organisation)s may decline it.")
                % {"organisation": agreement.recipient.acronym}
            )
        if agreement.state() != Agreement.State.PROPOSED:
            raise AgreementError(_unchangeable(agreement))
        _change(
            agreement,
            by,
            "decline",
            ended_by=by,
            ended_at=timezone.now(),
            declined=True,
            end_reason=(reason or "").strip(),
        )
    return agreement


def end(agreement: Agreement, *, by, reason: str = "") -> Agreement:
    """An admin of either side ends the agreement (or withdraws the proposal) now."""
    with transaction.atomic():
        agreement = _locked(agreement)
        sides = (agreement.provider_id, agreement.recipient_id)
        if not any(has_role(by, side, Role.ORG_ADMIN) for side in sides):
            raise AgreementError(_("Only an organisation admin of either side may end it."))
        if agreement.ended_at:
            raise AgreementError(_unchangeable(agreement))
        _change(
            agreement,
            by,
            "end",
            ended_by=by,
            ended_at=timezone.now(),
            end_reason=(reason or "").strip(),
        )
    forget(by)
    return agreement


def received(user, levels=None, today=None):
    """The agreements in force that share with an organisation ``user`` belongs to."""
    own = organisation_ids(user)
    found = Agreement.objects.in_force(today).received_by(own).exclude(provider_id__in=own)
    if levels:
        found = found.filter(level__in=list(levels))
    return found.select_related("provider", "recipient")


def in_force_for(user) -> list[Agreement]:
    """``received(user)`` as a list, read once per user object (a request): the door's grants
    and the menu both ask, and every page asks the door."""
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, CACHE, None)
    if cached is None:
        cached = list(received(user))
        setattr(user, CACHE, cached)
    return cached


def forget(user) -> None:
    """Drop what was read for ``user`` (an agreement of theirs changed in this request)."""
    if hasattr(user, CACHE):
        delattr(user, CACHE)
    grants.forget(user)


def full_grants(user) -> list[grants.Grant]:
    """``incidents.grants`` provider: the agreements in force at the full level, for the
    provider's incidents, and for its security risk assessments where the agreement says so."""
    found = []
    for agreement in in_force_for(user):
        if agreement.level != Agreement.Level.FULL:
            continue
        countries = tuple(agreement.countries) if agreement.countries else None
        found.append(grants.Grant(agreement.provider_id, countries, grants.INCIDENTS))
        if agreement.assessments:
            found.append(grants.Grant(agreement.provider_id, countries, grants.ASSESSMENTS))
    return found


def shareable(queryset=None):
    """Incidents any agreement may share: TLP:AMBER, past draft, not merged away."""
    queryset = Incident.objects.all() if queryset is None else queryset
    return queryset.filter(marking__in=markings.SHAREABLE).exclude(
        status__in=[c.Status.DRAFT, c.Status.MERGED]
    )


def covered_by(agreements) -> Q:
    """The incidents these agreements cover (before ``shareable``): their providers' in
    their countries."""
    found = Q(pk__in=[])
    for agreement in agreements:
        scope = Q(organisation_id=agreement.provider_id)
        if agreement.countries:
            scope &= Q(country__in=agreement.countries)
        found |= scope
    return found


def records(agreement: Agreement):
    """The incidents ``agreement`` shares (whatever its state: callers check it is in force
    and that the user belongs to its recipient)."""
    return shareable(Incident.objects.filter(covered_by([agreement])))


def remind(today=None, days: int | None = None) -> list[Agreement]:
    """Tell both sides' admins of every agreement in force whose term ends within ``days``
    (``settings.SHARING_EXPIRY_NOTICE_DAYS``) — once per agreement: run it daily
    (``salama agreement remind``). Returns the agreements whose admins were told; one whose
    mail failed is tried again the next day."""
    from salama.sharing import notices

    today = today or timezone.localdate()
    days = settings.SHARING_EXPIRY_NOTICE_DAYS if days is None else days
    due = Agreement.objects.in_force(today).filter(
        ends_on__isnull=False,
        ends_on__lte=today + datetime.timedelta(days=days),
        expiry_notice_sent_on__isnull=True,
    )
    told = []
    for agreement in due.select_related("provider", "recipient").order_by("ends_on", "pk"):
        if notices.expiring(agreement):
            Agreement.objects.filter(pk=agreement.pk).update(expiry_notice_sent_on=today)
            audit.record(
                "agreement:expiry_notice",
                obj=agreement,
                after={"ends_on": agreement.ends_on.isoformat()},
            )
            told.append(agreement)
    return told
