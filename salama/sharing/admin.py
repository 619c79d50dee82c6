from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from salama.sharing import keys
from salama.sharing.models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are made with ``salama apikey create`` (the token is shown once, on the command
    line); here they are listed and revoked."""

    list_display = (
        "prefix",
        "organisation",
        "name",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    )
    list_filter = ("organisation",)
    search_fields = ("prefix", "name", "organisation__acronym")
    readonly_fields = [f.name for f in ApiKey._meta.fields]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # revoked, never deleted: the audit log refers to it

    @admin.action(description=_("Revoke the selected API keys"))
    def revoke(self, request, queryset):
        for key in queryset.filter(revoked_at__isnull=True):
            keys.revoke(key, by=request.user)
        self.message_user(request, _("The selected keys are revoked."), messages.SUCCESS)
