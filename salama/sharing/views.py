"""The sharing pages.

- API keys: an organisation admin lists, makes and revokes the organisation's keys. A new
  key's token is shown once, in the answer to the form that made it (never in a URL or the
  session).
- Sharing agreements: the admins of either side propose, accept, decline and end them.
- Shared with us: what agreements in force share with the user's organisations.
"""

import contextlib
import csv
import functools
import re
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from salama.core import audit
from salama.core.geo import country_name
from salama.incidents import choices as ic
from salama.incidents.models import AffectedPerson, Incident
from salama.organisations.choices import Role
from salama.organisations.models import Organisation, organisation_ids, organisations_where
from salama.sharing import agreements, figures, keys, notices, redaction
from salama.sharing.models import Agreement, ApiKey

VALIDITY = [
    ("30", gettext_lazy("30 days")),
    ("90", gettext_lazy("90 days")),
    ("365", gettext_lazy("one year")),
    ("", gettext_lazy("no expiry")),
]


class NewKeyForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Who or what uses it"),
        max_length=100,
        help_text=gettext_lazy("For example: the partner's data hub, or a reporting script."),
    )
    days = forms.ChoiceField(
        label=gettext_lazy("Valid for"), choices=VALIDITY, initial="365", required=False
    )


def _administered(user):
    return organisations_where(user, Role.ORG_ADMIN)


def _page(request, new_token=None, new_key=None, forms_by_org=None, status=200):
    organisations = list(_administered(request.user))
    if not organisations:
        raise PermissionDenied(_("Only an organisation admin manages its API keys."))
    sections = [
        {
            "organisation": organisation,
            "keys": ApiKey.objects.filter(organisation=organisation).order_by(
                "revoked_at", "-created_at"
            ),
            "form": (forms_by_org or {}).get(organisation.pk) or NewKeyForm(),
        }
        for organisation in organisations
    ]
    return render(
        request,
        "sharing/keys.html",
        {"sections": sections, "new_token": new_token, "new_key": new_key},
        status=status,
    )


@login_required
def key_list(request):
    return _page(request)


@login_required
@require_POST
def key_create(request, organisation_id):
    organisation = get_object_or_404(_administered(request.user), pk=organisation_id)
    form = NewKeyForm(request.POST)
    if not form.is_valid():
        return _page(request, forms_by_org={organisation.pk: form}, status=400)
    days = int(form.cleaned_data["days"]) if form.cleaned_data["days"] else None
    key, token = keys.issue(organisation, form.cleaned_data["name"], by=request.user, days=days)
    return _page(request, new_token=token, new_key=key)


@login_required
@require_POST
def key_revoke(request, prefix):
    key = get_object_or_404(ApiKey, prefix=prefix, organisation__in=_administered(request.user))
    with contextlib.suppress(keys.ApiKeyError):  # revoked already: the page shows it
        keys.revoke(key, by=request.user)
    messages.success(
        request, _("Key %(prefix)s revoked: it no longer opens the API.") % {"prefix": key.prefix}
    )
    return redirect("sharing:keys")


# ------------------------------------------------------------------------------ agreements
# Organisation admins propose, answer and end sharing agreements here; every change goes
# through ``salama.sharing.agreements`` (which checks who may do it and audits it) and is
# e-mailed to the other side (``notices``).

GROUPS = (
    ("waiting", gettext_lazy("Awaiting your answer")),
    ("proposed", gettext_lazy("Proposed by you")),
    ("current", gettext_lazy("In force or scheduled")),
    ("past", gettext_lazy("Ended, declined or expired")),
)
COUNTRY_SEPARATORS = re.compile(r"[\s,;]+")


