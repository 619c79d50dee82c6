"""The quick report: the essentials of an incident on one short page, made offline on a phone.

A focal point knows little in the first minutes: when, where, what kind, what happened and how
many people were killed, injured, abducted or detained. ``quick/`` asks only that. A service
worker (``quick/sw.js``, served from under the page so that its scope covers it) keeps the
page on the phone; a report made without a connection waits in the phone's storage and the
page sends it to ``quick/send/`` as JSON when the phone is back online.

The server checks a quick report with the forms of the normal report and makes a **draft**
through ``services.create_incident``: the focal point completes it (sources, coordinates,
details of each person) and submits it from the normal pages. Each report carries a UUID made
on the phone, recorded as a Source of system ``salama-offline``; (system, external_id) is
unique, so a report sent twice (an answer lost on a bad connection) makes one incident.
"""

import datetime
import json
import uuid
from pathlib import Path

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from salama.incidents import choices as c
from salama.incidents import services
from salama.incidents.forms import (
    WHAT_FIELDS,
    WHERE_FIELDS,
    MarkingForm,
    PersonForm,
    WhatForm,
    WhenWhereForm,
    add_errors,
)
from salama.incidents.models import Incident, Source
from salama.incidents.validators import latest_allowed_date

OFFLINE_SYSTEM = "salama-offline"
SERVICE_WORKER = "salama/quick-sw.js"
# The counts a focal point can give in the first minutes, by impact (the JSON and form names).
IMPACT_COUNTS = {
    "killed": c.Impact.KILLED,
    "injured": c.Impact.INJURED,
    "abducted": c.Impact.ABDUCTED,
    "detained": c.Impact.ARRESTED_DETAINED,
}
# What the quick page shows of the first two steps; the rest keeps the model's defaults.
QUICK_WHERE = [
    "date",
    "country",
    "admin1",
    "place",
    "latitude",
    "longitude",
    "category",
    "subcategory",
]
QUICK_WHAT = ["narrative", "premises_hit", "vehicles_hit", "supplies_hit"]
MAX_COUNT = 100_000


def default_marking() -> str:
    """The marking a new report gets unless its reporter picks another (the model's)."""
    return Incident._meta.get_field("marking").default


class CountsForm(forms.Form):
    """How many people were affected, by impact; each count becomes one aggregate row."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, impact in IMPACT_COUNTS.items():
            self.fields[name] = forms.IntegerField(
                label=impact.label,
                min_value=0,
                max_value=MAX_COUNT,
                required=False,
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0}),
            )


class QuickReport:
    """A quick report, read and checked by the forms of the normal report's steps.

    Field errors stay on the form that owns the field, so the page shows them next to it and
    ``errors`` gives them as ``{field: [message]}`` for the JSON answer.
    """

    def __init__(self, data=None, *, user, organisations):
        self.user = user
        self.organisations = list(organisations)
        bound = data is not None
        data = data or {}
        where = {name: data.get(name) for name in WHERE_FIELDS}
        where["date_precision"] = c.DatePrecision.DAY
        where["organisation"] = data.get("organisation")
        what = {name: data.get(name) for name in WHAT_FIELDS}
        what["location_type"] = c.LocationType.UNKNOWN
        initial_marking = {"marking": default_marking()}
        self.where = WhenWhereForm(
            where if bound else None,
            organisations=self.organisations,
            initial={"date": timezone.localdate()},
        )
        self.what = WhatForm(what if bound else None)
        self.counts = CountsForm(data if bound else None)
        self.marking = MarkingForm(
            {"marking": data.get("marking") or default_marking()} if bound else None,
            initial=initial_marking,
            organisation_id=self.organisations[0].pk if self.organisations else 0,
            reporter=user,
        )
        self.where.fields["date"].help_text = ""  # its help is about a precision not asked here
        self.marking.fields["marking"].widget = forms.Select(
            choices=self.marking.fields["marking"].choices
        )
        self.marking.fields["marking"].help_text = _(
            "Who may see it. You can change it later in the full report."
        )
        self.forms = (self.where, self.what, self.counts, self.marking)

    def organisation(self, data):
        """The organisation the report is for: the one chosen, or the reporter's only one.

        None when the reporter has several and chose none (the form's organisation field then
        says so); PermissionDenied for one they may not report for."""
        chosen = data.get("organisation")
        if chosen in (None, ""):
            return self.organisations[0] if len(self.organisations) == 1 else None
        for organisation in self.organisations:
            if str(organisation.pk) == str(chosen):
                return organisation
        raise PermissionDenied(_("You cannot report incidents for this organisation."))

    def is_valid(self) -> bool:
        return all([form.is_valid() for form in self.forms])  # noqa: C419 (check every form)

    @property
    def errors(self) -> dict:
        errors: dict = {}
        for form in self.forms:
            for field, found in form.errors.items():
                errors.setdefault(field, []).extend(str(m) for m in found)
        return errors

    def persons(self) -> list[dict]:
        """One aggregate row per impact with a count, checked by the normal report's PersonForm."""
        category = self.where.cleaned_data.get("category")
        cause = c.Cause.SAFETY if category == c.Category.SAFETY else c.Cause.VIOLENCE
        rows = []
        for name, impact in IMPACT_COUNTS.items():
            count = self.counts.cleaned_data.get(name)
            if not count:
                continue
            row = PersonForm(
                {
                    "count": count,
                    "impact": impact,
                    "cause": cause,
                    "recruitment": c.Recruitment.UNKNOWN,
                    "gender": c.Gender.OTHER_OR_UNKNOWN,
                    "organisation_type": c.AffectedOrgType.UNKNOWN,
                }
            )
            if not row.is_valid():
                add_errors(self.counts, {name: [m for ms in row.errors.values() for m in ms]})
                continue
            rows.append({k: v for k, v in row.cleaned_data.items() if k != "id"})
        return rows

    def create(self, key: uuid.UUID, organisation, reported_on=None) -> Incident | None:
        """Make the draft, or return None with the errors on the forms."""
        if not self.is_valid():
            return None
        persons = self.persons()
        if self.errors:
            return None
        fields = {
            **self.where.incident_fields(),
            **self.what.incident_fields(),
            "marking": self.marking.cleaned_data["marking"],
        }
        source = {
            "kind": c.SourceKind.FOCAL_POINT,
            "system": OFFLINE_SYSTEM,
            "external_id": str(key),
            "organisation": organisation,
            "reported_on": reported_on or timezone.localdate(),
        }
        try:
            return services.create_incident(
                user=self.user,
                organisation=organisation,
                fields=fields,
                persons=persons,
                sources=[source],
                recipients=list(self.marking.cleaned_data["recipients"]),
            )
        except ValidationError as error:
            errors = error.message_dict if hasattr(error, "error_dict") else {None: error.messages}
            add_errors(self.where, errors)
            return None


