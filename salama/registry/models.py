"""Victims-of-violence cases and their follow-up with host Governments (domain.md §8).

A case never stores a name in clear: the identity lives in :class:`Identity`, encrypted with a
key held outside the database. Everything else here (offence, country, dates, the follow-up
log) is pseudonymous and carries only the case's random reference.
"""

import datetime
import json

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from salama.core.lists import join_list
from salama.incidents import choices as ic
from salama.incidents.models import AffectedPerson, Incident
from salama.organisations.choices import Role
from salama.organisations.models import Organisation, organisations_where
from salama.registry import choices as rc

DEFAULT_OVERDUE_DAYS = 90


def overdue_days() -> int:
    """Days without a response or a milestone after which an open case is overdue."""
    return int(getattr(settings, "REGISTRY_OVERDUE_DAYS", DEFAULT_OVERDUE_DAYS))


def overdue_cutoff(today: datetime.date | None = None) -> datetime.date:
    return (today or timezone.localdate()) - datetime.timedelta(days=overdue_days())


def officer_organisation_ids(user) -> list[int]:
    """Organisations where ``user`` is a case officer (cached on the user object)."""
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_salama_case_org_ids", None)
    if cached is None:
        cached = sorted(
            set(
                user.memberships.filter(role=Role.CASE_OFFICER).values_list(
                    "organisation_id", flat=True
                )
            )
        )
        user._salama_case_org_ids = cached
    return cached


# The work-queue position of each status (Case.queue): open cases first, then proposals.
QUEUE_OF_STATUS = {
    rc.CaseStatus.OPEN: 0,
    rc.CaseStatus.PROPOSED: 1,
    rc.CaseStatus.CLOSED: 2,
    rc.CaseStatus.DECLINED: 3,
}


# The restricted cases a survivor focal point sees without being named on them.
FOCAL_POINT_STATUSES = (rc.CaseStatus.PROPOSED, rc.CaseStatus.DECLINED)


class CaseQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The registry's door: the cases ``user`` may open, identity included.

        - case officers of the affected person's organisation see its cases;
        - a sexual-violence case only to the officers named on it, or to an officer of that
          organisation holding an unexpired break-glass grant; while it is a proposal (nobody
          named yet), also to the organisation's survivor focal points, who take it on, and
          once declined still to them (the decision and its reason stay theirs to review);
        - everybody else (analysts, endorsers, other organisations, anonymous): nothing.
        """
        orgs = officer_organisation_ids(user)
        if not orgs:
            return self.none()
        now = timezone.now()
        named = CaseOfficer.objects.filter(case=models.OuterRef("pk"), user=user)
        glass = BreakGlass.objects.filter(case=models.OuterRef("pk"), user=user, expires_at__gt=now)
        focal = SurvivorFocalPoint.objects.filter(
            organisation=models.OuterRef("organisation_id"), user=user
        )
        restricted_ok = (
            (Q(status__in=FOCAL_POINT_STATUSES) & Q(models.Exists(focal)))
            | Q(models.Exists(named))
            | Q(models.Exists(glass))
        )
        return self.filter(Q(organisation_id__in=orgs) & (Q(sexual_violence=False) | restricted_ok))

    def reachable_for_break_glass(self, user):
        """Restricted cases an officer of the organisation may ask emergency access to,
        proposals included (a case officer who is not a focal point reaches one only this way)."""
        return self.filter(organisation_id__in=officer_organisation_ids(user), sexual_violence=True)

    def with_status(self, status: str):
        """By status, through the generated ``queue`` column that the indexes lead with."""
        return self.filter(queue=QUEUE_OF_STATUS[status])

    def overdue(self, today=None):
        return self.with_status(rc.CaseStatus.OPEN).filter(last_movement__lt=overdue_cutoff(today))


class Case(models.Model):
    """One person killed or seriously injured by violence, abducted, arrested or detained, or
    sexually assaulted, followed up with the host Government until closed."""

    reference = models.CharField(_("case reference"), max_length=16, unique=True)
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="registry_cases",
        verbose_name=_("the person's organisation"),
    )
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.PROTECT, related_name="registry_cases"
    )
    person = models.ForeignKey(
        AffectedPerson, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Which affected person of the incident this is: "<impact>:<n>" (n-th person with that
    # impact, aggregate rows counted person by person), so re-submitting proposes nothing twice.
    slot = models.CharField(max_length=40, blank=True)

    status = models.CharField(
        _("status"), max_length=10, choices=rc.CaseStatus.choices, default=rc.CaseStatus.OPEN
    )
    decision_reason = models.TextField(_("reason"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    offence = models.CharField(_("offence"), max_length=20, choices=rc.Offence.choices)
    sexual_violence = models.BooleanField(
        _("sexual violence (restricted to named case officers)"), default=False
    )
    perpetrator_type = models.CharField(
        _("perpetrator type"), max_length=20, choices=ic.PerpetratorType.choices, blank=True
    )
    country = models.CharField(_("country"), max_length=2)
    date = models.DateField(_("date of the offence"))
    gender = models.CharField(
        _("gender"), max_length=8, choices=ic.Gender.choices, default=ic.Gender.OTHER_OR_UNKNOWN
    )
    recruitment = models.CharField(
        _("recruitment"),
        max_length=20,
        choices=ic.Recruitment.choices,
        default=ic.Recruitment.UNKNOWN,
    )
    focal_point = models.CharField(_("host-Government focal point"), max_length=200, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="registry_cases",
        verbose_name=_("case owner"),
    )
    opened_on = models.DateField(_("opened on"), null=True, blank=True)
    # The latest of: opened, a response received, a milestone. The overdue clock runs from it.
    last_movement = models.DateField(_("last movement"), null=True, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)

    # Where the case sits in the work queue: open (0), proposed (1), closed (2), declined (3).
    # Kept by the database itself, so the list can walk an index in queue order; within open
    # cases the oldest last movement comes first, which puts overdue cases at the top.
    queue = models.GeneratedField(
        expression=models.Case(
            *(
                models.When(status=status, then=models.Value(queue))
                for status, queue in QUEUE_OF_STATUS.items()
            ),
            default=models.Value(len(QUEUE_OF_STATUS)),
        ),
        output_field=models.PositiveSmallIntegerField(),
        db_persist=True,
    )

    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["queue", "last_movement", "id"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        # Each filter of the list leads an index that goes on in the list's order, so a
        # filtered page is read in order and stops after 51 rows instead of sorting them all.
        indexes = [
            models.Index(fields=["organisation", "queue", "last_movement", "id"]),
            models.Index(fields=["offence", "queue", "last_movement", "id"]),
            models.Index(fields=["country", "queue", "last_movement", "id"]),
            models.Index(fields=["owner", "queue", "last_movement", "id"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "slot"],
                condition=~Q(slot=""),
                name="registry_case_one_per_person_slot",
            ),
            models.CheckConstraint(
                condition=~Q(offence=rc.Offence.SEXUAL_ASSAULT) | Q(sexual_violence=True),
                name="registry_sexual_assault_is_restricted",
            ),
        ]

    def __str__(self):
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status == rc.CaseStatus.OPEN

    def is_overdue(self, today=None) -> bool:
        return (
            self.is_open
            and self.last_movement is not None
            and self.last_movement < overdue_cutoff(today)
        )

    def days_since_movement(self, today=None) -> int | None:
        if self.last_movement is None:
            return None
        return ((today or timezone.localdate()) - self.last_movement).days

    def country_name(self) -> str:
        from salama.core.geo import country_name

        return country_name(self.country)


class CaseOfficer(models.Model):
    """A case officer named on a restricted (sexual-violence) case: only they see it."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="named_officers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    named_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    named_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "user"], name="registry_unique_named_officer")
        ]

    def __str__(self):
        return f"{self.user_id} on {self.case_id}"


