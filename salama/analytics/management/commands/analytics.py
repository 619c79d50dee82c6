import datetime
import json

from django.core.management.base import BaseCommand, CommandError

from salama.analytics import forecast, snapshot
from salama.analytics.store import NoSnapshot


class Command(BaseCommand):
    help = (
        "The analytics snapshot: 'salama analytics refresh' brings it up to date now "
        "(incrementally; --full rewrites it), 'salama analytics status' says what it holds, "
        "'salama analytics forecast' forecasts next month's major attacks per country (scored "
        "against naive baselines; every incident counted, as for the operator)."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["refresh", "status", "forecast"])
        parser.add_argument("--full", action="store_true", help="rewrite the whole snapshot")
        parser.add_argument("--country", action="append", help="forecast: only this ISO code")
        parser.add_argument("--format", choices=["text", "json"], default="text")
        parser.add_argument(
            "--today", type=datetime.date.fromisoformat, help="forecast: as if on this date"
        )

    def handle(self, *args, action, full, **options):
        if action == "forecast":
            return self._forecast(options)
        if action == "refresh":
            result = snapshot.refresh(full=full)
            self.stdout.write(
                f"{result.kind} refresh: {result.changed} incidents read, {result.deleted} "
                f"removed, generation {result.generation}, {result.seconds:.2f} s"
            )
            # As the worker does after its refreshes: the Forecast page's first view then
            # reads the backtests instead of computing them.
            warmed = forecast.warm()
            self.stdout.write(
                f"forecast backtests: {warmed['computed']} computed, {warmed['seconds']:.2f} s"
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

    def _forecast(self, options):
        try:
            results = forecast.forecast(
                countries=[c.upper() for c in options["country"] or []], today=options["today"]
            )
        except NoSnapshot as exc:
            raise CommandError(str(exc)) from None
        if options["format"] == "json":
            self.stdout.write(json.dumps([r.as_dict() for r in results], default=str))
            return
        if not results:
            self.stdout.write("No country has enough history (12 months) to forecast.")
            return
        self.stdout.write(
            f"Major attacks in {results[0].month}, per country (80 % interval; "
            "P = probability of at least one; the model scored best in its backtest):"
        )
        for r in results:
            flag = "  WARNING: more likely than in the last twelve months" if r.warning else ""
            skill = f", skill {r.skill:+.2f} against the baselines" if r.skill is not None else ""
            self.stdout.write(
                f"  {r.country}  {r.mean:5.1f} [{r.low}–{r.high}]  P {r.p_any:.2f}  "
                f"({r.model}{skill}){flag}"
            )
