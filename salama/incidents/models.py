from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connections, models
from django.db.models import BooleanField, Case, Exists, OuterRef, Q, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Upper
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy as _

from salama.core import markings
from salama.core.markings import TLP
from salama.incidents import choices as c
from salama.incidents import grants, search_index
from salama.organisations.models import Organisation, organisation_ids

# The FTS5 table over narrative and place (SQLite only), made in migration 0002, and the
# incidents it has not caught up with yet (``search_index``: every id from the backlog's lowest
# up). One subquery, so that SQLite still reads candidates from the index: an OR beside it
# made it scan every incident (a search with no match went from 40 ms to 1.8 s at a million).
SQLITE_SEARCH_SQL = (
    f"SELECT rowid FROM {search_index.SEARCH_TABLE} WHERE {search_index.SEARCH_TABLE} MATCH %s "
    "UNION ALL SELECT id FROM incidents_incident "
    f"WHERE id >= (SELECT min(low) FROM {search_index.BACKLOG_TABLE})"
)


def _fts_trigrams(text: str) -> str:
    """An FTS5 query for the incidents holding the three-letter pieces that cover ``text``
    (every third, and the last): a superset of those containing it, which ``icontains`` then
    narrows. Two to three times quicker than a phrase of every piece, for as few candidates."""
    starts = [*range(0, len(text) - 2, 3), len(text) - 3]
    pieces = dict.fromkeys(text[i : i + 3] for i in starts)
    return " AND ".join('"' + piece.replace('"', '""') + '"' for piece in pieces)


class IncidentQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The one authorisation door: the incidents ``user`` may see.

        - TLP:CLEAR and TLP:GREEN: every signed-in user of the instance;
        - TLP:AMBER: members of the owning organisation, and of organisations it shares
          with (``grants``: sharing agreements at the "full" level, past draft);
        - TLP:AMBER+STRICT: members of the owning organisation only;
        - TLP:RED: the reporter and the people named on the record;
        - drafts: only the owning organisation (a draft is not yet a report);
        - anonymous visitors: nothing.
        """
        if not getattr(user, "is_authenticated", False):
            return self.none()
        own = organisation_ids(user)
        named = IncidentRecipient.objects.filter(incident=OuterRef("pk"), user=user)
        own_org = Q(organisation_id__in=own)
        shared = grants.for_user(user)
        amber = own_org
        if shared:
            amber = own_org | (grants.as_q(shared) & ~Q(status=c.Status.DRAFT))
        # One CASE on the marking rather than an OR of three rules: SQLite without planner
        # statistics turns such an OR into three index lookups and then sorts every visible
        # incident (800 ms at a million); a CASE leaves it walking the date index, page by page.
        allowed = Case(
            When(marking__in=markings.INSTANCE_WIDE, then=~Q(status=c.Status.DRAFT) | own_org),
            When(marking__in=markings.SHAREABLE, then=amber),
            When(marking__in=markings.ORGANISATION_ONLY, then=own_org),
            When(marking__in=markings.NAMED_ONLY, then=Q(reported_by=user) | Q(Exists(named))),
            default=Value(False),
            output_field=BooleanField(),
        )
        return self.filter(allowed)

    def search(self, text: str):
        """Incidents whose narrative or place contains ``text`` in any letter case, or whose
        reference is ``text``; the same matches on SQLite and PostgreSQL, found by an index.

        - PostgreSQL: trigram GIN indexes (migration 0002) serve the ``icontains`` itself.
        - SQLite: the FTS5 trigram table ``incidents_incident_search`` (kept in step by
          triggers) narrows to candidates and ``icontains`` keeps the exact meaning; terms of
          one or two letters have no trigram and are matched by ``icontains`` alone. While
          a large write's incidents wait for the index (``search_index``), every incident
          from the backlog's lowest id up is a candidate too: the same matches, found slower.
        - SQLite reads every candidate to sort them by date, so a word found in a fifth of a
          million incidents takes about half a second; telling common words from rare ones
          first would cost the list page a query (PostgreSQL's planner weighs it by itself).
        """
        text = text.strip()
        if not text:
            return self
        found = Q(narrative__icontains=text) | Q(place__icontains=text)
        if connections[self.db].vendor == "sqlite" and len(text) >= 3:
            # A constant statement; the search text is a bound parameter.
            found &= Q(pk__in=RawSQL(SQLITE_SEARCH_SQL, [_fts_trigrams(text)]))  # noqa: S611
        # UPPER on both sides, not ``iexact``: SQLite's LIKE cannot use the index on it.
        return self.filter(found | Exact(Upper("reference"), Upper(Value(text))))

    def current(self):
        """Incidents that have not been merged into another."""
        return self.exclude(status=c.Status.MERGED)

    def for_year(self, year: int):
        return self.filter(date__year=year)


class Incident(models.Model):
    """Something that happened to personnel, premises, vehicles or operations: one real event.

    ``date`` holds the first day of what is known: with precision "month" the day is 1,
    with precision "year" the month and day are 1.
    """

    reference = models.CharField(_("reference"), max_length=32, unique=True)
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="incidents",
        verbose_name=_("owning organisation"),
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reported_incidents",
    )
    status = models.CharField(
        _("status"), max_length=12, choices=c.Status.choices, default=c.Status.DRAFT
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    endorsed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="endorsed_incidents",
    )
    endorsed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_from"
    )

    # When
    date = models.DateField(_("date"))
    date_precision = models.CharField(
        _("date precision"),
        max_length=5,
        choices=c.DatePrecision.choices,
        default=c.DatePrecision.DAY,
    )
    time = models.TimeField(_("time (local)"), null=True, blank=True)

    # Where
    country = models.CharField(_("country"), max_length=2)
    admin1 = models.CharField(_("province / region (admin 1)"), max_length=120, blank=True)
    admin2 = models.CharField(_("district (admin 2)"), max_length=120, blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True)
    latitude = models.FloatField(
        _("latitude"),
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.FloatField(
        _("longitude"),
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    coordinate_precision = models.CharField(
        _("coordinate precision"),
        max_length=12,
        choices=c.CoordinatePrecision.choices,
        blank=True,
    )
    coordinates_obfuscated = models.BooleanField(
        _("coordinates deliberately shifted"), default=False
    )
    coordinate_check = models.CharField(
        _("coordinate check"),
        max_length=12,
        choices=c.CoordinateCheckStatus.choices,
        blank=True,
    )
    coordinate_note = models.CharField(_("note on the coordinates"), max_length=300, blank=True)
    location_type = models.CharField(
        _("location type"),
        max_length=20,
        choices=c.LocationType.choices,
        default=c.LocationType.UNKNOWN,
    )

    # What
    category = models.CharField(_("category"), max_length=10, choices=c.Category.choices)
    subcategory = models.CharField(_("sub-category"), max_length=20, choices=c.SubCategory.choices)
    means_of_attack = models.CharField(
        _("means of attack"), max_length=24, choices=c.MeansOfAttack.choices, blank=True
    )
    attack_context = models.CharField(
        _("attack context"), max_length=20, choices=c.AttackContext.choices, blank=True
    )
    perpetrator_type = models.CharField(
        _("perpetrator type"), max_length=20, choices=c.PerpetratorType.choices, blank=True
    )
    perpetrator_name = models.CharField(_("perpetrator name"), max_length=200, blank=True)
    motive = models.CharField(_("motive"), max_length=12, choices=c.Motive.choices, blank=True)
    premises_hit = models.BooleanField(_("premises hit"), default=False)
    vehicles_hit = models.BooleanField(_("vehicles or convoy hit"), default=False)
    supplies_hit = models.BooleanField(_("supplies hit"), default=False)
    health_facility_hit = models.BooleanField(_("health facility hit"), default=False)
    narrative = models.TextField(_("narrative"), blank=True)
    verification = models.CharField(
        _("verification status"),
        max_length=12,
        choices=c.Verification.choices,
        default=c.Verification.UNVERIFIED,
    )
    marking = models.CharField(
        _("sensitivity marking"), max_length=12, choices=TLP.choices, default=TLP.AMBER
    )

    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        indexes = [
            models.Index(fields=["date", "id"]),
            models.Index(fields=["country", "date"]),
            models.Index(fields=["subcategory", "date"]),
            models.Index(fields=["organisation", "date"]),
            # With the list's filters on status or marking: read the matching incidents
            # newest first, not every incident (3 s at a million when the door hides them).
            models.Index(fields=["status", "date"]),
            models.Index(fields=["marking", "date"]),
            # The analytics snapshot's incremental refresh reads what changed since its last run.
            models.Index(fields=["updated_at"]),
            models.Index(Upper("reference"), name="incident_reference_upper"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__isnull=False, longitude__isnull=False),
                name="incident_coordinates_both_or_neither",
            )
        ]

    def __str__(self):
        return self.reference

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded_place = (instance.__dict__.get("country"),) + tuple(
            instance.__dict__.get(f) for f in ("latitude", "longitude", "coordinate_check")
        )
        return instance

    def clean(self):
        from salama.core.geo import check_coordinate
        from salama.incidents.validators import validate_incident

        errors = validate_incident(self)
        # A coordinate flagged on import stays flagged (not refused) until someone moves it.
        loaded = getattr(self, "_loaded_place", None)
        unchanged = loaded == (self.country, self.latitude, self.longitude, self.coordinate_check)
        if unchanged and self.coordinate_check == c.CoordinateCheckStatus.OUTSIDE:
            errors.pop("latitude", None)
        if "latitude" not in errors and "country" not in errors and self.has_coordinates:
            if (
                self.coordinate_check
                not in (
                    c.CoordinateCheckStatus.OUTSIDE,
                    c.CoordinateCheckStatus.REPAIRED,
                )
                or not unchanged
            ):
                self.coordinate_check = check_coordinate(
                    self.country,
                    self.latitude,
                    self.longitude,
                    settings.COORDINATE_BORDER_TOLERANCE_KM,
                ).status
        elif not self.has_coordinates:
            self.coordinate_check = c.CoordinateCheckStatus.NONE
        if errors:
            raise ValidationError(errors)

    @property
    def has_coordinates(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    def date_display(self) -> str:
        if self.date_precision == c.DatePrecision.YEAR:
            return f"{self.date:%Y}"
        if self.date_precision == c.DatePrecision.MONTH:
            return f"{self.date:%Y-%m}"
        return f"{self.date:%Y-%m-%d}"

    def country_name(self) -> str:
        from salama.core.geo import country_name

        return country_name(self.country)


class IncidentRecipient(models.Model):
    """A person named on a TLP:RED incident, who may therefore see it."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="recipients")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "user"], name="unique_recipient")
        ]

    def __str__(self):
        return f"{self.user_id} on {self.incident_id}"


class VisibleThroughIncidentQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(incident__in=Incident.objects.visible_to(user).values("pk"))


class AffectedPerson(models.Model):
    """One person affected by an incident, or, when individuals are unknown, ``count`` people
    who share every attribute of the row. No names: identities live only in the registry."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="persons")
    count = models.PositiveIntegerField(_("number of people"), default=1)
    impact = models.CharField(_("impact"), max_length=24, choices=c.Impact.choices)
    cause = models.CharField(_("cause"), max_length=10, choices=c.Cause.choices)
    recruitment = models.CharField(
        _("recruitment"),
        max_length=20,
        choices=c.Recruitment.choices,
        default=c.Recruitment.UNKNOWN,
    )
    gender = models.CharField(
        _("gender"),
        max_length=8,
        choices=c.Gender.choices,
        default=c.Gender.OTHER_OR_UNKNOWN,
    )
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("organisation"),
    )
    organisation_type = models.CharField(
        _("organisation type"),
        max_length=12,
        choices=c.AffectedOrgType.choices,
        default=c.AffectedOrgType.UNKNOWN,
    )
    is_medical = models.BooleanField(_("medical personnel"), null=True, blank=True)
    on_duty = models.BooleanField(_("on duty"), null=True, blank=True)
    killed_in_captivity = models.BooleanField(
        _("abducted, then killed in captivity"), default=False
    )

    objects = VisibleThroughIncidentQuerySet.as_manager()

    class Meta:
        verbose_name = _("affected person")
        verbose_name_plural = _("affected persons")
        indexes = [models.Index(fields=["impact", "cause"])]
        constraints = [models.CheckConstraint(condition=Q(count__gte=1), name="person_count_gte_1")]

    def __str__(self):
        return f"{self.count} × {self.get_impact_display()}"

    @property
    def is_aggregate(self) -> bool:
        return self.count > 1


class ReportedTotal(models.Model):
    """A total that a source gave for one dimension only (e.g. AWSD's "Gender Female" or
    its "UN" column), with no split by impact or nationality. Stored as the source said it,
    so no joint split is ever invented; figures by that dimension come from here."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="totals")
    dimension = models.CharField(max_length=20, choices=c.ReportedTotalDimension.choices)
    value = models.CharField(max_length=20)
    count = models.PositiveIntegerField()

    objects = VisibleThroughIncidentQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "dimension", "value"], name="unique_reported_total"
            )
        ]

    def __str__(self):
        return f"{self.dimension}={self.value}: {self.count}"