class SurvivorFocalPoint(models.Model):
    """A case officer whom the organisation's admin has designated to take in proposed
    sexual-violence cases: while such a case is a proposal, only they see it."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="survivor_focal_points"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="survivor_focal_points"
    )
    designated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    designated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["organisation", "user__username"]
        verbose_name = _("survivor focal point")
        verbose_name_plural = _("survivor focal points")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "user"], name="registry_unique_survivor_focal_point"
            )
        ]

    def __str__(self):
        return f"{self.user} @ {self.organisation}"


class Identity(models.Model):
    """Who the person is, sealed with AES-256-GCM (see ``crypto``); the case id is bound in as
    associated data, so a ciphertext moved to another case does not open."""

    FIELDS = ("name", "staff_number", "nationality", "date_of_birth", "next_of_kin")
    PURPOSE = "identity"

    case = models.OneToOneField(
        Case, on_delete=models.CASCADE, primary_key=True, related_name="identity"
    )
    key_id = models.CharField(max_length=32, db_index=True)
    ciphertext = models.BinaryField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"identity of case {self.case_id} (key {self.key_id})"

    def seal(self, data: dict, key=None):
        from salama.registry import crypto

        clean = {name: str(data.get(name) or "") for name in self.FIELDS}
        payload = json.dumps(clean, sort_keys=True, separators=(",", ":")).encode()
        self.key_id, self.ciphertext = crypto.encrypt(
            payload, purpose=self.PURPOSE, record_id=self.case_id, key=key
        )

    def open(self) -> dict:
        from salama.registry import crypto

        raw = crypto.decrypt(
            self.key_id, self.ciphertext, purpose=self.PURPOSE, record_id=self.case_id
        )
        return json.loads(raw)


class FollowUp(models.Model):
    """One step taken with the host Government, and what came back."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="follow_ups")
    date = models.DateField(_("date"))
    channel = models.CharField(_("channel"), max_length=16, choices=rc.Channel.choices)
    from_entity = models.CharField(_("from"), max_length=200)
    authority = models.CharField(_("to which authority"), max_length=12, choices=rc.Authority)
    reference_no = models.CharField(_("reference number"), max_length=100, blank=True)
    ask_investigate = models.BooleanField(_("asked to investigate"), default=False)
    ask_inform = models.BooleanField(_("asked to inform"), default=False)
    ask_access = models.BooleanField(_("asked to grant access"), default=False)
    ask_release = models.BooleanField(_("asked to release"), default=False)
    response_received = models.BooleanField(_("response received"), default=False)
    response_date = models.DateField(_("response date"), null=True, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(response_received=False, response_date__isnull=True)
                | Q(response_received=True, response_date__isnull=False),
                name="registry_response_date_iff_received",
            )
        ]

    def __str__(self):
        return f"{self.date} {self.channel} → {self.authority}"

    def asked(self) -> list[str]:
        names = {
            "ask_investigate": _("investigate"),
            "ask_inform": _("inform"),
            "ask_access": _("grant access"),
            "ask_release": _("release"),
        }
        return [str(label) for field, label in names.items() if getattr(self, field)]

    def asked_text(self) -> str:
        """What was asked, as one list in the reader's language (its own separator: "، " in
        Arabic, "、" in Chinese); empty when nothing was asked."""
        return join_list(self.asked())


