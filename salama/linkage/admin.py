from django.contrib import admin

from salama.core import audit
from salama.linkage.models import LinkageSettings


@admin.register(LinkageSettings)
class LinkageSettingsAdmin(admin.ModelAdmin):
    """Where an administrator turns automatic merging on (it is off by default)."""

    list_display = ("review_threshold", "auto_merge", "auto_merge_threshold", "updated_at")
    readonly_fields = ("updated_at", "updated_by")

    def has_add_permission(self, request):
        return not LinkageSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        """Saved with an audit entry: turning automatic merging on is a decision to record."""
        before = audit.snapshot(LinkageSettings.current(), exclude=("updated_at",))
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
        audit.record(
            "linkage:settings",
            actor=request.user,
            obj=obj,
            before=before,
            after=audit.snapshot(obj, exclude=("updated_at",)),
        )
