"""``salama demo``: the demo instance (see :mod:`salama.demo`, where all of it lives)."""

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from salama import demo


class Command(BaseCommand):
    help = (
        "Load the demo: organisations, one login per role (with a public demo password), the "
        "AWSD data set and hand-made incidents at every status and marking. Running it again "
        "changes nothing. Refuses to run when DEBUG is false, unless --force."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--without-awsd", action="store_true", help="skip importing the AWSD data set"
        )
        parser.add_argument(
            "--awsd-file",
            action="append",
            metavar="CSV",
            help="import this AWSD file instead of the shipped one (repeatable)",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="run even with DEBUG false (demo logins have a public password)",
        )
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "Refusing to load the demo: DEBUG is false, so this looks like production, and "
                "demo logins have a public password. Use --force if you really mean it."
            )
        files = () if options["without_awsd"] else (options["awsd_file"] or demo.AWSD_FILES)
        for path in files:
            if not Path(path).is_file():
                raise CommandError(f"No AWSD file at {path}.")
        if options["format"] == "text" and files:
            self.stdout.write("Importing the AWSD data set (a few seconds the first time)…")
        report = demo.load(awsd_files=files)
        if options["format"] == "json":
            self.stdout.write(json.dumps(report.__dict__))
            return
        self._print(report)

    def _print(self, report: demo.DemoReport):
        out = self.stdout.write
        made = (
            f"created {report.organisations_created} organisations, {report.users_created} "
            f"users, {report.incidents_created} demo incidents"
            if report.organisations_created or report.users_created or report.incidents_created
            else "nothing new to create"
        )
        out(self.style.SUCCESS(f"Demo ready ({made})."))
        for item in report.imports:
            what = (
                f"already imported (batch #{item['batch']})"
                if item["skipped"]
                else f"imported as batch #{item['batch']}"
            )
            out(
                f"  AWSD {item['file']}: {what}: {item['rows_read']:,} rows, "
                f"{item['created']:,} created, {item['quarantined']:,} quarantined"
            )
        out(
            f"  {report.demo_incidents} hand-made incidents of UNDEMO (draft to closed, "
            "GREEN, AMBER and RED)"
        )
        for app, counts in report.apps.items():
            made = ", ".join(
                f"{value:,} {key.replace('_', ' ')}"
                if isinstance(value, int)
                else f"{key}: {value}"
                for key, value in counts.items()
            )
            out(f"  {app}: {made or 'ready'}")
        out("")
        out(f"Open {report.url} and sign in with one of these logins.")
        out(f"Password for every demo login: {report.password}")
        out("")
        out(f"  {'login':<14} {'organisation':<12} {'role':<20} who")
        for login in report.logins:
            out(
                f"  {login['login']:<14} {login['organisation'] or '-':<12} "
                f"{login['roles']:<20} {login['who']}"
            )
        out("")
        out(f"Django admin: {report.url}/admin/ (login {demo.SUPERUSER}).")
