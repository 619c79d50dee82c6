import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from salama.incidents.figures import SCHEMES, figures

LABELS = {
    "incidents": "incidents",
    "killed": "people killed",
    "wounded": "people wounded",
    "kidnapped": "people kidnapped",
    "detained": "people detained",
    "affected": "people affected",
    "nationals": "  of whom nationals",
    "internationals": "  of whom internationals",
    "female": "  of whom women",
}


class Command(BaseCommand):
    help = (
        "Yearly figures counted from the database, e.g. 'salama figures --scheme awsd "
        "--year 2022'. This is an operator command: without --user it counts every incident "
        "in the database, whoever owns it; with --user it counts only what that user may see."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scheme", choices=sorted(SCHEMES), default="awsd")
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument(
            "--user", metavar="USERNAME", help="count only the incidents this user may see"
        )
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args, scheme, year, user, format, **options):
        person = None
        if user:
            try:
                person = get_user_model().objects.get(username=user)
            except get_user_model().DoesNotExist:
                raise CommandError(f"No user {user!r}.") from None
        result = figures(scheme, year, user=person)
        if format == "json":
            self.stdout.write(json.dumps(result))
            return
        seen_by = f"visible to {person.get_username()}" if person else "all incidents"
        self.stdout.write(f"{scheme.upper()} figures for {year} ({seen_by})")
        for key, label in LABELS.items():
            if key in result:
                self.stdout.write(f"  {label:<26} {result[key]:>8,}")
