"""``salama risk decisions`` and ``salama risk load-matrix FILE``."""

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from salama.core.commands import user_named
from salama.organisations.models import Organisation, organisation_ids
from salama.risk import rules, services
from salama.risk.models import ActivityArea, Area


class Command(BaseCommand):
    help = (
        "Security risk management: 'salama risk decisions --area NAME' lists the go / no-go of "
        "each activity × area; 'salama risk load-matrix FILE' loads a risk matrix (validated "
        "monotone)."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        decisions = actions.add_parser(
            "decisions",
            help="each activity × area with PC level, residual risk, decision, approver, expiry",
            description=(
                "An operator command: without --user it lists every organisation's activities; "
                "with --user only those of that user's organisations."
            ),
        )
        decisions.add_argument(
            "--area", action="append", metavar="NAME", help="an area's name (repeatable)"
        )
        decisions.add_argument("--organisation", metavar="ACRONYM")
        decisions.add_argument("--user", metavar="USERNAME")
        decisions.add_argument("--format", choices=["text", "json"], default="text")
        load = actions.add_parser(
            "load-matrix",
            help="load a risk matrix from a YAML or JSON file",
            description=(
                "The file has a version, a name and one row of five risk levels per "
                "likelihood (see salama/risk/data/risk_matrix_default.yaml). Without "
                "--organisation it becomes an instance-wide matrix version."
            ),
        )
        load.add_argument("path", metavar="FILE")
        load.add_argument("--organisation", metavar="ACRONYM")
        load.add_argument("--user", metavar="USERNAME", help="who loads it")

    def handle(self, *args, action, **options):
        if action == "load-matrix":
            return self._load(options)
        return self._decisions(options)

    def _organisation(self, acronym):
        if not acronym:
            return None
        try:
            return Organisation.objects.get(acronym=acronym)
        except Organisation.DoesNotExist:
            raise CommandError(f"No organisation {acronym!r}.") from None

    def _load(self, options):
        organisation = self._organisation(options.get("organisation"))
        user = user_named(options.get("user"))
        try:
            row, created = services.load_matrix(
                options["path"], organisation=organisation, user=user
            )
        except rules.RuleError as error:
            raise CommandError(
                "The matrix was not loaded:\n" + "\n".join(f"  - {p}" for p in error.problems)
            ) from None
        owner = organisation.acronym if organisation else "the whole instance"
        verb = "Loaded" if created else "Already loaded (unchanged)"
        self.stdout.write(f"{verb}: matrix {row.version} for {owner}.")

    def _decisions(self, options):
        found = ActivityArea.objects.all()
        user = user_named(options.get("user"))
        if user is not None:
            found = found.filter(activity__organisation_id__in=organisation_ids(user))
        organisation = self._organisation(options.get("organisation"))
        if organisation is not None:
            found = found.filter(activity__organisation=organisation)
        names = options.get("area")
        if names:
            known = set(Area.objects.filter(name__in=names).values_list("name", flat=True))
            unknown = sorted(set(names) - known)
            if unknown:
                raise CommandError(f"No area named {', '.join(map(repr, unknown))}.")
            found = found.filter(area__name__in=names)
        rows = services.weigh(found.order_by("area__name", "activity__code"), timezone.localdate())
        if options["format"] == "json":
            self.stdout.write(json.dumps([row.as_json() for row in rows], ensure_ascii=False))
            return
        for row in rows:
            expiry = row.outcome.expires_on.isoformat() if row.outcome.expires_on else "-"
            self.stdout.write(
                f"{row.area_name:<20} {row.activity_code:<12} {row.pc_level or '-':<4} "
                f"{row.residual_risk or '-':<12} {row.outcome.decision:<15} "
                f"{row.outcome.required_approver or '-':<22} {expiry}"
            )
            for reason in row.outcome.reasons:
                self.stdout.write(f"    {reason}")
