from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from salama.organisations.models import Membership, Organisation

User = get_user_model()


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user", "organisation"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["acronym", "name", "type"]
    list_filter = ["type"]
    search_fields = ["acronym", "name"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organisation", "role"]
    list_filter = ["role", "organisation"]
    search_fields = ["user__username", "organisation__acronym"]
    autocomplete_fields = ["user", "organisation"]


# Users are managed with their memberships on the same page.
admin.site.unregister(User)


@admin.register(User)
class SalamaUserAdmin(UserAdmin):
    inlines = [MembershipInline]
