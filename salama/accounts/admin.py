from django.contrib import admin

from salama.accounts.models import SecondFactor


@admin.register(SecondFactor)
class SecondFactorAdmin(admin.ModelAdmin):
    """Administrators see who has a second factor and can remove one (a lost phone, with no
    recovery code left); they never see or set the secret."""

    list_display = ("user", "confirmed_at", "created_at")
    search_fields = ("user__username",)
    fields = ("user", "confirmed_at", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
