from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from salama.organisations.models import Organisation


class ImportBatch(models.Model):
    """One run of an importer over one file, with its validation report."""

    class State(models.TextChoices):
        RUNNING = "running", pgettext_lazy("import status", "Running")
        DONE = "done", pgettext_lazy("import status", "Done")
        FAILED = "failed", pgettext_lazy("import status", "Failed")

    format = models.CharField(_("format"), max_length=30)
    layout = models.CharField(_("layout detected"), max_length=60, blank=True)
    encoding = models.CharField(_("encoding detected"), max_length=30, blank=True)
    filename = models.CharField(_("file name"), max_length=300)
    sha256 = models.CharField(max_length=64, blank=True)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="import_batches"
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.RUNNING)
    error = models.TextField(blank=True)
    rows_read = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    quarantined = models.PositiveIntegerField(default=0)
    reasons = models.JSONField(default=dict, blank=True)
    notes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")

    def __str__(self):
        return f"#{self.pk} {self.format} {self.filename}"

    def report(self) -> dict:
        """The machine-readable report (``--format json``)."""
        return {
            "batch": self.pk,
            "format": self.format,
            "layout": self.layout,
            "encoding": self.encoding,
            "file": self.filename,
            "state": self.state,
            "rows_read": self.rows_read,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "quarantined": self.quarantined,
            "reasons": self.reasons,
            "notes": self.notes,
        }


class QuarantinedRow(models.Model):
    """A row an importer could not turn into an incident, kept whole with the reason."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="quarantine")
    row_number = models.PositiveIntegerField(_("row number in the file"))
    raw = models.JSONField(_("raw content"))
    reason = models.CharField(_("reason code"), max_length=60)
    message = models.TextField(_("message"))
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["batch", "row_number"]
        verbose_name = _("quarantined row")
        verbose_name_plural = _("quarantined rows")

    def __str__(self):
        return f"batch {self.batch_id} row {self.row_number}: {self.reason}"


class ColumnMapping(models.Model):
    """A named, saved column mapping for the ``table``, ``kobo`` and ``hxl`` importers.

    ``spec`` is the mapping itself, the same structure as a YAML mapping file (see
    ``salama/interchange/formats/table.py``): which column holds the ID, the date, the country,
    each incident field (with value mappings for category lists) and each count of people.
    It belongs to one organisation; its analysts and admins made it and may reuse it.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="column_mappings"
    )
    name = models.SlugField(_("name"), max_length=60)
    format = models.CharField(_("format"), max_length=30, default="table")
    spec = models.JSONField(_("mapping"), default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organisation", "name"]
        verbose_name = _("column mapping")
        verbose_name_plural = _("column mappings")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"], name="unique_column_mapping_name"
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.format})"


class Upload(models.Model):
    """A file uploaded on the import page, kept in the data directory until it is imported.

    The person previews it (first rows, column mapping, validation report) before anything is
    committed; ``batch`` is set once the import ran. ``spec`` is the mapping last checked on
    the page (table, kobo, hxl), used as it was shown.
    """

    token = models.CharField(max_length=32, unique=True)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    format = models.CharField(_("format"), max_length=30)
    filename = models.CharField(_("file name"), max_length=300)
    stored_as = models.CharField(max_length=300)
    size = models.PositiveBigIntegerField(default=0)
    sheet = models.CharField(_("sheet"), max_length=100, blank=True)
    spec = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    batch = models.ForeignKey(
        ImportBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("upload")
        verbose_name_plural = _("uploads")

    def __str__(self):
        return f"{self.filename} ({self.format})"