class ProposeForm(forms.Form):
    provider = forms.ModelChoiceField(
        label=gettext_lazy("Shared by"), queryset=Organisation.objects.none(), empty_label=None
    )
    recipient = forms.ModelChoiceField(
        label=gettext_lazy("Shared with"),
        queryset=Organisation.objects.order_by("acronym"),
        help_text=gettext_lazy("Its organisation admins accept or decline the proposal."),
    )
    level = forms.ChoiceField(
        label=gettext_lazy("What is shared"),
        choices=Agreement.Level.choices,
        initial=Agreement.Level.AGGREGATE,
        widget=forms.RadioSelect,
        help_text=gettext_lazy(
            "Only TLP:AMBER incidents past draft are shared. Full records: the recipient sees "
            "them as your members do. Redacted records: month, country and province, what "
            "happened and how many people, never who, exactly where or who said so. Aggregate "
            "figures: counts per country and year, small counts hidden."
        ),
    )
    countries = forms.CharField(
        label=gettext_lazy("Countries"),
        required=False,
        max_length=1000,
        help_text=gettext_lazy(
            "ISO country codes separated by commas or spaces, for example: SS, SD, CD. "
            "Leave empty for every country."
        ),
    )
    starts_on = forms.DateField(
        label=gettext_lazy("In force from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.DateField(
        label=gettext_lazy("In force until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Optional: without an end date it lasts until either side ends it."),
    )
    narratives = forms.BooleanField(
        label=gettext_lazy("Share the narratives"),
        required=False,
        help_text=gettext_lazy(
            "Only for redacted records (full records always include them, aggregate figures "
            "never): a narrative may name people or places."
        ),
    )
    assessments = forms.BooleanField(
        label=gettext_lazy("Also share security risk assessments"),
        required=False,
        help_text=gettext_lazy(
            "Only for full records: the recipient also reads, without changing them, your "
            "approved TLP:AMBER security risk assessments of areas in these countries. Never "
            "drafts or assessments awaiting approval, nor your activities, go / no-go "
            "decisions or premises."
        ),
    )
    purpose = forms.CharField(
        label=gettext_lazy("Purpose"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("The need to know it serves, for example: joint security analysis."),
    )

    def __init__(self, *args, providers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = providers

    def clean_countries(self):
        return [code for code in COUNTRY_SEPARATORS.split(self.cleaned_data["countries"]) if code]

    def clean(self):
        data = super().clean()
        provider, recipient = data.get("provider"), data.get("recipient")
        if provider and recipient and provider == recipient:
            self.add_error("recipient", _("Choose another organisation than the one sharing."))
        return data


class AnswerForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class EndForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why it ends"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("The other side's admins receive it by e-mail."),
    )


def _explained(heading):
    """Answer a ``PermissionDenied`` raised by the view with a page that says why (403)."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            try:
                return view(request, *args, **kwargs)
            except PermissionDenied as refusal:
                context = {"heading": heading, "message": str(refusal)}
                return render(request, "sharing/forbidden.html", context, status=403)

        return wrapped

    return decorate


AGREEMENTS_ONLY = gettext_lazy("Organisation admins only")
MEMBERS_ONLY = gettext_lazy("Members of an organisation only")


def _admin_ids(user) -> set[int]:
    return set(_administered(user).values_list("pk", flat=True))


def _group(agreement: Agreement, mine: set[int]) -> str:
    state = agreement.state()
    if state == Agreement.State.PROPOSED:
        return "waiting" if agreement.recipient_id in mine else "proposed"
    if state in (Agreement.State.IN_FORCE, Agreement.State.SCHEDULED):
        return "current"
    return "past"


def _agreements_page(request, form=None, status=200):
    administered = _administered(request.user).order_by("acronym")
    mine = set(administered.values_list("pk", flat=True))
    if not mine:
        raise PermissionDenied(
            _("Only an organisation admin sees and manages its sharing agreements.")
        )
    found = (
        Agreement.objects.involving(mine)
        .select_related("provider", "recipient", "proposed_by", "accepted_by", "ended_by")
        .order_by("-proposed_at", "-pk")
    )
    grouped = {key: [] for key, _label in GROUPS}
    for agreement in found:
        agreement.group = _group(agreement, mine)
        agreement.country_names = [country_name(code) for code in agreement.countries]
        agreement.may_answer = agreement.group == "waiting"
        agreement.may_end = agreement.group in ("waiting", "proposed", "current")
        grouped[agreement.group].append(agreement)
    if form is None:
        form = ProposeForm(providers=administered, initial={"starts_on": timezone.localdate()})
    return render(
        request,
        "sharing/agreements.html",
        {
            "groups": [(key, label, grouped[key]) for key, label in GROUPS],
            "form": form,
        },
        status=status,
    )


@login_required
@_explained(AGREEMENTS_ONLY)
def agreement_list(request):
    return _agreements_page(request)


@login_required
@require_POST
@_explained(AGREEMENTS_ONLY)
def agreement_propose(request):
    administered = _administered(request.user).order_by("acronym")
    if not administered.exists():
        raise PermissionDenied(_("Only an organisation admin proposes sharing agreements."))
    form = ProposeForm(request.POST, providers=administered)
    if form.is_valid():
        data = form.cleaned_data
        try:
            agreement = agreements.propose(
                data["provider"],
                data["recipient"],
                level=data["level"],
                purpose=data["purpose"],
                by=request.user,
                countries=data["countries"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                narratives=data["narratives"],
                assessments=data["assessments"],
            )
        except agreements.AgreementError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("Agreement proposed to %(recipient)s: it waits for their answer.")
                % {"recipient": agreement.recipient.acronym},
            )
            _mailed(request, notices.proposed(agreement))
            return redirect("sharing:agreements")
    return _agreements_page(request, form=form, status=400)


def _mailed(request, sent: bool) -> None:
    if not sent:
        messages.warning(
            request,
            _("The e-mail to the other side's admins could not be sent: please tell them."),
        )


def _involving(request, pk) -> Agreement:
    """An agreement of an organisation the user administers (404 for any other)."""
    mine = _admin_ids(request.user)
    if not mine:
        raise PermissionDenied(_("Only an organisation admin manages sharing agreements."))
    return get_object_or_404(
        Agreement.objects.involving(mine).select_related("provider", "recipient"), pk=pk
    )


@login_required
@require_POST
@_explained(AGREEMENTS_ONLY)
def agreement_answer(request, pk, answer):
    agreement = _involving(request, pk)
    form = AnswerForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        if answer == "accept":
            agreement = agreements.accept(agreement, by=request.user)
            done = _("You accepted the agreement with %(provider)s.")
        else:
            agreement = agreements.decline(agreement, by=request.user, reason=reason)
            done = _("You declined the agreement with %(provider)s.")
    except agreements.AgreementError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done % {"provider": agreement.provider.acronym})
        _mailed(request, notices.answered(agreement, request.user))
    return redirect("sharing:agreements")


@login_required
@_explained(AGREEMENTS_ONLY)
def agreement_end(request, pk):
    """Ending (or withdrawing) asks for a reason and a confirmation on a page of its own."""
    agreement = _involving(request, pk)
    form = EndForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                agreement = agreements.end(
                    agreement, by=request.user, reason=form.cleaned_data["reason"]
                )
            except agreements.AgreementError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request,
                    _("The agreement between %(provider)s and %(recipient)s has ended.")
                    % {
                        "provider": agreement.provider.acronym,
                        "recipient": agreement.recipient.acronym,
                    },
                )
                _mailed(request, notices.answered(agreement, request.user))
                return redirect("sharing:agreements")
        status = 400
    agreement.country_names = [country_name(code) for code in agreement.countries]
    return render(
        request,
        "sharing/agreement_end.html",
        {"agreement": agreement, "form": form, "proposal": not agreement.accepted_at},
        status=status,
    )


# ------------------------------------------------------------------------- shared with us
# What agreements in force share with the user's organisations: figures at every level,
# redacted records at the redacted level (each page of them in the audit log); full records
# are in the ordinary incident pages already, through the door.

FIGURE_COLUMNS = {
    "incidents": gettext_lazy("Incidents"),
    "killed": gettext_lazy("Killed"),
    "injured": gettext_lazy("Injured"),
    "abducted": gettext_lazy("Abducted"),
    "detained": gettext_lazy("Arrested or detained"),
    "sexual_violence": gettext_lazy("Sexual violence"),
    "other": gettext_lazy("Other harm"),
}
RECORDS_PER_PAGE = 50
HIT = {
    "premises_hit": gettext_lazy("premises"),
    "vehicles_hit": gettext_lazy("vehicles or convoy"),
    "supplies_hit": gettext_lazy("supplies"),
    "health_facility_hit": gettext_lazy("a health facility"),
}


@login_required
@_explained(MEMBERS_ONLY)
def shared_list(request):
    if not organisation_ids(request.user):
        raise PermissionDenied(_("Only members of an organisation see what is shared with it."))
    found = list(agreements.received(request.user).order_by("provider__acronym", "-starts_on"))
    for agreement in found:
        agreement.country_names = [country_name(code) for code in agreement.countries]
    return render(request, "sharing/shared.html", {"agreements": found})


def _received(request, pk) -> Agreement:
    """An agreement in force with one of the user's organisations (404 for any other: the
    page does not say whether it exists)."""
    if not organisation_ids(request.user):
        raise PermissionDenied(_("Only members of an organisation see what is shared with it."))
    return get_object_or_404(agreements.received(request.user), pk=pk)


def _label(name: str, value) -> str:
    """The label of an incident's stored choice (``c.Category("violence").label``)."""
    return _label_of(Incident, name, value) if value else ""


def _label_of(model, name, value) -> str:
    return str(dict(model._meta.get_field(name).flatchoices).get(value, value))


def _month(record: dict) -> str:
    if record["date_precision"] == ic.DatePrecision.YEAR:
        return f"{record['date']:%Y}"
    return f"{record['date']:%Y-%m}"


def _people(persons: list[dict]) -> list[dict]:
    """The redacted persons as counts by impact (then cause and recruitment), labelled."""
    return [
        {
            "count": p["count"],
            "impact": _label_of(AffectedPerson, "impact", p["impact"]),
            "cause": _label_of(AffectedPerson, "cause", p["cause"]),
            "recruitment": _label_of(AffectedPerson, "recruitment", p["recruitment"]),
        }
        for p in persons
    ]


class SharedFilterForm(forms.Form):
    country = forms.ChoiceField(label=gettext_lazy("Country"), required=False)
    year = forms.TypedChoiceField(
        label=gettext_lazy("Year"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args, rows=(), **kwargs):
        super().__init__(*args, **kwargs)
        countries = sorted({row["country"] for row in rows})
        named = sorted(((code, country_name(code)) for code in countries), key=lambda p: p[1])
        self.fields["country"].choices = [("", _("All")), *named]
        years = sorted({row["year"] for row in rows}, reverse=True)
        self.fields["year"].choices = [("", _("All")), *((y, y) for y in years)]


def _figure_rows(agreement: Agreement) -> list[dict]:
    rows = figures.figures(agreement)
    for row in rows:
        row["country_name"] = country_name(row["country"])
        row["cells"] = [row[name] for name in FIGURE_COLUMNS]
    return rows


@login_required
@_explained(MEMBERS_ONLY)
def shared_detail(request, pk):
    agreement = _received(request, pk)
    agreement.country_names = [country_name(code) for code in agreement.countries]
    rows = _figure_rows(agreement)
    context = {
        "agreement": agreement,
        "rows": rows,
        "columns": list(FIGURE_COLUMNS.values()),
        "min_cell": settings.SHARING_MIN_CELL,
    }
    if agreement.level != Agreement.Level.REDACTED:  # the redacted branch says what it showed
        audit.record(
            "sharing:view", actor=request.user, obj=agreement, after={"level": agreement.level}
        )
    if agreement.level == Agreement.Level.FULL:
        query = {"organisation": agreement.provider_id}
        if len(agreement.countries) == 1:
            query["country"] = agreement.countries[0]
        context["incidents_url"] = reverse("incidents:list") + "?" + urlencode(query)
    elif agreement.level == Agreement.Level.REDACTED:
        form = SharedFilterForm(request.GET or None, rows=rows)
        found = agreements.records(agreement)
        if form.is_valid():
            if form.cleaned_data["country"]:
                found = found.filter(country=form.cleaned_data["country"])
            if form.cleaned_data["year"]:
                found = found.filter(date__year=form.cleaned_data["year"])
        found = found.select_related("organisation").only(*redaction.ONLY).order_by("-date", "-id")
        page = Paginator(found, RECORDS_PER_PAGE).get_page(request.GET.get("page"))
        redacted = redaction.redact_many(list(page.object_list), agreement)
        for record in redacted:
            record["month"] = _month(record)
            record["country_name"] = country_name(record["country"])
            record["what"] = _label("subcategory", record["subcategory"])
            record["affected"] = sum(p["count"] for p in record["persons"])
        audit.record(
            "sharing:view",
            actor=request.user,
            obj=agreement,
            after={
                "level": agreement.level,
                "page": page.number,
                "filters": form.cleaned_data if form.is_valid() else {},
                "references": [record["reference"] for record in redacted],
            },
        )
        context.update({"form": form, "page": page, "records": redacted})
    return render(request, "sharing/shared_detail.html", context)


@login_required
@_explained(MEMBERS_ONLY)
def shared_figures_csv(request, pk):
    """The figures table as CSV: a suppressed cell is written "<N", never its count."""
    agreement = _received(request, pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    provider = re.sub(r"[^A-Za-z0-9_-]", "", agreement.provider.acronym)
    response["Content-Disposition"] = (
        f'attachment; filename="salama-shared-{provider}-{agreement.pk}.csv"'
    )
    audit.record("sharing:figures", actor=request.user, obj=agreement, after={"format": "csv"})
    writer = csv.writer(response)
    writer.writerow(["country", "country_name", "year", *FIGURE_COLUMNS])
    hidden = f"<{settings.SHARING_MIN_CELL}"
    for row in _figure_rows(agreement):
        writer.writerow(
            [
                row["country"],
                row["country_name"],
                row["year"],
                *(hidden if cell is None else cell for cell in row["cells"]),
            ]
        )
    return response


@login_required
@_explained(MEMBERS_ONLY)
def shared_record(request, pk, reference):
    """One redacted record: only what ``redaction.redact`` returns is on the page."""
    agreement = _received(request, pk)
    if agreement.level != Agreement.Level.REDACTED:
        raise Http404(_("This agreement does not share records one by one."))
    incident = get_object_or_404(
        agreements.records(agreement).select_related("organisation").only(*redaction.ONLY),
        reference=reference,
    )
    record = redaction.redact(incident, agreement)
    audit.record(
        "sharing:view",
        actor=request.user,
        obj=agreement,
        after={"level": agreement.level, "references": [record["reference"]]},
    )
    facts = [
        (Incident._meta.get_field(name).verbose_name, _label(name, record[name]))
        for name in ("means_of_attack", "attack_context", "perpetrator_type", "motive")
        if record[name]
    ]
    context = {
        "agreement": agreement,
        "record": record,
        "month": _month(record),
        "precision": _label("date_precision", record["date_precision"]),
        "country": country_name(record["country"]),
        "category": _label("category", record["category"]),
        "subcategory": _label("subcategory", record["subcategory"]),
        "verification": _label("verification", record["verification"]),
        "facts": facts,
        "hit": [label for name, label in HIT.items() if record[name]],
        "people": _people(record["persons"]),
    }
    return render(request, "sharing/shared_record.html", context)
