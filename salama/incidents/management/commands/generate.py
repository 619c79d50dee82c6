import json
import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from salama.incidents import synthetic
from salama.organisations.models import Organisation

# Where the AWSD file is looked for when --write-distributions names none.
AWSD_CANDIDATES = (
    settings.BASE_DIR / "interchange" / "data" / "awsd" / "awsd_1997-2022.csv",
    settings.PROJECT_DIR.parent / "shared" / "data" / "awsd" / "awsd_1997-2022.csv",
)


class Command(BaseCommand):
    help = (
        "Write synthetic incidents, with affected persons, shaped like the Aid Worker Security "
        "Database, for demos and load tests. Labelled synthetic (references SYN-…, source "
        "system 'synthetic'). Deterministic for a given --seed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--incidents", type=int, help="how many incidents to write")
        parser.add_argument("--seed", type=int, default=1, help="same seed, same incidents")
        parser.add_argument(
            "--organisation",
            metavar="ACRONYM",
            help=f"owning organisation (default: {synthetic.ORGANISATION_NAME!r})",
        )
        parser.add_argument("--batch-size", type=int, default=synthetic.DEFAULT_BATCH_SIZE)
        parser.add_argument("--format", choices=["text", "json"], default="text")
        parser.add_argument(
            "--write-distributions",
            nargs="?",
            const="",
            metavar="AWSD_CSV",
            help="recompute the shipped distributions from the AWSD public CSV, then stop",
        )

    def handle(self, *args, **options):
        if options["write_distributions"] is not None:
            return self._write_distributions(options["write_distributions"])
        count = options["incidents"]
        if not count or count < 1:
            raise CommandError("Say how many incidents to write: --incidents N (N ≥ 1).")
        organisation = None
        if options["organisation"]:
            organisation = Organisation.objects.filter(acronym=options["organisation"]).first()
            if organisation is None:
                raise CommandError(f"No organisation with acronym {options['organisation']!r}.")

        quiet = options["format"] == "json" or options["verbosity"] == 0
        console = Console(stderr=True)
        progress = Progress(
            TextColumn("Generating"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("incidents"),
            TimeRemainingColumn(),
            console=console,
            disable=quiet or not console.is_terminal,
        )
        with progress:
            task = progress.add_task("generate", total=count)
            try:
                result = synthetic.generate(
                    count,
                    options["seed"],
                    organisation=organisation,
                    batch_size=options["batch_size"],
                    on_batch=lambda n: progress.advance(task, n),
                )
            except synthetic.GenerationError as exc:
                raise CommandError(str(exc)) from None

        if options["format"] == "json":
            self.stdout.write(json.dumps(result.report()))
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.incidents:,} synthetic incidents ({result.first_reference} … "
                f"{result.last_reference}) with {result.persons:,} affected-person rows for "
                f"{result.organisation} in {result.seconds:.1f} s: "
                f"{result.incidents_per_second:,.0f} incidents/s ({result.database}); "
                f"planner statistics refreshed in {result.analyze_seconds:.1f} s"
                + (
                    f", search index caught up in {result.index_seconds:.1f} s."
                    if result.index_seconds
                    else "."
                )
            )
        )

    def _write_distributions(self, path: str):
        if not path:
            path = next((str(p) for p in AWSD_CANDIDATES if p.exists()), "")
        if not path or not os.path.exists(path):
            raise CommandError("Name the AWSD public CSV: --write-distributions PATH")
        out = synthetic.write_distributions(Path(path))
        self.stdout.write(self.style.SUCCESS(f"Wrote {out} from {path}."))
