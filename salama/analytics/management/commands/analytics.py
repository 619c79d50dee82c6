from django.core.management.base import BaseCommand, CommandError

from salama.analytics import snapshot


class Command(BaseCommand):
    help = (
        "The analytics snapshot: 'salama analytics refresh' brings it up to date now "
        "(incrementally; --full rewrites it), 'salama analytics status' says what it holds."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["refresh", "status"])
        parser.add_argument("--full", action="store_true", help="rewrite the whole snapshot")

    def handle(self, *args, action, full, **options):
        if action == "refresh":
            result = snapshot.refresh(full=full)
            self.stdout.write(
                f"{result.kind} refresh: {result.changed} incidents read, {result.deleted} "
                f"removed, generation {result.generation}, {result.seconds:.2f} s"
            )
            return
        state = snapshot.State.load()
        if state is None:
            raise CommandError("No snapshot yet: run 'salama analytics refresh'.")
        self.stdout.write(
            f"generation {state.generation}: {state.incidents:,} incidents, "
            f"{state.persons:,} person rows, {len(state.changes)} incremental files, "
            f"in {snapshot.directory()}"
        )
