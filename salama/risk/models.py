"""Security risk assessments, programme criticality and premises (domain.md §1, §2).

An assessment belongs to an organisation and an SRM area, carries a TLP marking and follows
draft → submitted → approved → superseded; an approved assessment is frozen, and its residual
risk is what the go / no-go of every activity in the area is weighed against.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import BooleanField, Case, Q, Value, When
from django.utils.translation import gettext_lazy as _

from salama.core import markings
from salama.core.markings import TLP
from salama.incidents import grants
from salama.organisations.models import Organisation, organisation_ids
from salama.risk import choices as rc
from salama.risk import rules


def _signed_in(user) -> bool:
    return getattr(user, "is_authenticated", False)


class RiskMatrix(models.Model):
    """One version of a likelihood × impact → risk level matrix, as loaded from its file.

    ``organisation`` empty: the instance default (domain.md §1.4). Rows are never edited: a
    changed matrix is a new version, so an old assessment is always re-read with its own.
    """

    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    version = models.CharField(_("version"), max_length=60)
    name = models.CharField(_("name"), max_length=200)
    data = models.JSONField(_("matrix"))
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    loaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-loaded_at", "-id"]
        verbose_name = _("risk matrix")
        verbose_name_plural = _("risk matrices")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "version"], name="unique_matrix_version_per_org"
            ),
            models.UniqueConstraint(
                fields=["version"],
                condition=Q(organisation__isnull=True),
                name="unique_default_matrix_version",
            ),
        ]

    def __str__(self):
        return f"{self.version} ({self.organisation or _('default')})"

    def clean(self):
        try:
            rules.parse_matrix(self.data)
        except rules.RuleError as error:
            raise ValidationError({"data": error.problems}) from None

    @property
    def matrix(self) -> rules.Matrix:
        cached = getattr(self, "_matrix", None)
        if cached is None:
            cached = self._matrix = rules.parse_matrix(self.data)
        return cached


class AreaQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Areas of the organisations ``user`` belongs to."""
        if not _signed_in(user):
            return self.none()
        return self.filter(organisation_id__in=organisation_ids(user))


class Area(models.Model):
    """An SRM area: a country, a list of its provinces (admin 1), or a duty station."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="risk_areas"
    )
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=12, choices=rc.AreaKind.choices)
    country = models.CharField(_("country"), max_length=2)
    admin1 = models.JSONField(_("provinces / regions (admin 1)"), default=list, blank=True)
    duty_station = models.CharField(_("duty station"), max_length=120, blank=True)

    objects = AreaQuerySet.as_manager()

    class Meta:
        ordering = ["country", "name"]
        verbose_name = _("SRM area")
        verbose_name_plural = _("SRM areas")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="unique_area_name")
        ]

    def __str__(self):
        return self.name

    def clean(self):
        from salama.core.geo import is_country_code

        errors = {}
        if not is_country_code(self.country):
            errors["country"] = _("%(code)r is not a country code.") % {"code": self.country}
        if not isinstance(self.admin1, list) or not all(isinstance(a, str) for a in self.admin1):
            errors["admin1"] = _("Give the provinces as a list of names.")
        elif self.kind == rc.AreaKind.ADMIN1 and not self.admin1:
            errors["admin1"] = _("An admin-1 area needs at least one province or region.")
        if self.kind == rc.AreaKind.DUTY_STATION and not self.duty_station.strip():
            errors["duty_station"] = _("Name the duty station.")
        if errors:
            raise ValidationError(errors)


# The assessments a sharing agreement may share: those the provider's designated approver
# signed off (the current one and those it superseded). A submitted one is not yet the
# organisation's position: it may go back to draft and change, so it stays inside.
SHAREABLE_STATUSES = (rc.AssessmentStatus.APPROVED, rc.AssessmentStatus.SUPERSEDED)


class AssessmentQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The assessments ``user`` may see, in the spirit of the incidents' door.

        - TLP:CLEAR / GREEN: every signed-in user, once submitted (drafts: own organisation);
        - TLP:AMBER: members of the owning organisation, and of organisations it shares its
          assessments with (``incidents.grants``, subject ``assessments``: a full sharing
          agreement that says so), once approved, for areas in the agreement's countries;
        - TLP:AMBER+STRICT: members of the owning organisation only;
        - TLP:RED: its author, its designated approver and whoever approved it;
        - anonymous visitors: nothing.
        """
        if not _signed_in(user):
            return self.none()
        own_org = Q(organisation_id__in=organisation_ids(user))
        amber = own_org
        if shared := grants.for_user(user, grants.ASSESSMENTS):
            amber = own_org | (
                grants.as_q(shared, country="area__country") & Q(status__in=SHAREABLE_STATUSES)
            )
        allowed = Case(
            When(
                marking__in=markings.INSTANCE_WIDE,
                then=~Q(status=rc.AssessmentStatus.DRAFT) | own_org,
            ),
            When(marking__in=markings.SHAREABLE, then=amber),
            When(marking__in=markings.ORGANISATION_ONLY, then=own_org),
            When(
                marking__in=markings.NAMED_ONLY,
                then=Q(created_by=user) | Q(designated_approver=user) | Q(approved_by=user),
            ),
            default=Value(False),
            output_field=BooleanField(),
        )
        return self.filter(allowed)

    def approved(self):
        return self.filter(status=rc.AssessmentStatus.APPROVED)


