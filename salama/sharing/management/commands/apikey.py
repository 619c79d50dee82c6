from django.core.management.base import BaseCommand, CommandError

from salama.core.commands import user_named
from salama.organisations.models import Organisation
from salama.sharing import keys
from salama.sharing.models import ApiKey


class Command(BaseCommand):
    help = (
        "Keys to the REST API (/api/v1/, schema at /api/v1/openapi.json). A key reads what an "
        "analyst of its organisation sees. 'create' prints the token once."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="make a key and print its token")
        create.add_argument("--organisation", required=True, help="the organisation's acronym")
        create.add_argument("--name", required=True, help="who or what uses it")
        create.add_argument("--days", type=int, default=365, help="valid for (default 365)")
        create.add_argument("--no-expiry", action="store_true")
        create.add_argument("--by", help="username of the person issuing it (for the audit log)")
        listing = actions.add_parser("list", help="the keys, without their tokens")
        listing.add_argument("--organisation")
        revoke = actions.add_parser("revoke", help="stop a key at once")
        revoke.add_argument("prefix")
        revoke.add_argument("--by")

    def handle(self, *args, action, **options):
        by = user_named(options.get("by"))
        try:
            if action == "create":
                return self._create(options, by)
            if action == "revoke":
                key = ApiKey.objects.filter(prefix=options["prefix"]).first()
                if key is None:
                    raise CommandError(f"No key {options['prefix']!r} (see 'salama apikey list').")
                keys.revoke(key, by=by)
                self.stdout.write(self.style.SUCCESS(f"Revoked {key}."))
                return
        except keys.ApiKeyError as exc:
            raise CommandError(str(exc)) from None
        found = ApiKey.objects.select_related("organisation")
        if options.get("organisation"):
            found = found.filter(organisation__acronym__iexact=options["organisation"])
        for key in found:
            state = (
                f"revoked {key.revoked_at:%Y-%m-%d}"
                if key.revoked_at
                else (f"expires {key.expires_at:%Y-%m-%d}" if key.expires_at else "no expiry")
            )
            used = f"last used {key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "unused"
            self.stdout.write(
                f"{key.prefix}  {key.organisation.acronym:<10} {key.name}  ({state}, {used})"
            )

    def _create(self, options, by):
        try:
            organisation = Organisation.objects.get(acronym__iexact=options["organisation"])
        except Organisation.DoesNotExist:
            raise CommandError(f"No organisation {options['organisation']!r}.") from None
        key, token = keys.issue(
            organisation,
            options["name"],
            by=by,
            days=None if options["no_expiry"] else options["days"],
        )
        self.stdout.write(token)
        self.stderr.write(
            f"Key {key.prefix} for {organisation.acronym} "
            + (f"valid until {key.expires_at:%Y-%m-%d}" if key.expires_at else "without expiry")
            + ". The token above is shown only now: hand it over safely."
        )
