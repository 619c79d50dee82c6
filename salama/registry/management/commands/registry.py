import json

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from salama.registry import crypto, figures, reminders, rotation


class Command(BaseCommand):
    help = (
        "Victims-of-violence registry. 'rotate-key' re-encrypts every identity under the "
        "newest key (resumable); 'remind' e-mails case owners their overdue cases (run daily); "
        "'figures' prints the accountability figures; 'propose' proposes the cases of "
        "submitted incidents that have none yet; 'new-key' prints a fresh key; 'keys' counts "
        "identities per key."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        rotate = sub.add_parser("rotate-key", help="re-encrypt identities under the newest key")
        rotate.add_argument("--batch-size", type=int, default=rotation.DEFAULT_BATCH)
        sub.add_parser("remind", help="e-mail each case owner a digest of overdue cases")
        fig = sub.add_parser("figures", help="accountability figures per country and year")
        fig.add_argument("--year", type=int)
        fig.add_argument("--format", choices=["text", "json"], default="text")
        fig.add_argument("--as-of", help="count ages and days held up to this date (ISO)")
        sub.add_parser(
            "propose",
            help="propose missing cases for incidents submitted in Salama (not imported ones)",
        )
        sub.add_parser("new-key", help="print a new random key for SALAMA_ENCRYPTION_KEY")
        sub.add_parser("keys", help="how many identities each key seals")

    def handle(self, *args, action, **options):
        try:
            return getattr(self, "do_" + action.replace("-", "_"))(**options)
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        except crypto.CryptoError as exc:
            raise CommandError(f"cannot decrypt an identity: {exc}") from None

    def do_rotate_key(self, batch_size, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")

        def progress(result):
            self.stdout.write(f"batch {result.batches}: {result.rotated} re-encrypted")

        result = rotation.rotate(batch_size=batch_size, on_batch=progress)
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.rotated} identities and {result.documents} documents re-encrypted "
                f"under key {result.key_id}; "
                f"{result.remaining} remaining under older keys"
            )
        )

    def do_remind(self, **options):
        result = reminders.send_reminders()
        self.stdout.write(
            f"{result['cases']} overdue case(s); {result['sent']} digest(s) sent to "
            f"{result['recipients']} recipient(s)"
        )

    def do_figures(self, year, format, as_of, **options):
        try:
            today = figures.as_of(as_of)
        except ValueError:
            raise CommandError(f"--as-of must be a date like 2024-12-31, not {as_of!r}") from None
        data = figures.all_figures(year=year, today=today)
        if format == "json":
            self.stdout.write(json.dumps(data, indent=2))
            return
        self.stdout.write(f"Accountability figures (as of {data['as_of']})")
        for row in data["rows"]:
            self.stdout.write(
                f"{row['country']} {row['year']}: {row['cases_opened']} cases, "
                f"response {_pct(row['share_with_response'])}, "
                f"median {row['median_days_to_first_response']} days to first response, "
                f"investigation {_pct(row['share_investigation'])}, "
                f"charged {_pct(row['share_charged'])}, "
                f"convicted {_pct(row['share_convicted'])}, {row['open_cases']} open"
            )
        self.stdout.write(
            f"{data['left_out_without_consent']} sexual-violence case(s) left out: "
            "no consent to statistics"
        )
        self.stdout.write(f"Table G: {len(data['table_g'])} open detentions and abductions")
        if data["table_g_left_out_without_consent"]:
            self.stdout.write(
                f"  ({data['table_g_left_out_without_consent']} sexual-violence case(s) left "
                "out: no consent to statistics)"
            )
        for row in data["table_g"]:
            self.stdout.write(
                f"  {row['reference']} {row['kind']} {row['country']} since {row['date']}: "
                f"{row['days_held']} days"
            )

    def do_propose(self, **options):
        from salama.incidents import choices as ic
        from salama.incidents.models import Incident
        from salama.registry.services import OFFENCE_OF_IMPACT, propose_for_incident

        made = 0
        submitted = Incident.objects.filter(
            status__in=(ic.Status.SUBMITTED, ic.Status.ENDORSED, ic.Status.CLOSED),
            submitted_at__isnull=False,
            persons__impact__in=list(OFFENCE_OF_IMPACT),
        ).distinct()
        for incident in submitted.iterator(chunk_size=500):
            made += len(propose_for_incident(incident))
        self.stdout.write(f"{made} case(s) proposed")

    def do_new_key(self, **options):
        self.stdout.write(crypto.new_key_text())

    def do_keys(self, **options):
        newest = crypto.current_key().id
        for key_id, count in sorted(rotation.key_counts().items()):
            mark = " (newest)" if key_id == newest else ""
            self.stdout.write(f"{key_id}{mark}: {count}")


def _pct(value):
    return "—" if value is None else f"{value:.0%}"