class Assessment(models.Model):
    """A security risk assessment of one area for one period (the SRM steps of domain.md §1.2).

    ``matrix`` is the matrix version the ratings were made with; ``risk_level`` and
    ``residual_risk`` are the highest of its threat events, fixed when it is submitted.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="risk_assessments"
    )
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="assessments")
    marking = models.CharField(
        _("sensitivity marking"), max_length=12, choices=TLP.choices, default=TLP.AMBER
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=rc.AssessmentStatus.choices,
        default=rc.AssessmentStatus.DRAFT,
    )
    matrix = models.ForeignKey(
        RiskMatrix, on_delete=models.PROTECT, related_name="assessments", verbose_name=_("matrix")
    )
    # Step 1: area and time frame
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    # Step 2: situation analysis (the fields of the UNSMS Risk Analysis Tool)
    political = models.TextField(_("political"), blank=True)
    economic = models.TextField(_("economic"), blank=True)
    social = models.TextField(_("social"), blank=True)
    environmental = models.TextField(_("environmental"), blank=True)
    infrastructure = models.TextField(_("infrastructure"), blank=True)
    security_forces = models.TextField(_("country security forces"), blank=True)
    threat_actors = models.TextField(_("threat groups / actors"), blank=True)
    un_mandate = models.TextField(_("UN mandate"), blank=True)
    main_issues = models.TextField(_("main issues for humanitarian / development work"), blank=True)
    # Step 3: programme assessment (who / when / where / what)
    programme_partners = models.TextField(_("key partners"), blank=True)
    programme_personnel = models.TextField(_("personnel involved"), blank=True)
    programme_frequency = models.TextField(_("frequency"), blank=True)
    programme_locations = models.TextField(_("locations"), blank=True)
    # Outcome and review
    risk_level = models.CharField(
        _("highest risk"), max_length=12, choices=rc.RiskLevel.choices, blank=True
    )
    residual_risk = models.CharField(
        _("highest residual risk"), max_length=12, choices=rc.RiskLevel.choices, blank=True
    )
    review_date = models.DateField(_("review by"))
    review_triggers = models.TextField(_("review triggers"), blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    designated_approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("designated approver"),
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    superseded_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="supersedes"
    )
    superseded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AssessmentQuerySet.as_manager()

    class Meta:
        ordering = ["-period_start", "-id"]
        verbose_name = _("security risk assessment")
        verbose_name_plural = _("security risk assessments")
        indexes = [models.Index(fields=["area", "status"])]
        constraints = [
            # At most one current approved assessment per area: the one decisions use.
            models.UniqueConstraint(
                fields=["area"],
                condition=Q(status="approved"),
                name="one_approved_assessment_per_area",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="assessment_period_in_order",
            ),
        ]

    def __str__(self):
        return f"{self.area} {self.period_start:%Y-%m-%d}–{self.period_end:%Y-%m-%d}"

    def clean(self):
        if self.period_start and self.period_end and self.period_end < self.period_start:
            raise ValidationError({"period_end": _("The period ends before it starts.")})
        if (
            self.area_id
            and self.organisation_id
            and self.area.organisation_id != (self.organisation_id)
        ):
            raise ValidationError({"area": _("The area belongs to another organisation.")})

    def highest(self) -> tuple[str, str]:
        """The highest inherent and residual risk of its threat events ('' when none)."""
        levels = list(self.threat_events.values_list("risk_level", "residual_risk"))
        inherent = max((lv[0] for lv in levels), key=rules.risk_rank, default="")
        residual = max((lv[1] for lv in levels), key=rules.risk_rank, default="")
        return inherent, residual


class GeneralThreat(models.Model):
    """SRM step 4a: one threat category rated on intent, capability and inhibiting context."""

    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="general_threats"
    )
    category = models.CharField(
        _("threat category"), max_length=16, choices=rc.ThreatCategory.choices
    )
    intent = models.PositiveSmallIntegerField(_("intent"), choices=rc.ThreatRating.choices)
    capability = models.PositiveSmallIntegerField(_("capability"), choices=rc.ThreatRating.choices)
    inhibiting_context = models.PositiveSmallIntegerField(
        _("inhibiting context"), choices=rc.ThreatRating.choices
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "category"], name="one_general_threat_per_category"
            )
        ]

    def __str__(self):
        return self.get_category_display()


class ThreatEvent(models.Model):
    """A specific threat event (SRM step 5), its risk before and after measures, and the
    strategy chosen for it. Risk levels are looked up in the assessment's matrix on save."""

    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="threat_events"
    )
    category = models.CharField(
        _("threat category"), max_length=16, choices=rc.ThreatCategory.choices
    )
    description = models.CharField(_("threat event"), max_length=300)
    likelihood = models.CharField(_("likelihood"), max_length=20, choices=rc.Likelihood.choices)
    impact = models.CharField(_("impact"), max_length=12, choices=rc.Impact.choices)
    risk_level = models.CharField(_("risk"), max_length=12, choices=rc.RiskLevel.choices)
    residual_likelihood = models.CharField(
        _("residual likelihood"), max_length=20, choices=rc.Likelihood.choices
    )
    residual_impact = models.CharField(
        _("residual impact"), max_length=12, choices=rc.Impact.choices
    )
    residual_risk = models.CharField(
        _("residual risk"), max_length=12, choices=rc.RiskLevel.choices
    )
    strategy = models.CharField(_("strategy"), max_length=10, choices=rc.Strategy.choices)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.description

    def save(self, *args, **kwargs):
        matrix = self.assessment.matrix.matrix
        self.risk_level = matrix.level(self.likelihood, self.impact)
        self.residual_risk = matrix.level(self.residual_likelihood, self.residual_impact)
        super().save(*args, **kwargs)


