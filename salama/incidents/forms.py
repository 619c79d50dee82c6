"""The forms of the incident pages: the report steps (also used to edit) and the list filters.

The forms only read and check input; the services in ``services.py`` save it. Checks use the
functions in ``validators.py`` so a form shows the same messages as an import or the API.
Forms are plain ``Form`` classes whose fields come from the models (labels, choices and
lengths stay in one place); they are not ``ModelForm`` because the model's ``clean()`` checks
fields that a single step does not show.
"""

import json

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from salama.core.geo import country_choices
from salama.core.markings import TLP
from salama.incidents import choices as c
from salama.incidents import services, validators
from salama.incidents.models import AffectedPerson, Incident, RoadCrash, Source
from salama.organisations.models import Organisation

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME_INPUT = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
BLANK = ("", "—")

# Plain words for each marking, shown beside the choice and on the incident page.
MARKING_HELP = {
    TLP.CLEAR: _("Anyone may see it, including the public. Use only for what is already public."),
    TLP.GREEN: _(
        "Every signed-in user of Salama, in any organisation, may see it. "
        "Do not post it on public channels."
    ),
    TLP.AMBER: _(
        "Only people of your organisation (and, later, partners under a sharing "
        "agreement) may see it."
    ),
    TLP.AMBER_STRICT: _("Only people of your organisation may see it; it is never shared."),
    TLP.RED: _(
        "Only you and the people you name below may see it. For what could put someone "
        "in danger if it spread."
    ),
}


def _from_model(model, names, **kwargs) -> type:
    """A form base class holding the model's form fields ``names``, in that order."""
    return type(
        f"{model.__name__}Fields",
        (forms.Form,),
        dict(forms.fields_for_model(model, fields=names, **kwargs)),
    )


def add_errors(form, errors: dict) -> None:
    """Show ``{field: [message, ...]}`` next to the fields, or above the form for others."""
    for field, messages in errors.items():
        form.add_error(field if field in form.fields else None, messages)


def subcategory_choices():
    groups = [
        (c.Category(cat).label, [(sub.value, sub.label) for sub in subs])
        for cat, subs in c.SUBCATEGORIES_OF.items()
    ]
    return [BLANK, *groups]


def _subcategory_field(required=True):
    groups = {cat.value: [s.value for s in subs] for cat, subs in c.SUBCATEGORIES_OF.items()}
    return forms.ChoiceField(
        label=_("Sub-category"),
        choices=subcategory_choices,
        required=required,
        widget=forms.Select(attrs={"data-subcategory": json.dumps(groups)}),
    )


def _default_date_to_first_day(date, precision):
    """With precision month or year a date is stored as the first day of that month or year;
    people pick any day of it in the date picker, so move it there rather than refuse it."""
    if date is None:
        return None
    if precision == c.DatePrecision.MONTH:
        return date.replace(day=1)
    if precision == c.DatePrecision.YEAR:
        return date.replace(month=1, day=1)
    return date


WHERE_FIELDS = [
    "date",
    "date_precision",
    "time",
    "country",
    "admin1",
    "admin2",
    "place",
    "latitude",
    "longitude",
    "coordinate_precision",
    "coordinates_obfuscated",
    "category",
    "subcategory",
]


