import datetime

from django import forms
from django.contrib.auth import get_user_model
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from salama.core.geo import country_choices
from salama.organisations.choices import Role
from salama.organisations.models import Organisation
from salama.registry import choices as rc
from salama.registry import services
from salama.registry.models import (
    Abduction,
    Case,
    Consent,
    Detention,
    FollowUp,
    Milestone,
    SurvivorFocalPoint,
)
from salama.registry.services import CASE_FIELDS


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class FastSelect(forms.Select):
    """A select whose options are written out directly rather than through one template
    each: the 250 countries cost 40 ms per page through Django's option templates."""

    def render(self, name, value, attrs=None, renderer=None):
        final = self.build_attrs(self.attrs, attrs)
        final["name"] = name
        chosen = "" if value is None else str(value)
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (code, " selected" if str(code) == chosen else "", label)
                for code, label in self.choices
            ),
        )
        return format_html("<select{}>{}</select>", flatatt(final), options)


def _dates(form):
    for field in form.fields.values():
        if isinstance(field, forms.DateField):
            field.widget = DateInput()


class CaseFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any"))] + rc.CaseStatus.choices
    )
    offence = forms.ChoiceField(
        label=_("Offence"), required=False, choices=[("", _("Any"))] + rc.Offence.choices
    )
    country = forms.ChoiceField(label=_("Country"), required=False, widget=FastSelect)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    owner = forms.ChoiceField(
        label=_("Owner"),
        required=False,
        choices=[("", _("Anyone")), ("me", _("Me")), ("none", _("Nobody yet"))],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", _("Any"))] + country_choices()

    def filter(self, cases, user):
        if not self.is_valid():
            return cases
        data = self.cleaned_data
        if data.get("status"):
            cases = cases.with_status(data["status"])
        if data.get("offence"):
            cases = cases.filter(offence=data["offence"])
        if data.get("country"):
            cases = cases.filter(country=data["country"])
        if data.get("overdue"):
            cases = cases.overdue()
        if data.get("owner") == "me":
            cases = cases.filter(owner=user)
        elif data.get("owner") == "none":
            cases = cases.filter(owner__isnull=True)
        return cases


class CaseForm(forms.ModelForm):
    class Meta:
        model = Case
        fields = CASE_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"] = forms.ChoiceField(
            label=_("Country"), choices=country_choices(), widget=FastSelect
        )
        _dates(self)


class NewCaseForm(CaseForm):
    organisation = forms.ModelChoiceField(
        label=_("The person's organisation"), queryset=Organisation.objects.none()
    )

    class Meta(CaseForm.Meta):
        fields = ("organisation", *CASE_FIELDS)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.filter(
            memberships__user=user, memberships__role=Role.CASE_OFFICER
        ).distinct()


class IdentityForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    staff_number = forms.CharField(label=_("Staff or index number"), max_length=60, required=False)
    nationality = forms.CharField(label=_("Nationality"), max_length=100, required=False)
    date_of_birth = forms.DateField(label=_("Date of birth"), required=False, widget=DateInput())
    next_of_kin = forms.CharField(
        label=_("Next of kin and their contacts"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean_date_of_birth(self):
        value = self.cleaned_data.get("date_of_birth")
        if value and value > datetime.date.today():
            raise forms.ValidationError(_("A date of birth cannot be in the future."))
        return value


class FollowUpForm(forms.ModelForm):
    class Meta:
        model = FollowUp
        fields = (
            "date",
            "channel",
            "from_entity",
            "authority",
            "reference_no",
            "ask_investigate",
            "ask_inform",
            "ask_access",
            "ask_release",
            "response_received",
            "response_date",
            "summary",
        )
        widgets = {"summary": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _dates(self)

    def _post_clean(self):
        # The model's own checks run in services.add_follow_up, with the case attached.
        pass


class ResponseForm(forms.Form):
    response_date = forms.DateField(label=_("Response received on"), widget=DateInput())
    summary = forms.CharField(
        label=_("What they said"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class MilestoneForm(forms.ModelForm):
    class Meta:
        model = Milestone
        fields = ("stage", "date", "evidence")
        widgets = {"evidence": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _dates(self)

    def _post_clean(self):
        pass


class DetentionForm(forms.ModelForm):
    class Meta:
        model = Detention
        fields = services.DETENTION_FIELDS
        widgets = {"charges": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _dates(self)

    def _post_clean(self):
        pass


class AbductionForm(forms.ModelForm):
    proof_of_life = forms.CharField(
        label=_("Proof-of-life dates"),
        required=False,
        help_text=_("One date per line, like 2024-05-31."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    class Meta:
        model = Abduction
        fields = services.ABDUCTION_FIELDS
        widgets = {"demands": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _dates(self)
        if self.instance.pk and not self.is_bound:
            self.initial["proof_of_life"] = "\n".join(self.instance.proof_of_life or [])

    def clean_proof_of_life(self):
        dates = []
        for number, line in enumerate(self.cleaned_data["proof_of_life"].splitlines(), start=1):
            if not line.strip():
                continue
            try:
                dates.append(datetime.date.fromisoformat(line.strip()).isoformat())
            except ValueError:
                raise forms.ValidationError(
                    _("Line %(n)s: %(value)s is not a date like 2024-05-31.")
                    % {"n": number, "value": line.strip()}
                ) from None
        return dates

    def _post_clean(self):
        pass


class ConsentForm(forms.ModelForm):
    class Meta:
        model = Consent
        fields = ("use", "given", "recorded_on", "note")
        widgets = {"note": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _dates(self)

    def _post_clean(self):
        pass


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


class OptionalReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


class NameOfficerForm(forms.Form):
    officer = forms.ModelChoiceField(label=_("Case officer"), queryset=None)

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["officer"].queryset = (
            get_user_model()
            .objects.filter(
                memberships__organisation_id=case.organisation_id,
                memberships__role=Role.CASE_OFFICER,
            )
            .exclude(pk__in=case.named_officers.values("user_id"))
            .distinct()
            .order_by("username")
        )


class DocumentForm(forms.Form):
    file = forms.FileField(label=_("File"))
    follow_up = forms.ModelChoiceField(
        label=_("Belongs to the follow-up entry"), required=False, queryset=None
    )
    milestone = forms.ModelChoiceField(
        label=_("Evidence of the milestone"), required=False, queryset=None
    )

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["follow_up"].queryset = case.follow_ups.all()
        self.fields["follow_up"].label_from_instance = lambda f: (
            f"{f.date} · {f.get_channel_display()} · {f.get_authority_display()}"
        )
        self.fields["milestone"].queryset = case.milestones.all()
        self.fields["milestone"].label_from_instance = lambda m: (
            f"{m.date} · {m.get_stage_display()}"
        )


class DesignateFocalPointForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Case officer"), queryset=None)

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = (
            get_user_model()
            .objects.filter(
                memberships__organisation=organisation, memberships__role=Role.CASE_OFFICER
            )
            .exclude(
                pk__in=SurvivorFocalPoint.objects.filter(organisation=organisation).values(
                    "user_id"
                )
            )
            .distinct()
            .order_by("username")
        )