def made_with(key: uuid.UUID):
    """The incident an earlier sending of this report made (its survivor, if merged since)."""
    source = (
        Source.objects.filter(system=OFFLINE_SYSTEM, external_id=str(key))
        .select_related("incident")
        .first()
    )
    return source.incident if source else None


def _reported_on(value) -> datetime.date | None:
    """The day the report was made on the phone, if it is a date and not in the future."""
    try:
        day = datetime.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
    return day if day <= latest_allowed_date() else None


# ------------------------------------------------------------------------------------ pages


@login_required
def quick(request):
    """The quick report page. Without JavaScript it posts here and is saved at once."""
    organisations = list(services.reporting_organisations(request.user))
    if not organisations:
        return render(request, "incidents/cannot_report.html", status=403)
    status = 200
    if request.method == "POST":
        report = QuickReport(request.POST, user=request.user, organisations=organisations)
        key = _uuid(request.POST.get("uuid")) or uuid.uuid4()
        incident = made_with(key)
        if incident is not None and not _visible_to(request.user, incident):
            key, incident = uuid.uuid4(), None  # not theirs: this form makes its own
        if incident is None:
            try:
                organisation = report.organisation(request.POST)
            except PermissionDenied as refusal:
                report.where.is_valid()
                report.where.add_error(None, str(refusal))
                organisation = None
            if organisation is not None:
                incident, _made = _create(report, key, organisation)
        if incident is not None:
            messages.success(
                request,
                _("Draft %(ref)s saved. Check it and submit it when you can.")
                % {"ref": incident.reference},
            )
            return redirect("incidents:detail", incident.reference)
        status = 400
    else:
        report = QuickReport(user=request.user, organisations=organisations)
    context = {
        "report": report,
        "uuid": uuid.uuid4(),
        "counts": [report.counts[name] for name in IMPACT_COUNTS],
        "texts": _texts(),
    }
    return render(request, "incidents/quick.html", context, status=status)


