"""The daily digest of overdue cases, e-mailed to each case owner.

A case is overdue when it is open and nothing has moved (no response from the authorities, no
milestone) for REGISTRY_OVERDUE_DAYS (default 90) days. The e-mail carries case references
only — never a name, and for restricted (sexual-violence) cases not even the offence — since
mail leaves the system.
"""

from collections import defaultdict

from django.conf import settings
from django.core.mail import send_mass_mail
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from salama.core.links import absolute_url
from salama.organisations.choices import Role
from salama.organisations.models import Membership
from salama.registry.models import Case, SurvivorFocalPoint, overdue_days


def overdue_by_recipient(today=None) -> dict[str, list[Case]]:
    """E-mail address → overdue cases. A case without an owner (or whose owner has no
    address) goes to every case officer of its organisation, so that none goes silent; a
    restricted (sexual-violence) one only to the organisation's survivor focal points, or,
    where none is designated, to its admins, as a restricted proposal does."""
    today = today or timezone.localdate()
    digest: dict[str, list[Case]] = defaultdict(list)
    stand_ins: dict[tuple[int, bool], list[str]] = {}
    cases = Case.objects.overdue(today).select_related("owner").order_by("last_movement", "id")
    for case in cases.iterator(chunk_size=2000):
        if case.owner_id and case.owner.email:
            digest[case.owner.email].append(case)
            continue
        key = (case.organisation_id, case.sexual_violence)
        if key not in stand_ins:
            stand_ins[key] = _stand_ins(*key)
        for address in stand_ins[key]:
            digest[address].append(case)
    return dict(digest)


def _stand_ins(organisation_id: int, restricted: bool) -> list[str]:
    """The addresses that hear of an organisation's ownerless overdue cases."""
    if restricted:
        focal = SurvivorFocalPoint.objects.filter(organisation_id=organisation_id).exclude(
            user__email=""
        )
        if addresses := sorted(set(focal.values_list("user__email", flat=True))):
            return addresses
    role = Role.ORG_ADMIN if restricted else Role.CASE_OFFICER
    return sorted(
        set(
            Membership.objects.filter(organisation_id=organisation_id, role=role)
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
    )


def _line(case: Case, today) -> str:
    what = _("restricted case") if case.sexual_violence else case.get_offence_display()
    days = case.days_since_movement(today)
    line = ngettext(
        "%(ref)s — %(what)s, %(country)s — nothing moved for %(days)s day",
        "%(ref)s — %(what)s, %(country)s — nothing moved for %(days)s days",
        days,
    ) % {"ref": case.reference, "what": what, "country": case.country, "days": days}
    return f"{line}\n    {absolute_url('registry:detail', case.reference)}"


def send_reminders(today=None) -> dict:
    today = today or timezone.localdate()
    digest = overdue_by_recipient(today)
    messages = []
    for address, cases in sorted(digest.items()):
        body = "\n".join(
            [
                ngettext(
                    "These cases have had no response and no milestone for %(days)s day or "
                    "more. Please follow up with the authorities and record what happened.",
                    "These cases have had no response and no milestone for %(days)s days or "
                    "more. Please follow up with the authorities and record what happened.",
                    overdue_days(),
                )
                % {"days": overdue_days()},
                "",
                *(_line(case, today) for case in cases),
                "",
            ]
        )
        subject = ngettext(
            "Salama: %(n)s overdue case", "Salama: %(n)s overdue cases", len(cases)
        ) % {"n": len(cases)}
        messages.append((subject, body, settings.DEFAULT_FROM_EMAIL, [address]))
    sent = send_mass_mail(messages, fail_silently=False) if messages else 0
    return {
        "recipients": len(digest),
        "sent": sent,
        "cases": len({c.pk for cases in digest.values() for c in cases}),
    }
