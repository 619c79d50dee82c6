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
SG_LABELS = {
    "affected": "UN personnel affected",
    "deaths": "deaths",
    "deaths_violence": "  from violence",
    "deaths_violence_locally_recruited": "    locally recruited",
    "deaths_safety": "  from safety incidents",
    "deaths_safety_locally_recruited": "    locally recruited",
    "injuries": "injuries",
    "injuries_violence": "  from violence",
    "injuries_safety": "  from safety incidents",
    "abductions": "abductions",
    "sexual_assaults": "sexual assaults",
    "arrests_detentions": "arrests and detentions",
    "intimidation_harassment": "intimidation, harassment",
    "robbery": "robbery",
    "burglary": "burglary, intrusion",
    "physical_assault": "physical assault",
    "missing": "missing",
    "other": "other",
}


class Command(BaseCommand):
    help = (
        "Yearly figures, e.g. 'salama figures --scheme awsd --year 2022' (AWSD, counted in the "
        "database) or 'salama figures --scheme sg --year 2023' (the Secretary-General's "
        "categories for UN personnel, counted through the analytics snapshot, brought up to "
        "date first). This is an operator command: without --user it counts every incident "
        "in the database, whoever owns it; with --user it counts only what that user may see."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scheme", choices=sorted([*SCHEMES, "sg"]), default="awsd")
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument(
            "--user", metavar="USERNAME", help="count only the incidents this user may see"
        )
        parser.add_argument(
            "--organisation",
            metavar="ACRONYM",
            help="sg only: count only the incidents this organisation owns",
        )
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args, scheme, year, user, organisation, format, **options):
        person = None
        if user:
            try:
                person = get_user_model().objects.get(username=user)
            except get_user_model().DoesNotExist:
                raise CommandError(f"No user {user!r}.") from None
        if scheme == "sg":
            result, labels = self._sg(year, person, organisation), SG_LABELS
        else:
            if organisation:
                raise CommandError("--organisation is for --scheme sg.")
            result, labels = figures(scheme, year, user=person), LABELS
        if format == "json":
            self.stdout.write(json.dumps(result))
            return
        seen_by = f"visible to {person.get_username()}" if person else "all incidents"
        self.stdout.write(f"{scheme.upper()} figures for {year} ({seen_by})")
        width = 34 if scheme == "sg" else 26
        for key, label in labels.items():
            if key in result:
                self.stdout.write(f"  {label:<{width}} {result[key]:>8,}")

    def _sg(self, year, person, acronym):
        from salama.analytics import snapshot
        from salama.analytics.figures import sg_figures
        from salama.organisations.models import Organisation

        owner = None
        if acronym:
            owner = Organisation.objects.filter(acronym=acronym).first()
            if owner is None:
                raise CommandError(f"No organisation {acronym!r}.")
        snapshot.refresh()
        return sg_figures(year, user=person, organisation=owner)
