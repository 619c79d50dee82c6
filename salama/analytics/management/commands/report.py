from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from salama.analytics import render, report, snapshot


class Command(BaseCommand):
    help = (
        "The annual report: 'salama report annual --year 2023 --format html|pdf|xlsx "
        "--output PATH' (or --from 2019 --to 2023 for a period). Tables A–H and the AWSD "
        "figures, counted through the analytics snapshot (brought up to date first). An "
        "operator command: without --user it counts every incident."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["annual"])
        parser.add_argument("--year", type=int)
        parser.add_argument("--from", dest="year_from", type=int)
        parser.add_argument("--to", dest="year_to", type=int)
        parser.add_argument("--format", choices=["html", "pdf", "xlsx"], default="html")
        parser.add_argument("--output", required=True, help="file to write")
        parser.add_argument("--user", metavar="USERNAME", help="count what this user may see")
        parser.add_argument("--language", default="en", help="e.g. ar, zh-hans, fr")

    def handle(
        self, *args, kind, year, year_from, year_to, format, output, user, language, **options
    ):
        if year is not None:
            year_from = year_to = year
        if year_from is None:
            raise CommandError("Give --year, or --from and --to.")
        year_to = year_to or year_from
        if year_to < year_from:
            raise CommandError("The period ends before it starts.")
        person = None
        if user:
            person = get_user_model().objects.filter(username=user).first()
            if person is None:
                raise CommandError(f"No user {user!r}.")
        path = Path(output)
        if not path.parent.is_dir():
            raise CommandError(f"No folder {path.parent} to write into.")
        snapshot.refresh()
        with translation.override(language):
            built = report.build(year_from, year_to, user=person)
            if format == "xlsx":
                path.write_bytes(render.xlsx(built))
            elif format == "pdf":
                path.write_bytes(render.pdf(built))
            else:
                path.write_text(render.html(built, standalone=True), encoding="utf-8")
        self.stdout.write(f"Wrote {path} ({path.stat().st_size:,} bytes).")
