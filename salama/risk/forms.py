"""Forms of the risk pages; the rules they feed live in ``services`` and ``rules``."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from salama.organisations.choices import Role
from salama.organisations.models import Membership
from salama.risk.models import (
    ActivityArea,
    Area,
    Assessment,
    GeneralThreat,
    Measure,
    ThreatEvent,
)
from salama.risk.services import AUTHOR_ROLES

SITUATION_FIELDS = [
    "political",
    "economic",
    "social",
    "environmental",
    "infrastructure",
    "security_forces",
    "threat_actors",
    "un_mandate",
    "main_issues",
]
PROGRAMME_FIELDS = [
    "programme_partners",
    "programme_personnel",
    "programme_frequency",
    "programme_locations",
]


def authored_areas(user):
    """The areas of the organisations where ``user`` may write assessments."""
    organisations = Membership.objects.filter(user=user, role__in=AUTHOR_ROLES).values(
        "organisation"
    )
    return Area.objects.filter(organisation__in=organisations)


class DateInput(forms.DateInput):
    input_type = "date"


class AssessmentForm(forms.ModelForm):
    area = forms.ModelChoiceField(queryset=Area.objects.none(), label=_("SRM area"))

    class Meta:
        model = Assessment
        fields = [
            "area",
            "period_start",
            "period_end",
            "review_date",
            "marking",
            "designated_approver",
            *SITUATION_FIELDS,
            *PROGRAMME_FIELDS,
            "review_triggers",
        ]
        widgets = {
            "period_start": DateInput,
            "period_end": DateInput,
            "review_date": DateInput,
            **{name: forms.Textarea(attrs={"rows": 2}) for name in SITUATION_FIELDS},
            **{name: forms.Textarea(attrs={"rows": 2}) for name in PROGRAMME_FIELDS},
            "review_triggers": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        areas = authored_areas(user)
        self.fields["area"].queryset = areas
        approvers = Membership.objects.filter(
            role=Role.APPROVER, organisation__in=areas.values("organisation")
        ).values("user")
        self.fields["designated_approver"].queryset = get_user_model().objects.filter(
            pk__in=approvers
        )

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", _("The period ends before it starts."))
        return data

    def _post_clean(self):
        # The service builds and validates the model (with its organisation and matrix).
        pass

    def assessment_fields(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "area"}


class GeneralThreatForm(forms.ModelForm):
    class Meta:
        model = GeneralThreat
        fields = ["category", "intent", "capability", "inhibiting_context", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}


class ThreatEventForm(forms.ModelForm):
    class Meta:
        model = ThreatEvent
        fields = [
            "category",
            "description",
            "likelihood",
            "impact",
            "residual_likelihood",
            "residual_impact",
            "strategy",
        ]


class MeasureForm(forms.ModelForm):
    class Meta:
        model = Measure
        fields = ["threat_event", "kind", "description", "owner", "status", "due_date"]
        widgets = {"due_date": DateInput, "description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, assessment, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["threat_event"].queryset = assessment.threat_events.all()


class CriticalityForm(forms.ModelForm):
    """PC2–PC4 from the two ratings (the PC table does the rest), or PC1 with its reason."""

    class Meta:
        model = ActivityArea
        fields = ["contribution", "implementation_likelihood", "pc1", "pc1_reason"]
        widgets = {
            "contribution": forms.Select(choices=[("", "—"), *[(n, n) for n in range(1, 5)]]),
            "implementation_likelihood": forms.Select(
                choices=[("", "—"), *[(n, n) for n in range(1, 5)]]
            ),
            "pc1_reason": forms.Textarea(attrs={"rows": 2}),
        }

    def clean(self):
        data = super().clean()
        if data.get("pc1") and not (data.get("pc1_reason") or "").strip():
            self.add_error("pc1_reason", _("Say why the activity is PC1."))
        return data

    def _post_clean(self):
        # The service validates and saves (with the audit entry).
        pass