class Milestone(models.Model):
    """A step of the justice process, recorded in order, with its date and evidence."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="milestones")
    stage = models.CharField(_("milestone"), max_length=20, choices=rc.Stage.choices)
    date = models.DateField(_("date"))
    evidence = models.TextField(_("evidence"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "stage"], name="registry_stage_once")
        ]

    def __str__(self):
        return f"{self.date} {self.stage}"

    @property
    def rank(self) -> int:
        return rc.STAGE_RANK[self.stage]


class Detention(models.Model):
    """Arrest or detention facts; days held are computed, never typed."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="detention")
    authority = models.CharField(
        _("detaining authority"), max_length=12, choices=rc.DetainingAuthority.choices
    )
    notified_on = models.DateField(_("date notified to the organisation"), null=True, blank=True)
    notified_by = models.CharField(_("notified by"), max_length=200, blank=True)
    medical_access_on = models.DateField(_("medical team access granted"), null=True, blank=True)
    legal_access_on = models.DateField(_("legal counsel access granted"), null=True, blank=True)
    charges = models.TextField(_("charges stated"), blank=True)
    immunity_invoked = models.BooleanField(_("functional immunity invoked"), null=True, blank=True)
    release_date = models.DateField(_("release date"), null=True, blank=True)

    def __str__(self):
        return f"detention of case {self.case_id}"

    def days_held(self, today=None) -> int:
        end = self.release_date or (today or timezone.localdate())
        return max(0, (end - self.case.date).days)

    @property
    def access_granted(self) -> bool:
        return bool(self.medical_access_on or self.legal_access_on)


class Abduction(models.Model):
    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="abduction")
    abductor_type = models.CharField(
        _("abductor type"), max_length=10, choices=rc.AbductorType.choices
    )
    demands_made = models.BooleanField(_("demands made"), null=True, blank=True)
    demands = models.TextField(_("demands"), blank=True)
    proof_of_life = models.JSONField(_("proof-of-life dates"), default=list, blank=True)
    release_date = models.DateField(_("release date"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"),
        max_length=12,
        choices=rc.AbductionOutcome.choices,
        default=rc.AbductionOutcome.UNRESOLVED,
    )

    def __str__(self):
        return f"abduction of case {self.case_id}"

    def days_held(self, today=None) -> int:
        end = self.release_date or (today or timezone.localdate())
        return max(0, (end - self.case.date).days)


class Consent(models.Model):
    """A survivor's consent (or refusal) to one use of the case; the newest per use counts."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="consents")
    use = models.CharField(_("use"), max_length=12, choices=rc.ConsentUse.choices)
    given = models.BooleanField(_("consent given"))
    recorded_on = models.DateField(_("date"))
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["recorded_on", "id"]

    def __str__(self):
        return f"{self.use}: {self.given}"


class BreakGlassQuerySet(models.QuerySet):
    def for_review_by(self, user):
        """The uses of break-glass on cases of the organisations where ``user`` is an admin:
        what the review page lists. Admins see who, which case (its reference), when and why,
        never the case itself."""
        return self.filter(case__organisation__in=organisations_where(user, Role.ORG_ADMIN))


class BreakGlass(models.Model):
    """Emergency access by a case officer not named on a restricted case: time-limited,
    with a reason, audited and reported to the organisation's admins."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="break_glass")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.TextField(_("reason"))
    at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    # An organisation admin looks at each use afterwards (the break-glass review page).
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)

    objects = BreakGlassQuerySet.as_manager()

    class Meta:
        ordering = ["-at"]

    def __str__(self):
        return f"break-glass by {self.user_id} on {self.case_id}"

    @property
    def is_active(self) -> bool:
        return self.expires_at > timezone.now()


class Document(models.Model):
    """A file attached to a case, stored by its SHA-256 under DATA_DIR/registry/."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="documents")
    follow_up = models.ForeignKey(
        FollowUp, null=True, blank=True, on_delete=models.SET_NULL, related_name="documents"
    )
    milestone = models.ForeignKey(
        Milestone, null=True, blank=True, on_delete=models.SET_NULL, related_name="documents"
    )
    name = models.CharField(_("file name"), max_length=200)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=8, choices=rc.DocumentKind.choices)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return f"{self.name} ({self.sha256[:12]})"