class WhenWhereForm(
    _from_model(
        Incident,
        WHERE_FIELDS,
        widgets={
            "date": DATE_INPUT,
            "time": TIME_INPUT,
            "date_precision": forms.RadioSelect,
            "latitude": forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
            "longitude": forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
        },
    )
):
    """Step 1: when, where and what kind of incident (a draft needs its category)."""

    country = forms.ChoiceField(label=_("Country"), choices=())
    category = forms.ChoiceField(
        label=_("Category"),
        choices=[BLANK, *c.Category.choices],
        widget=forms.Select(attrs={"data-category": ""}),
    )
    subcategory = _subcategory_field()
    field_order = WHERE_FIELDS

    def __init__(self, *args, organisations=None, incident=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.incident = incident
        self.fields["country"].choices = [BLANK, *country_choices()]
        self.fields["date"].help_text = _(
            "With precision month or year, any day of that month or year will do."
        )
        self.fields["latitude"].help_text = _("Decimal degrees, e.g. 4.8517 (north is +).")
        self.fields["longitude"].help_text = _("Decimal degrees, e.g. 31.5825 (east is +).")
        if organisations is not None and len(organisations) > 1:
            self.fields["organisation"] = forms.ModelChoiceField(
                label=_("Report for"),
                queryset=Organisation.objects.filter(pk__in=[o.pk for o in organisations]),
                help_text=_("The organisation that will own this report."),
            )
            self.order_fields(["organisation", *WHERE_FIELDS])

    def _place_unchanged_and_flagged(self, data) -> bool:
        # A coordinate flagged outside its country on import may be kept as it is (the model
        # allows it); refusing it here would block every other correction of the record.
        incident = self.incident
        return (
            incident is not None
            and incident.coordinate_check == c.CoordinateCheckStatus.OUTSIDE
            and (incident.country, incident.latitude, incident.longitude)
            == (data.get("country"), data.get("latitude"), data.get("longitude"))
        )

    def clean(self):
        data = super().clean()
        data["date"] = _default_date_to_first_day(data.get("date"), data.get("date_precision"))
        if data["date"] is not None and data.get("date_precision"):
            add_errors(
                self,
                validators.validate_date(data["date"], data["date_precision"], data.get("time")),
            )
        if data.get("country") and not ({"latitude", "longitude"} & set(self.errors)):
            errors = validators.validate_place(
                data["country"], data.get("latitude"), data.get("longitude")
            )
            if self._place_unchanged_and_flagged(data):
                errors.pop("latitude", None)
            add_errors(self, errors)
        if data.get("category") and data.get("subcategory"):
            add_errors(self, validators.validate_category(data["category"], data["subcategory"]))
        return data

    def incident_fields(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "organisation"}


WHAT_FIELDS = [
    "means_of_attack",
    "attack_context",
    "location_type",
    "perpetrator_type",
    "motive",
    "premises_hit",
    "vehicles_hit",
    "supplies_hit",
    "health_facility_hit",
    "narrative",
]


class WhatForm(_from_model(Incident, WHAT_FIELDS)):
    """Step 2: what happened."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["narrative"].help_text = _(
            "What happened, in order. Do not write names of victims or witnesses."
        )

    def incident_fields(self) -> dict:
        return dict(self.cleaned_data)


CRASH_FIELDS = [
    "vehicle_owner",
    "vehicle_type",
    "driver_category",
    "seatbelt_worn",
    "speed_related",
    "light_condition",
    "third_party_killed",
    "third_party_seriously_injured",
    "third_party_slightly_injured",
]


class RoadCrashForm(_from_model(RoadCrash, CRASH_FIELDS)):
    """Step 2, for road traffic crashes: the facts the UN road safety strategy counts."""


PERSON_FIELDS = [
    "count",
    "impact",
    "cause",
    "recruitment",
    "gender",
    "organisation_type",
    "is_medical",
    "on_duty",
    "killed_in_captivity",
]


class PersonForm(_from_model(AffectedPerson, PERSON_FIELDS)):
    """One row of step 3: one person, or several people who share every attribute."""

    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    count = forms.IntegerField(label=_("Number of people"), min_value=1, initial=1)

    def __init__(self, *args, default_cause=None, **kwargs):
        super().__init__(*args, **kwargs)
        if default_cause:
            self.fields["cause"].initial = default_cause
        self.fields["count"].widget.attrs.update({"inputmode": "numeric", "min": 1})


class SourceForm(_from_model(Source, ["kind", "external_id", "reported_on", "note"])):
    """One row of step 4: where the report came from."""

    field_order = ["kind", "url", "external_id", "reported_on", "note"]
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    url = forms.URLField(label=_("URL"), max_length=500, required=False, assume_scheme="https")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reported_on"].widget = DATE_INPUT


class RowFormSet(forms.BaseFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = _("Remove this row")

    def rows(self, existing: dict[int, dict]) -> list[dict]:
        """The kept rows as dicts for the services, each merged into the row it edits.

        ``existing`` maps row id → all stored values of that row (of this incident only), so
        what the form does not show (an imported source's system and fingerprint, a
        person's organisation) is kept rather than silently dropped.
        """
        rows = []
        for form in self.forms:
            if not form.has_changed() and form.empty_permitted:
                continue
            if self.can_delete and self._should_delete_form(form):
                continue
            data = {k: v for k, v in form.cleaned_data.items() if k not in ("id", "DELETE")}
            if not data:
                continue
            rows.append({**existing.get(form.cleaned_data.get("id"), {}), **data})
        return rows


PersonFormSet = forms.formset_factory(
    PersonForm, formset=RowFormSet, extra=1, can_delete=True, max_num=500, validate_max=True
)
SourceFormSet = forms.formset_factory(
    SourceForm, formset=RowFormSet, extra=1, can_delete=True, max_num=100, validate_max=True
)


class RecipientChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        full = obj.get_full_name()
        return f"{full} ({obj.get_username()})" if full else obj.get_username()


class MarkingForm(forms.Form):
    """Step 5: who may see the report; TLP:RED names its recipients."""

    marking = forms.ChoiceField(
        label=_("Sensitivity marking"), choices=TLP.choices, widget=forms.RadioSelect
    )
    recipients = RecipientChoiceField(
        label=_("Named recipients (TLP:RED only)"),
        queryset=get_user_model().objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The person who reported it always sees it."),
    )

    def __init__(self, *args, organisation_id, reporter=None, **kwargs):
        super().__init__(*args, **kwargs)
        named = self.initial.get("recipients") or ()
        self.fields["recipients"].queryset = services.eligible_recipients(
            organisation_id, reporter=reporter, named=named
        )

    def marking_choices(self):
        """(radio widget, plain-language help) for each marking, for the template."""
        return [(radio, MARKING_HELP[TLP(radio.data["value"])]) for radio in self["marking"]]

    def clean(self):
        data = super().clean()
        if data.get("marking") != TLP.RED:
            data["recipients"] = []
        return data


class IncidentFilterForm(forms.Form):
    """The list's filters and search box; every field is optional."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Words in the narrative or place")}
        ),
    )
    country = forms.ChoiceField(label=_("Country"), required=False, choices=())
    date_from = forms.DateField(label=_("From"), required=False, widget=DATE_INPUT)
    date_to = forms.DateField(label=_("To"), required=False, widget=DATE_INPUT)
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=[BLANK, *c.Category.choices]
    )
    subcategory = _subcategory_field(required=False)
    impact = forms.ChoiceField(
        label=_("Impact on a person"), required=False, choices=[BLANK, *c.Impact.choices]
    )
    organisation = forms.ModelChoiceField(
        label=_("Organisation"),
        required=False,
        queryset=Organisation.objects.only("pk", "acronym").order_by("acronym"),
        empty_label=BLANK[1],
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[BLANK, *[(s.value, s.label) for s in c.Status if s != c.Status.MERGED]],
    )
    marking = forms.ChoiceField(label=_("Marking"), required=False, choices=[BLANK, *TLP.choices])

    ADVANCED = (
        "country",
        "date_from",
        "date_to",
        "category",
        "subcategory",
        "impact",
        "organisation",
        "status",
        "marking",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [BLANK, *country_choices()]

    def has_advanced_filters(self) -> bool:
        return self.is_bound and any(self.data.get(name) for name in self.ADVANCED)

    def filter(self, incidents):
        """Narrow ``incidents`` by the valid filters; invalid ones are shown and ignored."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        exact = {
            "country": "country",
            "category": "category",
            "subcategory": "subcategory",
            "status": "status",
            "marking": "marking",
            "organisation": "organisation",
            "date_from": "date__gte",
            "date_to": "date__lte",
        }
        for field, lookup in exact.items():
            if data.get(field):
                incidents = incidents.filter(**{lookup: data[field]})
        if data.get("impact"):
            incidents = incidents.filter(
                Exists(
                    AffectedPerson.objects.filter(incident=OuterRef("pk"), impact=data["impact"])
                )
            )
        if query := (data.get("q") or "").strip():
            incidents = incidents.search(query)
        return incidents
