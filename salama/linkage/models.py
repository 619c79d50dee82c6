"""Record linkage: runs, candidate pairs for review, remembered rejections, merge provenance.

A candidate pair is two incidents from different sources that the model thinks may be one
real event, with its probability and the reasons (which fields agreed). An analyst confirms
it (a merge that keeps every source and records, field by field, who said what) or rejects it
(remembered, never proposed again). A merge can be undone: the snapshots taken before it
restore both incidents.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from salama.incidents.models import Incident


class LinkageSettings(models.Model):
    """Instance-wide linkage settings: one row. Automatic merging is off until someone turns
    it on, because a wrong merge hides a real incident from every count."""

    review_threshold = models.FloatField(
        _("propose pairs from this probability"),
        default=0.5,
        validators=[MinValueValidator(0.05), MaxValueValidator(1)],
    )
    auto_merge = models.BooleanField(_("merge automatically above the threshold"), default=False)
    auto_merge_threshold = models.FloatField(
        _("automatic merge threshold"),
        default=0.995,
        validators=[MinValueValidator(0.5), MaxValueValidator(1)],
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("linkage settings")
        verbose_name_plural = _("linkage settings")

    def __str__(self):
        return "linkage settings"

    @classmethod
    def current(cls) -> "LinkageSettings":
        found, _created = cls.objects.get_or_create(pk=1)
        return found


class LinkageRun(models.Model):
    """One run of the model over the incidents not merged."""

    class Status(models.TextChoices):
        QUEUED = "queued", pgettext_lazy("linkage run status", "Queued")
        RUNNING = "running", pgettext_lazy("linkage run status", "Running")
        DONE = "done", pgettext_lazy("linkage run status", "Done")
        FAILED = "failed", pgettext_lazy("linkage run status", "Failed")

    engine = models.CharField(_("engine"), max_length=10, default="duckdb")
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    threshold = models.FloatField(_("threshold"), default=0.5)
    incidents = models.PositiveIntegerField(_("incidents compared"), default=0)
    pairs = models.PositiveIntegerField(_("pairs above the threshold"), default=0)
    proposed = models.PositiveIntegerField(_("pairs newly proposed"), default=0)
    skipped_rejected = models.PositiveIntegerField(_("pairs rejected before"), default=0)
    auto_merged = models.PositiveIntegerField(_("pairs merged automatically"), default=0)
    seconds = models.FloatField(_("seconds"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("linkage run")
        verbose_name_plural = _("linkage runs")

    def __str__(self):
        return f"linkage run {self.pk} ({self.status})"


class CandidatePair(models.Model):
    """Two incidents that may be one event; ``incident_a`` always has the lower id."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", pgettext_lazy("pair status", "Proposed")
        CONFIRMED = "confirmed", pgettext_lazy("pair status", "Confirmed (merged)")
        REJECTED = "rejected", pgettext_lazy("pair status", "Rejected")
        UNMERGED = "unmerged", pgettext_lazy("pair status", "Merged, then undone")

    incident_a = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+")
    incident_b = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+")
    probability = models.FloatField(_("match probability"))
    match_weight = models.FloatField(_("match weight"), default=0)
    agreements = models.JSONField(_("fields that agreed"), default=list)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PROPOSED
    )
    run = models.ForeignKey(
        LinkageRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="candidates"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        ordering = ["-probability", "id"]
        verbose_name = _("candidate pair")
        verbose_name_plural = _("candidate pairs")
        constraints = [
            models.UniqueConstraint(fields=["incident_a", "incident_b"], name="unique_pair"),
            models.CheckConstraint(
                condition=Q(incident_a__lt=models.F("incident_b")), name="pair_a_lower"
            ),
        ]
        indexes = [models.Index(fields=["status", "probability"])]

    def __str__(self):
        return f"{self.incident_a_id} ~ {self.incident_b_id} ({self.probability:.3f})"


class Rejection(models.Model):
    """Two incidents an analyst said are different events: never proposed again. Kept apart
    from the pair so clearing or re-running the queue cannot forget it."""

    incident_a = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+")
    incident_b = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+")
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rejected_at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("rejected pair")
        verbose_name_plural = _("rejected pairs")
        constraints = [
            models.UniqueConstraint(fields=["incident_a", "incident_b"], name="unique_rejection"),
            models.CheckConstraint(
                condition=Q(incident_a__lt=models.F("incident_b")), name="rejection_a_lower"
            ),
        ]

    def __str__(self):
        return f"{self.incident_a_id} ≠ {self.incident_b_id}"


class MergeRecord(models.Model):
    """A merge of ``duplicate`` into ``survivor``: who said what, and how to undo it.

    ``provenance`` is a list, one entry per compared field:
    ``{"field", "label", "agree", "values": [{"incident", "sources", "value"}, ...]}``.
    ``survivor_before`` / ``duplicate_before`` are full snapshots taken just before.
    """

    survivor = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="merges_kept")
    duplicate = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="merges_absorbed"
    )
    pair = models.ForeignKey(
        CandidatePair, null=True, blank=True, on_delete=models.SET_NULL, related_name="merges"
    )
    automatic = models.BooleanField(_("merged automatically"), default=False)
    probability = models.FloatField(_("match probability"), null=True, blank=True)
    provenance = models.JSONField(default=list)
    moved_sources = models.JSONField(default=list)
    survivor_before = models.JSONField()
    duplicate_before = models.JSONField()
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    merged_at = models.DateTimeField(auto_now_add=True)
    unmerged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    unmerged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-merged_at", "-id"]
        verbose_name = _("merge")
        verbose_name_plural = _("merges")
        constraints = [
            # A duplicate is absorbed once at a time; after an undo it may be merged again.
            models.UniqueConstraint(
                fields=["duplicate"],
                condition=Q(unmerged_at__isnull=True),
                name="one_live_merge_per_duplicate",
            )
        ]

    def __str__(self):
        return f"{self.duplicate_id} → {self.survivor_id}"

    @property
    def is_live(self) -> bool:
        return self.unmerged_at is None

    def disagreements(self) -> list[dict]:
        return [entry for entry in self.provenance if not entry.get("agree")]
