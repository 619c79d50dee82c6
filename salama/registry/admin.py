"""Admin for the survivor focal points only.

Cases, identities, consent and break-glass grants are not here: they are read and written only
through the registry's pages (``visible_to`` and ``services``), as incidents are. Organisation
admins designate focal points on the registry's own page; this is the same list for the
people who run the installation, with the same rule (case officers only) and the same audit.
"""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from salama.core import audit
from salama.organisations.choices import Role
from salama.organisations.models import has_role
from salama.registry.models import SurvivorFocalPoint


class SurvivorFocalPointForm(forms.ModelForm):
    class Meta:
        model = SurvivorFocalPoint
        fields = ["organisation", "user"]

    def clean(self):
        data = super().clean()
        organisation, user = data.get("organisation"), data.get("user")
        if organisation and user and not has_role(user, organisation.pk, Role.CASE_OFFICER):
            self.add_error(
                "user", _("Only case officers of the organisation can be survivor focal points.")
            )
        return data


@admin.register(SurvivorFocalPoint)
class SurvivorFocalPointAdmin(admin.ModelAdmin):
    form = SurvivorFocalPointForm
    list_display = ["user", "organisation", "designated_by", "designated_at"]
    list_filter = ["organisation"]
    search_fields = ["user__username", "organisation__acronym"]
    autocomplete_fields = ["user", "organisation"]
    readonly_fields = ["designated_by", "designated_at"]

    def has_change_permission(self, request, obj=None):
        # A designation is made or removed, never moved to another person or organisation.
        return False if obj is not None else super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        obj.designated_by = request.user
        super().save_model(request, obj, form, change)
        audit.record(
            "registry:focal_point:designate",
            actor=request.user,
            obj=obj.organisation,
            after={"user": obj.user_id, "username": obj.user.get_username(), "via": "admin"},
        )

    def delete_model(self, request, obj):
        audit.record(
            "registry:focal_point:remove",
            actor=request.user,
            obj=obj.organisation,
            before={"user": obj.user_id, "username": obj.user.get_username(), "via": "admin"},
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset.select_related("user", "organisation"):
            self.delete_model(request, obj)
