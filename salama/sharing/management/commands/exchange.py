import datetime
import json
import os

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from salama.core.commands import user_named
from salama.interchange.formats import ImportRefused
from salama.interchange.models import ImportBatch
from salama.organisations.models import Organisation
from salama.sharing import exchange

KEY_VARIABLE = "SALAMA_EXCHANGE_KEY"


class Command(BaseCommand):
    help = (
        "Exchange with another Salama instance: 'pull' reads its REST API with a key of its "
        "own and imports what the key may see as one import batch (a second pull creates "
        "nothing new). The key is read from --key-file or the SALAMA_EXCHANGE_KEY variable, "
        "never from the command line."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        pull = actions.add_parser("pull", help="import the remote's records (or what changed)")
        pull.add_argument("--url", required=True, help="the remote's address (https://host)")
        pull.add_argument(
            "--key-file",
            help=f"file holding the remote's API key (default: the {KEY_VARIABLE} variable)",
        )
        pull.add_argument(
            "--organisation",
            required=True,
            metavar="ACRONYM",
            help="the local organisation that owns the copies (normally the key's holder)",
        )
        pull.add_argument(
            "--agreement",
            type=int,
            metavar="ID",
            help="pull a redacted agreement's records (see the remote's /api/v1/shared)",
        )
        pull.add_argument(
            "--since",
            help="changes since this date or time (default: since the last pull; all at first)",
        )
        pull.add_argument(
            "--reconcile",
            action="store_true",
            help="withdraw local copies the remote no longer shares (hidden, never deleted)",
        )
        pull.add_argument("--user", metavar="USERNAME", help="who runs the pull")
        pull.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args, action, **options):
        try:
            organisation = Organisation.objects.get(acronym__iexact=options["organisation"])
        except Organisation.DoesNotExist:
            raise CommandError(f"No organisation {options['organisation']!r}.") from None
        try:
            remote = exchange.Remote(options["url"], self._token(options["key_file"]))
            done = exchange.pull(
                remote,
                organisation,
                agreement=options["agreement"],
                since=self._since(options["since"]),
                reconcile=options["reconcile"],
                user=user_named(options.get("user")),
                progress=self._progress if options["format"] == "text" else None,
            )
        except (exchange.ExchangeError, ImportRefused) as exc:
            raise CommandError(str(exc)) from None
        if options["format"] == "json":
            self.stdout.write(json.dumps(done.report(), default=str))
            return
        self._print(done, remote)

    def _token(self, key_file) -> str:
        if key_file:
            return exchange.read_token(key_file)
        token = os.environ.get(KEY_VARIABLE, "").strip()
        if not token:
            raise CommandError(f"Give --key-file FILE or set {KEY_VARIABLE}.")
        return token

    @staticmethod
    def _since(text):
        if not text:
            return None
        moment = parse_datetime(text)
        if moment is None and (day := parse_date(text)):
            moment = datetime.datetime.combine(day, datetime.time())
        if moment is None:
            raise CommandError(f"--since {text!r} is not a date (2024-05-01) or a time.")
        return timezone.make_aware(moment) if timezone.is_naive(moment) else moment

    def _progress(self, read: int) -> None:
        self.stderr.write(f"\r{read:,} records read", ending="")

    def _print(self, done, remote):
        write = self.stdout.write
        self.stderr.write("")
        batch = done.batch
        if batch is not None:
            write(
                f"Pulled {remote.url} ({done.feed}) into batch {batch.pk}: read "
                f"{batch.rows_read:,}, created {batch.created:,}, updated {batch.updated:,}, "
                f"unchanged {batch.unchanged:,}, quarantined {batch.quarantined:,}"
            )
            for reason, count in sorted(batch.reasons.items()):
                write(f"  quarantined for {reason}: {count:,}")
            if batch.state != ImportBatch.State.DONE:
                write(self.style.ERROR(f"  state: {batch.get_state_display()} {batch.error}"))
            elif batch.quarantined:
                write(f"See the quarantined records with: salama import show {batch.pk}")
        if done.merged:
            write(f"Merged like the remote: {done.merged:,}")
        if done.withdrawn or done.restored:
            write(f"Withdrawn: {done.withdrawn:,}; shared again and restored: {done.restored:,}")
        for note in done.notes:
            write(f"  {note}")
