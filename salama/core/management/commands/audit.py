import json

from django.core.management.base import BaseCommand, CommandError

from salama.core import audit


class Command(BaseCommand):
    help = "Work with the audit log. 'salama audit verify' checks the whole hash chain."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"])
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args, action, format, **options):
        result = audit.verify()
        if format == "json":
            payload = {
                "ok": result.ok,
                "entries": result.entries,
                "head": result.head,
                "problems": [p.__dict__ for p in result.problems],
            }
            self.stdout.write(json.dumps(payload))
        else:
            for problem in result.problems:
                self.stdout.write(f"entry {problem.seq}: {problem.kind}: {problem.message}")
            if result.ok:
                self.stdout.write(
                    self.style.SUCCESS(
                        f"Audit log intact: {result.entries} entries, head {result.head[:16]}…"
                    )
                )
        if not result.ok:
            raise CommandError(f"Audit log damaged: {len(result.problems)} problem(s) found")
