from django.contrib import admin

from salama.analytics.models import Headcount


@admin.register(Headcount)
class HeadcountAdmin(admin.ModelAdmin):
    list_display = ("organisation", "country", "year", "staff", "national_staff")
    list_filter = ("year", "organisation")
    search_fields = ("organisation__acronym", "country")
