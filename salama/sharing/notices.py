"""E-mails about sharing agreements, to the organisation admins of the other side.

A proposal goes to the recipient's admins (they decide); an acceptance or a refusal to the
provider's; an ending to the side that did not end it. The mail says which organisations,
which level, which countries and when, and links to the agreements page: it never carries an
incident. Like the registry's notices, it is sent after the change is committed (mail is not
rolled back), and a mail server that fails does not undo the change: the sender is told, so
they can let the other side know another way.
"""

import logging
import smtplib

from django.conf import settings
from django.core.mail import send_mail
from django.utils.translation import gettext as _

from salama.core.geo import country_name
from salama.core.links import absolute_url
from salama.core.lists import join_list
from salama.organisations.choices import Role
from salama.organisations.models import Membership, has_role
from salama.sharing.models import Agreement

logger = logging.getLogger(__name__)


def admin_emails(organisation_id: int, *, besides=None) -> list[str]:
    """The addresses of ``organisation_id``'s admins (without ``besides``, the actor)."""
    found = Membership.objects.filter(organisation_id=organisation_id, role=Role.ORG_ADMIN)
    if besides is not None and getattr(besides, "pk", None):
        found = found.exclude(user=besides)
    return sorted(set(found.exclude(user__email="").values_list("user__email", flat=True)))


def _other_side(agreement: Agreement, by) -> list[int]:
    """The sides ``by`` does not administer (an admin of both sides tells nobody)."""
    return [
        side
        for side in (agreement.provider_id, agreement.recipient_id)
        if not has_role(by, side, Role.ORG_ADMIN)
    ]


def _terms(agreement: Agreement) -> str:
    countries = (
        join_list([country_name(code) for code in agreement.countries])
        if agreement.countries
        else _("every country")
    )
    until = agreement.ends_on.isoformat() if agreement.ends_on else _("no end date")
    return _(
        "Shared by: %(provider)s\nShared with: %(recipient)s\nLevel: %(level)s\n"
        "Countries: %(countries)s\nIn force from %(starts)s until %(until)s\n"
        "Purpose: %(purpose)s\n"
    ) % {
        "provider": agreement.provider.acronym,
        "recipient": agreement.recipient.acronym,
        "level": agreement.get_level_display(),
        "countries": countries,
        "starts": agreement.starts_on.isoformat(),
        "until": until,
        "purpose": agreement.purpose,
    }


def _send(subject: str, body: str, recipients: list[str]) -> bool:
    """Send one mail; ``False`` when the mail server refused it (logged, not raised)."""
    if not recipients:
        return True
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    except (OSError, smtplib.SMTPException):
        logger.exception("Could not e-mail %d admins about a sharing agreement", len(recipients))
        return False
    return True


def proposed(agreement: Agreement) -> bool:
    """Tell the recipient's admins that a proposal waits for their answer."""
    return _send(
        _("%(provider)s proposes to share incident data with %(recipient)s")
        % {"provider": agreement.provider.acronym, "recipient": agreement.recipient.acronym},
        _(
            "%(user)s of %(provider)s proposes a sharing agreement with %(recipient)s. "
            "Nothing is shared until an organisation admin of %(recipient)s accepts it.\n\n"
            "%(terms)s\nAccept or decline it on the sharing agreements page: %(link)s\n"
        )
        % {
            "user": agreement.proposed_by.get_username() if agreement.proposed_by else "—",
            "provider": agreement.provider.acronym,
            "recipient": agreement.recipient.acronym,
            "terms": _terms(agreement),
            "link": absolute_url("sharing:agreements"),
        },
        admin_emails(agreement.recipient_id, besides=agreement.proposed_by),
    )


def answered(agreement: Agreement, by) -> bool:
    """Tell the other side that ``by`` accepted, declined or ended the agreement."""
    state = agreement.state()
    if agreement.declined:
        subject = _("%(recipient)s declined the sharing agreement with %(provider)s")
        opening = _("%(user)s of %(recipient)s declined the agreement. Nothing is shared.")
    elif agreement.ended_at:
        subject = _("The sharing agreement between %(provider)s and %(recipient)s has ended")
        opening = _("%(user)s ended the agreement. Nothing more is shared under it.")
    elif state == Agreement.State.SCHEDULED:
        subject = _("%(recipient)s accepted the sharing agreement with %(provider)s")
        opening = _(
            "%(user)s of %(recipient)s accepted the agreement. It comes into force on %(starts)s."
        )
    else:
        subject = _("%(recipient)s accepted the sharing agreement with %(provider)s")
        opening = _("%(user)s of %(recipient)s accepted the agreement. It is in force now.")
    names = {
        "user": by.get_username(),
        "provider": agreement.provider.acronym,
        "recipient": agreement.recipient.acronym,
        "starts": agreement.starts_on.isoformat(),
    }
    body = opening % names + "\n\n" + _terms(agreement)
    if agreement.ended_at and agreement.end_reason:
        body += _("Reason given: %(reason)s\n") % {"reason": agreement.end_reason}
    body += "\n" + _("See it on the sharing agreements page: %(link)s\n") % {
        "link": absolute_url("sharing:agreements")
    }
    recipients = sorted(
        {email for side in _other_side(agreement, by) for email in admin_emails(side, besides=by)}
    )
    return _send(subject % names, body, recipients)


def expiring(agreement: Agreement) -> bool:
    """Tell both sides' admins that the agreement's term ends soon (``agreements.remind``)."""
    names = {
        "provider": agreement.provider.acronym,
        "recipient": agreement.recipient.acronym,
        "ends": agreement.ends_on.isoformat(),
    }
    body = (
        _(
            "The sharing agreement between %(provider)s and %(recipient)s ends on %(ends)s. "
            "After that day nothing more is shared under it. To go on sharing, an organisation "
            "admin of %(provider)s proposes a new agreement, and one of %(recipient)s accepts it."
        )
        % names
    )
    body += "\n\n" + _terms(agreement) + "\n"
    body += _("See it on the sharing agreements page: %(link)s\n") % {
        "link": absolute_url("sharing:agreements")
    }
    recipients = sorted(
        set(admin_emails(agreement.provider_id)) | set(admin_emails(agreement.recipient_id))
    )
    return _send(
        _("The sharing agreement between %(provider)s and %(recipient)s ends on %(ends)s") % names,
        body,
        recipients,
    )
