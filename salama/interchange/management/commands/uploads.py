"""``salama uploads discard [--days N]``: delete uploads previewed but never imported."""

import datetime

from django.core.management.base import BaseCommand, CommandError

from salama.interchange import uploads


class Command(BaseCommand):
    help = (
        "Delete the files of uploads that were previewed on the import page but never imported, "
        "older than --days (default: the page's own limit). Each one goes to the audit log."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["discard"])
        parser.add_argument(
            "--days",
            type=int,
            default=uploads.KEEP_UNIMPORTED.days,
            help=f"keep uploads younger than this (default {uploads.KEEP_UNIMPORTED.days})",
        )

    def handle(self, *args, **options):
        if options["days"] < 0:
            raise CommandError("--days cannot be negative.")
        count = uploads.discard_unimported(datetime.timedelta(days=options["days"]))
        self.stdout.write(f"Discarded {count} upload(s) never imported.")
