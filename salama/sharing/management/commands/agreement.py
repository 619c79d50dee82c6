import csv
import datetime
import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from salama.core.commands import user_named
from salama.organisations.models import Organisation
from salama.sharing import agreements
from salama.sharing.figures import COLUMNS, figures
from salama.sharing.models import Agreement


def term(agreement: Agreement) -> str:
    if agreement.ends_on:
        return f"{agreement.starts_on:%Y-%m-%d} to {agreement.ends_on:%Y-%m-%d}"
    return f"from {agreement.starts_on:%Y-%m-%d}"


class Command(BaseCommand):
    help = (
        "Sharing agreements (Saving Lives Together) between two organisations. 'propose', "
        "'accept', 'decline' and 'end' act as the user named by --as, who must be an "
        "organisation admin of the right side (as on the pages); each step is audited. "
        "'figures' prints what an agreement shares as figures, small cells suppressed; 'remind' "
        "(daily) tells both sides' admins of agreements that end within "
        "SALAMA_SHARING_EXPIRY_NOTICE_DAYS days."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        listing = actions.add_parser("list", help="the agreements, newest proposal first")
        listing.add_argument("--organisation", metavar="ACRONYM", help="either side")
        listing.add_argument("--state", choices=Agreement.State.values)

        propose = actions.add_parser("propose", help="offer a provider's data to a recipient")
        propose.add_argument("--provider", required=True, metavar="ACRONYM")
        propose.add_argument("--recipient", required=True, metavar="ACRONYM")
        propose.add_argument("--level", required=True, choices=Agreement.Level.values)
        propose.add_argument("--purpose", required=True, help="the need to know it serves")
        propose.add_argument(
            "--countries", default="", help="ISO codes, comma-separated (default: every country)"
        )
        propose.add_argument("--starts", metavar="YYYY-MM-DD", help="default: today")
        propose.add_argument("--ends", metavar="YYYY-MM-DD", help="default: no end")
        propose.add_argument(
            "--narratives", action="store_true", help="redacted level: share the narratives"
        )
        propose.add_argument(
            "--assessments",
            action="store_true",
            help="full level: also share the provider's approved TLP:AMBER security risk "
            "assessments (read-only) in the same countries",
        )
        propose.add_argument("--as", dest="username", required=True, metavar="USERNAME")

        for name, text, reason in (
            ("accept", "the recipient accepts a proposal", False),
            ("decline", "the recipient declines a proposal", True),
            ("end", "either side ends an agreement or withdraws a proposal", True),
        ):
            step = actions.add_parser(name, help=text)
            step.add_argument("agreement_id", metavar="ID")
            if reason:
                step.add_argument("--reason", default="")
            step.add_argument("--as", dest="username", required=True, metavar="USERNAME")

        actions.add_parser(
            "remind",
            help="tell both sides' admins of agreements ending soon (run it daily)",
        )

        shared = actions.add_parser("figures", help="an agreement's figures, small cells hidden")
        shared.add_argument("agreement_id", metavar="ID")
        shared.add_argument("--format", choices=["csv", "json"], default="csv")

    def handle(self, *args, action, **options):
        try:
            return getattr(self, "do_" + action)(**options)
        except agreements.AgreementError as exc:
            raise CommandError(str(exc)) from None

    def do_list(self, organisation=None, state=None, **options):
        found = Agreement.objects.select_related("provider", "recipient")
        if organisation:
            found = found.involving([_organisation(organisation).pk])
        if state and state not in Agreement.State.values:
            raise CommandError(f"Unknown state {state!r}: choose {', '.join(Agreement.State)}.")
        today = timezone.localdate()
        rows = [
            (
                str(a.pk),
                f"{a.provider.acronym} → {a.recipient.acronym}",
                a.level,
                ",".join(a.countries) or "all",
                term(a),
                str(a.state(today)),
            )
            for a in found
            if not state or a.state(today) == state
        ]
        if not rows:
            self.stderr.write("No agreements.")
            return
        header = ("id", "provider → recipient", "level", "countries", "term", "state")
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            self.stdout.write("  ".join(cells).rstrip())

    def do_propose(self, **options):
        by = _user(options["username"])
        agreement = agreements.propose(
            _organisation(options["provider"]),
            _organisation(options["recipient"]),
            level=options["level"],
            purpose=options["purpose"],
            by=by,
            countries=(options.get("countries") or "").split(","),
            starts_on=_date(options.get("starts"), "--starts"),
            ends_on=_date(options.get("ends"), "--ends"),
            narratives=options.get("narratives", False),
            assessments=options.get("assessments", False),
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Agreement {agreement.pk} proposed: {agreement} ({term(agreement)}). "
                f"An organisation admin of {agreement.recipient.acronym} accepts or declines it."
            )
        )

    def do_accept(self, agreement_id, username, **options):
        agreement = agreements.accept(_agreement(agreement_id), by=_user(username))
        self.stdout.write(
            self.style.SUCCESS(
                f"Agreement {agreement.pk} accepted: {agreement} ({term(agreement)}), "
                f"{agreement.get_state_display().lower()}."
            )
        )

    def do_decline(self, agreement_id, username, reason="", **options):
        agreement = agreements.decline(_agreement(agreement_id), by=_user(username), reason=reason)
        self.stdout.write(self.style.SUCCESS(f"Agreement {agreement.pk} declined: {agreement}."))

    def do_end(self, agreement_id, username, reason="", **options):
        agreement = agreements.end(_agreement(agreement_id), by=_user(username), reason=reason)
        self.stdout.write(self.style.SUCCESS(f"Agreement {agreement.pk} ended: {agreement}."))

    def do_remind(self, **options):
        told = agreements.remind()
        for agreement in told:
            self.stdout.write(
                f"{agreement.pk}: {agreement.provider.acronym} → {agreement.recipient.acronym} "
                f"ends on {agreement.ends_on.isoformat()}: both sides' admins told"
            )
        self.stdout.write(f"{len(told)} agreement(s) ending soon; admins told.")

    def do_figures(self, agreement_id, format="csv", **options):
        """An operator's view: the figures as the recipient would get them (suppressed), whatever
        the agreement's state, which goes to stderr so the CSV or JSON stays clean."""
        agreement = _agreement(agreement_id)
        rows = figures(agreement)
        if agreement.state() != Agreement.State.IN_FORCE:
            self.stderr.write(
                f"Agreement {agreement.pk} is {agreement.get_state_display().lower()}: "
                "nothing is shared under it now."
            )
        if format == "json":
            self.stdout.write(json.dumps(rows, indent=2))
            return
        hidden = f"<{settings.SHARING_MIN_CELL}"
        writer = csv.writer(self.stdout, lineterminator="\n")
        writer.writerow(["country", "year", *COLUMNS])
        for row in rows:
            writer.writerow(
                [
                    row["country"],
                    row["year"],
                    *(hidden if row[name] is None else row[name] for name in COLUMNS),
                ]
            )


def _organisation(acronym: str) -> Organisation:
    try:
        return Organisation.objects.get(acronym__iexact=acronym)
    except Organisation.DoesNotExist:
        raise CommandError(f"No organisation {acronym!r}.") from None


def _user(username: str):
    """Only an active user may act: a deactivated admin (or an API key's own user, deactivated
    when the key is revoked) must not agree to anything."""
    if not username:
        raise CommandError("Say who acts, with --as USERNAME.")
    return user_named(username, active=True)


def _agreement(agreement_id) -> Agreement:
    try:
        return Agreement.objects.select_related("provider", "recipient").get(pk=int(agreement_id))
    except (TypeError, ValueError, Agreement.DoesNotExist):
        raise CommandError(
            f"No agreement {agreement_id!r} (see 'salama agreement list')."
        ) from None


def _date(text: str | None, option: str) -> datetime.date | None:
    """Parsed here, not by argparse, so that the same clear error comes from the command line
    and from ``call_command`` (which passes keyword options unparsed)."""
    if not text:
        return None
    if isinstance(text, datetime.date):
        return text
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{option} must be a date like 2025-01-31, not {text!r}.") from None
