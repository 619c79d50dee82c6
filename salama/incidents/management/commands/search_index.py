from django.core.management.base import BaseCommand

from salama.incidents import search_index


class Command(BaseCommand):
    help = (
        "Index for text search the incidents that large imports and generations left in the "
        "backlog (SQLite; they are found meanwhile, only slower). --status only says how many."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--status", action="store_true", help="Say how many incidents wait; index nothing."
        )

    def handle(self, *args, **options):
        if not search_index.applies():
            self.stdout.write("This database keeps its search indexes up to date by itself.")
            return
        waiting = search_index.backlog()
        if options["status"] or not waiting:
            self.stdout.write(
                f"{waiting:,} incidents wait for the search index."
                if waiting
                else "The search index is up to date."
            )
            return
        done = search_index.catch_up(
            progress=lambda d, left: (
                self.stderr.write(f"  {d:,} indexed, {left:,} to go")
                if options["verbosity"] > 1
                else None
            )
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Indexed {done.ids:,} incidents for search in {done.seconds:.1f} s "
                f"({done.per_second:,.0f}/s)."
            )
        )