class Measure(models.Model):
    """A preventive or mitigating SRM measure, who owns it and how far it has got."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="measures")
    threat_event = models.ForeignKey(
        ThreatEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="measures"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=rc.MeasureKind.choices)
    description = models.TextField(_("measure"))
    owner = models.CharField(_("owner"), max_length=120)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=rc.MeasureStatus.choices,
        default=rc.MeasureStatus.PLANNED,
    )
    due_date = models.DateField(_("due"), null=True, blank=True)

    class Meta:
        ordering = ["due_date", "id"]

    def __str__(self):
        return self.description[:80]


class ApprovalAuthority(models.Model):
    """Who in an organisation is designated to accept which residual risk (domain.md §2.2).

    Holding the approver role alone is not enough: the level says how high a risk the person
    may accept (a higher level may accept a lower risk).
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="approval_authorities"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="approval_authorities"
    )
    level = models.CharField(_("may accept up to"), max_length=24, choices=rc.ApproverLevel.choices)

    class Meta:
        verbose_name = _("approval authority")
        verbose_name_plural = _("approval authorities")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "user"], name="one_authority_per_org")
        ]

    def __str__(self):
        return f"{self.user} — {self.get_level_display()} @ {self.organisation}"


class ActivityQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Activities of the organisations ``user`` belongs to (programme data stays inside)."""
        if not _signed_in(user):
            return self.none()
        return self.filter(organisation_id__in=organisation_ids(user))


class Activity(models.Model):
    """A programme output of an organisation, carried out in one or more areas."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="risk_activities"
    )
    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("activity"), max_length=200)
    description = models.TextField(_("description"), blank=True)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        ordering = ["code", "id"]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "code"], name="unique_activity_code")
        ]

    def __str__(self):
        return f"{self.code} {self.name}"


class ActivityAreaQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not _signed_in(user):
            return self.none()
        return self.filter(activity__organisation_id__in=organisation_ids(user))


class ActivityArea(models.Model):
    """An activity as carried out in one area, with its programme criticality there.

    PC2–PC4 come from contribution × likelihood of implementation through the PC table; PC1 is
    a separate yes / no with its reason. ``pc_level`` is derived on save.
    """

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="areas")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="activities")
    contribution = models.PositiveSmallIntegerField(
        _("contribution to strategic results (1–4)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(4)],
    )
    implementation_likelihood = models.PositiveSmallIntegerField(
        _("likelihood of implementation (1–4)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(4)],
    )
    pc1 = models.BooleanField(_("PC1: life-saving at scale or directed by the SG"), default=False)
    pc1_reason = models.TextField(_("why PC1"), blank=True)
    pc_level = models.CharField(_("PC level"), max_length=3, choices=rc.PCLevel.choices, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ActivityAreaQuerySet.as_manager()

    class Meta:
        ordering = ["activity", "area"]
        verbose_name = _("activity in an area")
        verbose_name_plural = _("activities in areas")
        constraints = [
            models.UniqueConstraint(fields=["activity", "area"], name="unique_activity_area"),
            models.CheckConstraint(
                condition=Q(pc1=False) | ~Q(pc1_reason=""), name="pc1_needs_a_reason"
            ),
        ]

    def __str__(self):
        return f"{self.activity} @ {self.area}"

    def save(self, *args, **kwargs):
        self.pc_level = (
            rules.pc_rules().pc_level(
                pc1=self.pc1,
                contribution=self.contribution,
                likelihood=self.implementation_likelihood,
            )
            or ""
        )
        super().save(*args, **kwargs)

    def clean(self):
        if self.pc1 and not self.pc1_reason.strip():
            raise ValidationError({"pc1_reason": _("Say why the activity is PC1.")})
        for name in ("contribution", "implementation_likelihood"):
            value = getattr(self, name)
            if value is not None and value not in rules.SCALE:
                raise ValidationError({name: _("Rate it from 1 to 4.")})


class RiskAcceptance(models.Model):
    """An approver's acceptance of an activity's residual risk in an area, with the facts it
    was given under (assessment, PC level, residual risk) and its expiry. Never edited: a
    new acceptance is a new row, so the record of who accepted what stays whole."""

    activity_area = models.ForeignKey(
        ActivityArea, on_delete=models.CASCADE, related_name="acceptances"
    )
    assessment = models.ForeignKey(Assessment, on_delete=models.PROTECT, related_name="+")
    pc_level = models.CharField(_("PC level"), max_length=3, choices=rc.PCLevel.choices)
    residual_risk = models.CharField(
        _("residual risk"), max_length=12, choices=rc.RiskLevel.choices
    )
    approver_level = models.CharField(
        _("accepted at"), max_length=24, choices=rc.ApproverLevel.choices
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField()
    expires_on = models.DateField(_("valid until"))
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["-approved_at", "-id"]
        indexes = [models.Index(fields=["activity_area", "approved_at"])]

    def __str__(self):
        return f"{self.activity_area} accepted {self.approved_at:%Y-%m-%d}"

    def as_rule(self) -> rules.Acceptance:
        return rules.Acceptance(
            assessment_id=self.assessment_id,
            pc_level=self.pc_level,
            residual_risk=self.residual_risk,
            approver_level=self.approver_level,
            approved_by=self.approved_by.get_username(),
            approved_on=self.approved_at.date(),
            expires_on=self.expires_on,
        )


# ----------------------------------------------------------------------------------- premises


class PremisesQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Premises of the organisations ``user`` belongs to: where staff sleep stays inside."""
        if not _signed_in(user):
            return self.none()
        return self.filter(organisation_id__in=organisation_ids(user))


class Premises(models.Model):
    """An office, residence, warehouse or health facility whose security is checked."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="premises"
    )
    area = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.SET_NULL, related_name="premises"
    )
    name = models.CharField(_("name"), max_length=160)
    kind = models.CharField(_("kind"), max_length=16, choices=rc.PremisesKind.choices)
    country = models.CharField(_("country"), max_length=2)
    place = models.CharField(_("place"), max_length=200, blank=True)

    objects = PremisesQuerySet.as_manager()

    class Meta:
        ordering = ["country", "name"]
        verbose_name = _("premises")
        verbose_name_plural = _("premises")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="unique_premises_name")
        ]

    def __str__(self):
        return self.name


