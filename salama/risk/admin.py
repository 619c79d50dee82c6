"""Admin for the configuration of risk management: matrices (validated monotone on save),
areas, approval authorities, activities and their criticality, the premises checklist.

Assessments and acceptances are not here: they carry TLP markings and a workflow, so they are
read and written only through the pages (``visible_to`` and ``services``), as incidents are.
"""

import json

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from salama.core import audit
from salama.risk import rules
from salama.risk.models import (
    Activity,
    ActivityArea,
    ApprovalAuthority,
    Area,
    ChecklistItem,
    Premises,
    RiskMatrix,
)


class RiskMatrixForm(forms.ModelForm):
    """A new matrix version, pasted as YAML or JSON in the shape of the shipped file."""

    source = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text="YAML or JSON: version, name and one row of five risk levels per likelihood "
        "(see salama/risk/data/risk_matrix_default.yaml).",
    )

    class Meta:
        model = RiskMatrix
        fields = ["organisation"]

    def clean_source(self):
        import yaml

        try:
            data = yaml.safe_load(self.cleaned_data["source"])
        except yaml.YAMLError as error:
            raise ValidationError(f"Not valid YAML or JSON: {error}") from None
        try:
            self.matrix = rules.parse_matrix(data)
        except rules.RuleError as error:
            raise ValidationError(error.problems) from None
        return self.cleaned_data["source"]

    def clean(self):
        data = super().clean()
        matrix = getattr(self, "matrix", None)
        if matrix is not None:
            clash = RiskMatrix.objects.filter(
                organisation=data.get("organisation"), version=matrix.version
            )
            if clash.exists():
                raise ValidationError(f"Version {matrix.version} is already loaded.")
            self.instance.version, self.instance.name = matrix.version, matrix.name
            self.instance.data = matrix.to_data()
        return data

    def _post_clean(self):
        # The model's own checks need the parsed matrix; a bad source has said why already.
        if not self._errors:
            super()._post_clean()


@admin.register(RiskMatrix)
class RiskMatrixAdmin(admin.ModelAdmin):
    list_display = ["version", "name", "organisation", "loaded_at", "loaded_by"]
    list_filter = ["organisation"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = RiskMatrixForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["organisation", "version", "name", "pretty", "loaded_by", "loaded_at"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["organisation", "source"]
        return self.get_readonly_fields(request, obj)

    @admin.display(description="matrix")
    def pretty(self, obj):
        return json.dumps(obj.data["cells"], indent=1)

    def save_model(self, request, obj, form, change):
        obj.loaded_by = request.user
        super().save_model(request, obj, form, change)
        audit.record("risk.matrix.load", actor=request.user, obj=obj, after=audit.snapshot(obj))

    def has_delete_permission(self, request, obj=None):
        return False  # assessments point at their matrix version


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation", "kind", "country", "duty_station"]
    list_filter = ["organisation", "kind", "country"]
    search_fields = ["name", "duty_station"]


@admin.register(ApprovalAuthority)
class ApprovalAuthorityAdmin(admin.ModelAdmin):
    list_display = ["user", "organisation", "level"]
    list_filter = ["organisation", "level"]
    autocomplete_fields = ["user", "organisation"]


class ActivityAreaInline(admin.TabularInline):
    model = ActivityArea
    extra = 1
    fields = ["area", "contribution", "implementation_likelihood", "pc1", "pc1_reason", "pc_level"]
    readonly_fields = ["pc_level"]


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "organisation"]
    list_filter = ["organisation"]
    search_fields = ["code", "name"]
    inlines = [ActivityAreaInline]


@admin.register(ChecklistItem)
class ChecklistItemAdmin(admin.ModelAdmin):
    list_display = ["code", "text", "organisation", "active", "order"]
    list_filter = ["organisation", "active"]


@admin.register(Premises)
class PremisesAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "organisation", "country", "area"]
    list_filter = ["organisation", "kind", "country"]
    search_fields = ["name", "place"]
