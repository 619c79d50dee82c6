from django.contrib import admin, messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from salama.sharing import agreements, keys
from salama.sharing.models import Agreement, ApiKey


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


@admin.register(Agreement)
class AgreementAdmin(admin.ModelAdmin):
    """Agreements are proposed, accepted and declined by organisation admins on the pages or
    with ``salama agreement`` (``salama.sharing.agreements`` checks the roles and audits each
    step); here they are only listed, and ended. Ending goes through the same function, so the
    admin user must administer one side of each agreement: the others are named, not ended."""

    list_display = ("provider", "recipient", "level", "state", "term")
    list_filter = ("level",)
    list_select_related = ("provider", "recipient")
    search_fields = ("provider__acronym", "recipient__acronym")
    readonly_fields = [f.name for f in Agreement._meta.fields]
    actions = ["end"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # ended, never deleted: the audit log refers to it

    @admin.display(description=_("state"))
    def state(self, obj):
        return obj.get_state_display()

    @admin.display(description=_("term"), ordering="starts_on")
    def term(self, obj):
        if obj.ends_on:
            return gettext("%(start)s to %(end)s") % {"start": obj.starts_on, "end": obj.ends_on}
        return gettext("from %(start)s") % {"start": obj.starts_on}

    @admin.action(description=_("End the selected agreements"))
    def end(self, request, queryset):
        ended = 0
        for agreement in queryset.select_related("provider", "recipient"):
            try:
                agreements.end(agreement, by=request.user)
            except agreements.AgreementError as exc:
                self.message_user(
                    request,
                    gettext("Not ended: %(agreement)s. %(reason)s")
                    % {"agreement": agreement, "reason": exc},
                    messages.ERROR,
                )
            else:
                ended += 1
                self.message_user(
                    request,
                    gettext("Ended: %(agreement)s.") % {"agreement": agreement},
                    messages.SUCCESS,
                )
        if not ended:
            self.message_user(request, gettext("No agreement was ended."), messages.WARNING)