class Source(models.Model):
    """Where a report of an incident came from; a merged incident keeps all its sources."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="sources")
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=c.SourceKind.choices)
    system = models.CharField(
        _("source system"), max_length=30, blank=True, help_text=_("e.g. awsd, sind, who-ssa")
    )
    external_id = models.CharField(_("external reference"), max_length=100, blank=True)
    url = models.URLField(_("URL"), max_length=500, blank=True)
    reported_on = models.DateField(_("reported on"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    # Fingerprint of the imported row's facts: same hash, nothing to update.
    content_hash = models.CharField(max_length=64, blank=True)

    objects = VisibleThroughIncidentQuerySet.as_manager()

    class Meta:
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        constraints = [
            models.UniqueConstraint(
                fields=["system", "external_id"],
                condition=~Q(external_id=""),
                name="unique_external_reference",
            )
        ]

    def __str__(self):
        ref = f" {self.system}:{self.external_id}" if self.external_id else ""
        return f"{self.get_kind_display()}{ref}"


class RoadCrash(models.Model):
    """The facts of a road traffic crash, counted by the UN Road Safety Strategy."""

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="road_crash")
    vehicle_owner = models.CharField(
        _("vehicle owner"),
        max_length=12,
        choices=c.VehicleOwner.choices,
        default=c.VehicleOwner.UNKNOWN,
    )
    vehicle_type = models.CharField(
        _("vehicle type"), max_length=12, choices=c.VehicleType.choices, blank=True
    )
    driver_category = models.CharField(
        _("driver"),
        max_length=12,
        choices=c.DriverCategory.choices,
        default=c.DriverCategory.UNKNOWN,
    )
    seatbelt_worn = models.BooleanField(_("seatbelts worn"), null=True, blank=True)
    speed_related = models.BooleanField(_("speed-related"), null=True, blank=True)
    light_condition = models.CharField(
        _("day or night"),
        max_length=10,
        choices=c.LightCondition.choices,
        default=c.LightCondition.UNKNOWN,
    )
    third_party_killed = models.PositiveIntegerField(_("third parties killed"), default=0)
    third_party_seriously_injured = models.PositiveIntegerField(
        _("third parties seriously injured"), default=0
    )
    third_party_slightly_injured = models.PositiveIntegerField(
        _("third parties slightly injured"), default=0
    )

    objects = VisibleThroughIncidentQuerySet.as_manager()

    class Meta:
        verbose_name = _("road crash")
        verbose_name_plural = _("road crashes")

    def __str__(self):
        return f"road crash of {self.incident_id}"
