"""``salama export --format csv|xlsx|hxl|geojson|parquet --user NAME --output PATH``."""

import os
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from salama.core.commands import user_named
from salama.interchange.exports import ExportRefused, run_export, schemes, writers
from salama.organisations.models import Organisation

# Command-line option → the incident list's filter field.
FILTERS = {
    "q": "search",
    "country": "country",
    "date_from": "date-from",
    "date_to": "date-to",
    "category": "category",
    "subcategory": "subcategory",
    "impact": "impact",
    "organisation": "organisation",
    "status": "status",
    "marking": "marking",
}


class Command(BaseCommand):
    help = (
        "Export the incidents a user may see, with the incident list's filters, as CSV, XLSX, "
        "HXL, GeoJSON or Parquet, in Salama's own scheme or AWSD's or SiND's. Exports always "
        "go through the permission door, as the named user, and are written to the audit log."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", required=True, choices=list(writers.WRITERS))
        parser.add_argument("--scheme", default="native", choices=list(schemes.registry()))
        parser.add_argument(
            "--user",
            required=True,
            metavar="USERNAME",
            help="the export holds what this user may see (required: there is no way around "
            "the permission door)",
        )
        parser.add_argument("--output", required=True, metavar="PATH")
        parser.add_argument("--force", action="store_true", help="overwrite PATH if it exists")
        filters = parser.add_argument_group("filters (as on the incident list)")
        filters.add_argument("--search", metavar="TEXT", help="words in the narrative or place")
        filters.add_argument("--country", metavar="ISO2")
        filters.add_argument("--date-from", metavar="YYYY-MM-DD")
        filters.add_argument("--date-to", metavar="YYYY-MM-DD")
        filters.add_argument("--category", metavar="CODE")
        filters.add_argument("--subcategory", metavar="CODE")
        filters.add_argument("--impact", metavar="CODE", help="an impact on a person")
        filters.add_argument("--organisation", metavar="ACRONYM", help="the owning organisation")
        filters.add_argument("--status", metavar="CODE")
        filters.add_argument("--marking", metavar="TLP", help="CLEAR, GREEN, AMBER…")

    def handle(self, *args, **options):
        user = user_named(options["user"], active=True)
        filters = self._filters(options)
        path = Path(options["output"])
        if path.exists() and not options["force"]:
            raise CommandError(f"{path} exists; give --force to overwrite it.")
        if not path.parent.is_dir():
            raise CommandError(f"{path.parent} is not a directory.")
        # Write beside the target and rename at the end: a failed export leaves no file that
        # looks complete.
        partial = path.with_name(f".{path.name}.partial")
        started = time.perf_counter()
        try:
            with partial.open("wb") as out:
                result = run_export(
                    user,
                    format=options["format"],
                    scheme=options["scheme"],
                    filters=filters,
                    out=out,
                )
            os.replace(partial, path)
        except ExportRefused as exc:
            raise CommandError(str(exc)) from None
        finally:
            partial.unlink(missing_ok=True)
        seconds = time.perf_counter() - started
        what = "features" if options["format"] == "geojson" else "rows"
        self.stdout.write(
            f"{result.rows:,} {what} written to {path} ({options['format']}, scheme "
            f"{options['scheme']}, as {user.get_username()}, {seconds:.1f} s)"
        )

    def _filters(self, options) -> dict:
        filters = {}
        for field, option in FILTERS.items():
            value = options.get(option.replace("-", "_"))
            if value in (None, ""):
                continue
            if field == "organisation":
                found = Organisation.objects.filter(acronym__iexact=value).first()
                if found is None:
                    raise CommandError(f"No organisation with the acronym {value!r}.")
                value = found.pk
            filters[field] = value
        return filters
