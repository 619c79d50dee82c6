import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from salama.core import backup


class Command(BaseCommand):
    help = (
        "Write a backup of the database and the registry's encrypted documents to one "
        ".tar.gz file (default: DATA_DIR/backups/). Encryption keys are never in it: keep "
        "them apart. Restore with 'salama restore FILE'."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", help="the backup file to write")
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args, **options):
        try:
            path, manifest = backup.backup(Path(options["output"]) if options["output"] else None)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        rows = sum(manifest["counts"].values())
        if options["format"] == "json":
            self.stdout.write(
                json.dumps(
                    {"file": str(path), "rows": rows}
                    | {k: manifest[k] for k in ("created_at", "database", "audit_head", "key_ids")}
                )
            )
            return
        keys = ", ".join(manifest["key_ids"]) or "none"
        self.stdout.write(
            self.style.SUCCESS(
                f"Backup written to {path} ({path.stat().st_size / 2**20:,.1f} MiB): "
                f"{rows:,} rows in {len(manifest['counts'])} tables, audit log up to entry "
                f"{manifest['audit_head']['seq']}. Encryption keys the data needs: {keys} "
                "(not in the backup: keep them apart)."
            )
        )