class ChecklistItem(models.Model):
    """One item of the security compliance checklist; configurable per organisation
    (``organisation`` empty: the default list shipped in ``data/premises_checklist.yaml``)."""

    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    code = models.SlugField(_("code"), max_length=40)
    text = models.CharField(_("requirement"), max_length=300)
    kinds = models.JSONField(_("applies to"), default=list)
    active = models.BooleanField(_("in use"), default=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "code"], name="unique_item_per_org"),
            models.UniqueConstraint(
                fields=["code"],
                condition=Q(organisation__isnull=True),
                name="unique_default_item",
            ),
        ]

    def __str__(self):
        return self.text


class ChecklistAnswer(models.Model):
    """The latest answer for one checklist item at one premises (history in the audit log)."""

    premises = models.ForeignKey(Premises, on_delete=models.CASCADE, related_name="answers")
    item = models.ForeignKey(ChecklistItem, on_delete=models.PROTECT, related_name="+")
    answer = models.CharField(_("answer"), max_length=3, choices=rc.ComplianceAnswer.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    checked_on = models.DateField(_("checked on"))
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["premises", "item"], name="one_answer_per_item")
        ]

    def __str__(self):
        return f"{self.premises}: {self.item_id} {self.answer}"


class Finding(models.Model):
    """A compliance finding at a premises and the corrective action that closes it."""

    premises = models.ForeignKey(Premises, on_delete=models.CASCADE, related_name="findings")
    item = models.ForeignKey(
        ChecklistItem, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    description = models.TextField(_("finding"))
    corrective_action = models.TextField(_("corrective action"))
    owner = models.CharField(_("owner"), max_length=120)
    due_date = models.DateField(_("due"))
    status = models.CharField(
        _("status"), max_length=10, choices=rc.ActionStatus.choices, default=rc.ActionStatus.OPEN
    )
    closed_on = models.DateField(_("closed on"), null=True, blank=True)

    class Meta:
        ordering = ["status", "due_date", "id"]

    def __str__(self):
        return self.description[:80]

    def is_overdue(self, today) -> bool:
        return self.status == rc.ActionStatus.OPEN and self.due_date < today