def _texts() -> dict:
    """What quick.js says, translated here (the Content-Security-Policy allows no inline
    script; the page passes them in a JSON block, which is data, not a script)."""
    return {
        "saved": _("Saved on this phone; it will be sent when you are back online."),
        "waiting": _("Reports waiting on this phone: %(n)s"),
        "sending": _("Sending…"),
        "sent": _("Sent: draft %(ref)s. Open it to check it and submit it."),
        "signed_out": _(
            "You are signed out. Sign in again to send the reports waiting on this phone; "
            "they stay here meanwhile."
        ),
        "sign_in": _("Sign in"),
        "other_user": _("Made by %(user)s: sign in as %(user)s to send it."),
        "not_sent": _("Not sent: correct it, then save it again."),
        "retry": _("It could not be sent just now; it will be tried again."),
        "correct": _("Correct it"),
        "full_form": _("Report it in the full form instead"),
        "remove": _("Remove from this phone"),
        "remove_confirm": _("Remove this report from the phone? It has not been sent."),
        "saved_at": _("Saved on the phone at %(when)s"),
        "correcting": _("You are correcting a report saved on this phone. Save it again."),
        "no_storage": _(
            "This browser cannot keep reports while offline (storage is turned off). "
            "Send it when you have a connection."
        ),
    }


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def _create(report: QuickReport, key: uuid.UUID, organisation, reported_on=None):
    """Make the draft and say whether this call made it; None when the report is invalid.

    If the same report arrived meanwhile, the answer is the incident it made."""
    try:
        incident = report.create(key, organisation, reported_on)
    except IntegrityError:
        # Two sendings of one report at once: the other one's Source won the unique
        # (system, external_id) and this transaction was rolled back; its incident is the answer.
        incident = made_with(key)
        if incident is None:
            raise
        return incident, False
    return incident, incident is not None


def _refusal(status: int, message: str, **extra) -> JsonResponse:
    return JsonResponse({"errors": {"__all__": [message]}, **extra}, status=status)


def _signed_out() -> JsonResponse:
    return _refusal(
        401,
        _("You are signed out. Sign in again to send this report."),
        login=f"{reverse('login')}?next={reverse('incidents:quick')}",
    )


@never_cache
@require_GET
def token(request):
    """A fresh CSRF token for sending the waiting reports, and who is signed in.

    The stored page's token may be days old (or from before a new sign-in, which changes it),
    so the page asks for one right before sending. 401 rather than a redirect to the sign-in
    page, which a script would read as success."""
    if not request.user.is_authenticated:
        return _signed_out()
    from django.middleware.csrf import get_token

    return JsonResponse({"csrf": get_token(request), "user": request.user.get_username()})


@never_cache
@require_POST
def send(request):
    """Make the draft of one quick report sent as JSON (CSRF-protected like every POST).

    201 with its reference when made, 200 with the same when this report was sent before,
    400 with ``{"errors": {field: [message]}}``, 401 when signed out, 403 when the user may
    not report for the organisation, 409 when the UUID names someone else's report."""
    if not request.user.is_authenticated:
        return _signed_out()
    organisations = list(services.reporting_organisations(request.user))
    if not organisations:
        return _refusal(403, _("You cannot report incidents for any organisation."))
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict) or any(
        isinstance(value, (dict, list)) for value in data.values()
    ):
        return _refusal(400, _("The report could not be read."))
    key = _uuid(data.get("uuid"))
    if key is None:
        return JsonResponse({"errors": {"uuid": [_("The report has no valid UUID.")]}}, status=400)

    incident = made_with(key)
    if incident is not None:
        return _answer(request, incident, created=False)
    report = QuickReport(data, user=request.user, organisations=organisations)
    try:
        organisation = report.organisation(data)
    except PermissionDenied as refusal:
        return _refusal(403, str(refusal))
    if organisation is None:
        report.is_valid()  # the organisation field says what is missing
        return JsonResponse({"errors": report.errors}, status=400)
    try:
        incident, created = _create(
            report, key, organisation, _reported_on(data.get("reported_on"))
        )
    except PermissionDenied as refusal:
        return _refusal(403, str(refusal))
    if incident is None:
        return JsonResponse({"errors": report.errors}, status=400)
    return _answer(request, incident, created=created)


def _visible_to(user, incident: Incident) -> bool:
    return Incident.objects.visible_to(user).filter(pk=incident.pk).exists()


def _answer(request, incident: Incident, *, created: bool) -> JsonResponse:
    if not _visible_to(request.user, incident):
        return _refusal(409, _("This report was already sent by someone else."))
    return JsonResponse(
        {
            "reference": incident.reference,
            "status": incident.status,
            "url": reverse("incidents:detail", args=[incident.reference]),
            "created": created,
        },
        status=201 if created else 200,
    )


@require_GET
def service_worker(request):
    """The service worker's script, served from under the quick page so its scope covers it.

    A script under /static/ could only control /static/. It holds nothing private, so it
    needs no sign-in (an expired session must not break the worker's update check)."""
    path = finders.find(SERVICE_WORKER)
    if path:
        script = Path(path).read_bytes()
    else:  # collected static files only (the source folder is not shipped)
        with staticfiles_storage.open(SERVICE_WORKER) as file:
            script = file.read()
    response = HttpResponse(script, content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = reverse("incidents:quick")
    response["Cache-Control"] = "no-cache"
    return response
