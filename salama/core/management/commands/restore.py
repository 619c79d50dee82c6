import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from salama.core import backup


class Command(BaseCommand):
    help = (
        "Restore a backup made by 'salama backup' into the configured database (of the same "
        "kind), then check every table's row count and the audit chain against it. Stop the "
        "web server and the worker first."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the backup file (.tar.gz)")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="overwrite a database that already holds data",
        )
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args, path, **options):
        try:
            result = backup.restore(Path(path), replace=options["replace"])
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        if options["format"] == "json":
            self.stdout.write(
                json.dumps(
                    {
                        "ok": result.ok,
                        "tables": result.tables,
                        "mismatches": result.mismatches,
                        "audit_ok": result.audit_ok,
                        "warnings": result.warnings,
                        "created_at": result.manifest["created_at"],
                    }
                )
            )
        else:
            for line in result.mismatches:
                self.stdout.write(f"mismatch: {line}")
            for line in result.warnings:
                self.stdout.write(self.style.WARNING(f"warning: {line}"))
            if result.ok:
                self.stdout.write(
                    self.style.SUCCESS(
                        f"Restored the backup of {result.manifest['created_at']}: "
                        f"{result.tables} tables match it, the audit chain is intact. Run "
                        "'salama migrate' if this Salama is newer. The analytics snapshot is "
                        "rebuilt by the worker (or 'salama analytics refresh')."
                    )
                )
        if not result.ok:
            raise CommandError("The restore does not match the backup (see above).")
