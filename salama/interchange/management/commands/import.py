"""``salama import FORMAT FILE`` and ``salama import show BATCH``."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from salama.core.commands import user_named
from salama.interchange import formats
from salama.interchange.models import ImportBatch
from salama.interchange.runner import ImportRefused, run_import, source_organisation
from salama.organisations.models import Organisation

# Files smaller than this import in a second or two: no progress bar.
PROGRESS_FROM_BYTES = 2_000_000


class Command(BaseCommand):
    help = (
        "Import a file as incidents ('salama import awsd FILE'), or show an import batch "
        "with its quarantined rows ('salama import show BATCH'). Importing the same file "
        "again creates nothing new."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="FORMAT|show")
        for name, module in formats.registry().items():
            sub = actions.add_parser(
                name,
                help=(module.__doc__ or name).strip().splitlines()[0],
                description=f"Import a file in the {name} format.",
            )
            sub.add_argument("path", metavar="FILE")
            sub.add_argument(
                "--organisation",
                metavar="ACRONYM",
                help=(
                    "acronym of the organisation that owns the imported incidents (default: "
                    f"{module.DEFAULT_ORGANISATION['acronym']}, created if missing)"
                ),
            )
            sub.add_argument("--user", metavar="USERNAME", help="who runs the import")
            sub.add_argument(
                "--mapping",
                metavar="NAME|FILE.yaml",
                help="column mapping (table, kobo, hxl): a saved mapping's name or a YAML file",
            )
            sub.add_argument("--sheet", metavar="NAME", help="the XLSX sheet to read")
            sub.add_argument("--format", choices=["text", "json"], default="text")
        show = actions.add_parser("show", help="show an import batch and its quarantined rows")
        show.add_argument("batch", type=int, metavar="BATCH")
        show.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args, action, format, **options):
        if action == "show":
            return self._show(options["batch"], format)
        return self._import(action, options["path"], options, format)

    # -- salama import FORMAT FILE --------------------------------------------------------

    def _import(self, format_name, path, options, output):
        module = formats.get(format_name)
        organisation = self._organisation(options.get("organisation"), module)
        user = user_named(options.get("user"))
        reader = {k: options[k] for k in ("mapping", "sheet") if options.get(k)}
        if "mapping" in reader:
            reader["mapping"] = self._mapping(reader["mapping"], organisation)
        try:
            if output == "text":
                batch = self._with_progress(format_name, path, organisation, user, reader)
            else:
                batch = run_import(
                    format_name,
                    path,
                    organisation=organisation,
                    user=user,
                    options=reader,
                    on_wait=lambda: self._waiting(module),
                )
        except ImportRefused as exc:
            raise CommandError(str(exc)) from None
        except Exception as exc:
            raise CommandError(
                f"The import stopped: {type(exc).__name__}: {exc}. The rows imported before "
                "it stay; run the same command again to continue."
            ) from None
        if output == "json":
            self.stdout.write(json.dumps(batch.report(), default=str))
        else:
            self._print_report(batch)

    def _organisation(self, acronym, module):
        if acronym:
            try:
                return Organisation.objects.get(acronym__iexact=acronym)
            except Organisation.DoesNotExist:
                known = ", ".join(Organisation.objects.values_list("acronym", flat=True)[:30])
                raise CommandError(
                    f"No organisation with the acronym {acronym!r}. Known: {known or 'none'}."
                ) from None
        return source_organisation(module.NAME)

    def _mapping(self, name, organisation):
        """A YAML file stays a path (the format reads it); a saved mapping's name becomes its
        spec, the importing organisation's own first."""
        from salama.interchange.models import ColumnMapping

        if Path(name).suffix in (".yaml", ".yml", ".json") or Path(name).is_file():
            return name
        saved = ColumnMapping.objects.filter(name=name, organisation=organisation).first()
        if saved is None:
            return name  # the format looks it up, or says it does not exist
        return {**saved.spec, "name": saved.name}

    def _with_progress(self, format_name, path, organisation, user, reader=None):
        console = Console(stderr=True)
        size = Path(path).stat().st_size if Path(path).is_file() else 0
        show = console.is_terminal and size >= PROGRESS_FROM_BYTES
        with Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[rows]:,} rows"),
            TimeRemainingColumn(),
            console=console,
            disable=not show,
            transient=True,
        ) as progress:
            task = progress.add_task(f"Importing {Path(path).name}", total=size or 1, rows=0)

            def advance(done, total, rows):
                progress.update(task, completed=done, total=total, rows=rows)

            return run_import(
                format_name,
                path,
                organisation=organisation,
                user=user,
                progress=advance,
                options=reader,
                on_wait=lambda: self._waiting(formats.get(format_name)),
            )

    def _waiting(self, module):
        self.stderr.write(
            f"Another import of {module.SOURCE_SYSTEM} data is running; this one starts when "
            "it has finished."
        )

    def _print_report(self, batch, hint=True):
        write = self.stdout.write
        write(
            f"Batch {batch.pk}: {batch.format} ({batch.layout}, {batch.encoding}) "
            f"{batch.filename}, owned by {batch.organisation}"
        )
        write(
            f"  rows read {batch.rows_read:,}: created {batch.created:,}, updated "
            f"{batch.updated:,}, unchanged {batch.unchanged:,}, quarantined {batch.quarantined:,}"
        )
        for reason, count in sorted(batch.reasons.items()):
            write(f"  quarantined for {reason}: {count:,}")
        for code, note in sorted(batch.notes.items()):
            write(f"  note {code}: {note['count']:,} row(s), e.g. {note['examples'][0]}")
        if batch.state != ImportBatch.State.DONE:
            write(self.style.ERROR(f"  state: {batch.get_state_display()} {batch.error}"))
        elif batch.quarantined:
            if hint:
                write(f"See the quarantined rows with: salama import show {batch.pk}")
        else:
            write(self.style.SUCCESS("Every row was imported."))

    # -- salama import show BATCH ---------------------------------------------------------

    def _show(self, pk, output):
        try:
            batch = ImportBatch.objects.select_related("organisation").get(pk=pk)
        except ImportBatch.DoesNotExist:
            raise CommandError(f"There is no import batch {pk}.") from None
        rows = batch.quarantine.order_by("row_number")
        if output == "json":
            report = batch.report()
            report["quarantined_rows"] = [
                {"row": r.row_number, "reason": r.reason, "message": r.message, "raw": r.raw}
                for r in rows.iterator()
            ]
            self.stdout.write(json.dumps(report, default=str))
            return
        self._print_report(batch, hint=False)
        if batch.error:
            self.stdout.write(f"Error: {batch.error}")
        for row in rows.iterator():
            self.stdout.write(f"\n[{row.reason}] {row.message}")
            for column, value in row.raw.items():
                if value not in ("", None, []):
                    self.stdout.write(f"    {column}: {value}")
