"""The incident pages: list (filters, search, map), report in steps, detail, edit, workflow.

Views stay thin: every read goes through ``Incident.objects.visible_to(user)``, every write
through ``services``. The report steps double as the edit pages; each step saves the draft
with the version the page was loaded with, so a concurrent edit is shown, never overwritten.
"""

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import OuterRef, Subquery, Sum
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from salama.core import audit
from salama.core.geo import country_choices
from salama.core.markings import TLP
from salama.incidents import choices as c
from salama.incidents import display, services
from salama.incidents.forms import (
    MARKING_HELP,
    PERSON_FIELDS,
    WHAT_FIELDS,
    WHERE_FIELDS,
    IncidentFilterForm,
    MarkingForm,
    PersonFormSet,
    RoadCrashForm,
    SourceFormSet,
    WhatForm,
    WhenWhereForm,
    add_errors,
)
from salama.incidents.map import MAX_POINTS, render_svg
from salama.incidents.models import AffectedPerson, Incident, RoadCrash

STEPS = {
    "where": gettext_lazy("When and where"),
    "what": gettext_lazy("What happened"),
    "who": gettext_lazy("Who was affected"),
    "sources": gettext_lazy("Sources"),
    "marking": gettext_lazy("Marking"),
}
STEP_NAMES = list(STEPS)
SOURCE_FIELDS = ["kind", "url", "external_id", "reported_on", "note"]


# ---------------------------------------------------------------------------------------- list


@dataclass
class Page:
    """One page of a list, found by reading one row past its end instead of counting all.

    COUNT(*) over what a user may see gets slow on a million incidents; "is there a next
    page" is all the pager needs.
    """

    items: list
    number: int
    size: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def start(self) -> int:
        return (self.number - 1) * self.size + 1 if self.items else 0

    @property
    def end(self) -> int:
        return self.start + len(self.items) - 1 if self.items else 0


def _page(queryset, number, size: int) -> Page:
    try:
        number = max(1, int(number))
    except (TypeError, ValueError):
        number = 1
    offset = (number - 1) * size
    rows = list(queryset[offset : offset + size + 1])
    return Page(rows[:size], number, size, len(rows) > size)


def _visible(user):
    return Incident.objects.visible_to(user).current()


@login_required
def incident_list(request):
    form = IncidentFilterForm(request.GET or None)
    affected = (
        AffectedPerson.objects.filter(incident=OuterRef("pk"))
        .order_by()
        .values("incident")
        .annotate(total=Sum("count"))
        .values("total")
    )
    incidents = (
        form.filter(_visible(request.user))
        .select_related("organisation")
        .defer("narrative", "coordinate_note")
        .annotate(affected=Subquery(affected))
    )
    page = _page(incidents, request.GET.get("page"), settings.INCIDENTS_PER_PAGE)
    countries = dict(country_choices())
    for incident in page.items:
        incident.country_label = countries.get(incident.country, incident.country)
    context = {"form": form, "page": page, "max_points": MAX_POINTS}
    template = "incidents/_results.html" if request.htmx else "incidents/list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
def incident_map(request):
    """The list's map as an SVG image, for the same filters, so the list itself stays fast."""
    form = IncidentFilterForm(request.GET or None)
    points = list(
        form.filter(_visible(request.user))
        .filter(latitude__isnull=False, longitude__isnull=False)
        .order_by("-date", "-id")
        .values_list("latitude", "longitude")[: MAX_POINTS + 1]
    )
    capped = len(points) > MAX_POINTS
    points = points[:MAX_POINTS]
    if capped:
        description = ngettext(
            "Dots mark where incidents happened: the latest %(n)s incident with coordinates "
            "that matches the filters (older ones are not drawn).",
            "Dots mark where incidents happened: the latest %(n)s incidents with coordinates "
            "that match the filters (older ones are not drawn).",
            MAX_POINTS,
        ) % {"n": MAX_POINTS}
    else:
        description = ngettext(
            "Dots mark where incidents happened: %(n)s incident with coordinates matches the "
            "filters.",
            "Dots mark where incidents happened: %(n)s incidents with coordinates match the "
            "filters.",
            len(points),
        ) % {"n": len(points)}
    svg = render_svg(points, title=_("Map of incidents"), description=description)
    response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response


# ------------------------------------------------------------------------------------- detail


def _actions(user, incident) -> dict:
    """Which buttons this user gets; the services check again when one is pressed."""
    editable = services.can_edit(user, incident)
    return {
        "edit": editable,
        "submit": editable and incident.status == c.Status.DRAFT,
        "endorse": services.can_endorse(user, incident),
        "send_back": services.can_send_back(user, incident),
        "close": services.can_close(user, incident),
    }


@login_required
def detail(request, reference):
    incident = get_object_or_404(
        Incident.objects.visible_to(request.user).select_related(
            "organisation", "reported_by", "endorsed_by", "merged_into"
        ),
        reference=reference,
    )
    persons = list(incident.persons.order_by("id"))
    recipients = (
        list(incident.recipients.select_related("user").order_by("user__username"))
        if incident.marking == TLP.RED
        else []
    )
    context = {
        "incident": incident,
        "persons": persons,
        "persons_total": sum(p.count for p in persons),
        "totals": list(incident.totals.order_by("dimension", "value")),
        "sources": list(incident.sources.order_by("id")),
        "road_crash": RoadCrash.objects.filter(incident=incident).first(),
        "recipients": recipients,
        "history": display.describe_history(services.history(incident)),
        "recipient_names": [r.user.get_username() for r in recipients],
        "actions": _actions(request.user, incident),
        "marking_help": MARKING_HELP[TLP(incident.marking)],
    }
    return render(request, "incidents/detail.html", context)


TRANSITIONS = {
    "submit": (services.submit, gettext_lazy("%(ref)s is submitted for endorsement.")),
    "endorse": (services.endorse, gettext_lazy("%(ref)s is endorsed.")),
    "send-back": (services.return_to_draft, gettext_lazy("%(ref)s is back to draft.")),
    "close": (services.close, gettext_lazy("%(ref)s is closed.")),
}


@login_required
@require_POST
def transition(request, reference, action):
    """Submit, endorse, send back or close; a refusal is shown as a message, not an error."""
    if action not in TRANSITIONS:
        raise Http404
    incident = get_object_or_404(_visible(request.user), reference=reference)
    move, done = TRANSITIONS[action]
    try:
        move(incident, request.user)
    except (services.WorkflowError, PermissionDenied) as refusal:
        messages.error(request, str(refusal) or _("You cannot do that."))
    else:
        messages.success(request, done % {"ref": incident.reference})
    return redirect("incidents:detail", incident.reference)


# ------------------------------------------------------------------------------------- report


reporting_organisations = services.reporting_organisations


def _values(obj, names) -> dict:
    return {name: getattr(obj, name) for name in names}


def _where_forms(request, incident, data):
    return {"form": WhenWhereForm(data, initial=_values(incident, WHERE_FIELDS), incident=incident)}


def _where_changes(forms, incident):
    fields = forms["form"].incident_fields()
    changes = {"fields": fields}
    if fields["subcategory"] != c.SubCategory.ROAD_TRAFFIC:
        # Road-crash facts on a record that is no longer a road crash would be counted
        # wrongly; the history keeps them.
        changes["road_crash"] = {}
    return changes


def _what_forms(request, incident, data):
    forms = {"form": WhatForm(data, initial=_values(incident, WHAT_FIELDS))}
    if incident.subcategory == c.SubCategory.ROAD_TRAFFIC:
        crash = RoadCrash.objects.filter(incident=incident).first()
        initial = _values(crash, RoadCrashForm.base_fields) if crash else {}
        forms["crash"] = RoadCrashForm(data, initial=initial, prefix="crash")
    return forms


def _what_changes(forms, incident):
    changes = {"fields": forms["form"].incident_fields()}
    if "crash" in forms:
        changes["road_crash"] = dict(forms["crash"].cleaned_data)
    return changes


def _stored(rows) -> dict:
    return {row.pk: audit.snapshot(row, exclude=("id", "incident_id")) for row in rows}


def _who_forms(request, incident, data):
    initial = [{"id": p.pk, **_values(p, PERSON_FIELDS)} for p in incident.persons.order_by("id")]
    default_cause = c.Cause.SAFETY if incident.category == c.Category.SAFETY else c.Cause.VIOLENCE
    return {
        "formset": PersonFormSet(
            data,
            initial=initial,
            prefix="persons",
            form_kwargs={"default_cause": default_cause},
        )
    }


def _who_changes(forms, incident):
    return {"persons": forms["formset"].rows(_stored(incident.persons.all()))}


def _sources_forms(request, incident, data):
    initial = [{"id": s.pk, **_values(s, SOURCE_FIELDS)} for s in incident.sources.order_by("id")]
    return {"formset": SourceFormSet(data, initial=initial, prefix="sources")}


def _sources_changes(forms, incident):
    return {"sources": forms["formset"].rows(_stored(incident.sources.all()))}


def _marking_forms(request, incident, data):
    initial = {
        "marking": incident.marking,
        "recipients": list(incident.recipients.values_list("user_id", flat=True)),
    }
    form = MarkingForm(
        data,
        initial=initial,
        reporter=incident.reported_by,
        organisation_id=incident.organisation_id,
    )
    return {"form": form}


def _marking_changes(forms, incident):
    data = forms["form"].cleaned_data
    return {"fields": {"marking": data["marking"]}, "recipients": list(data["recipients"])}


STEP_HANDLERS = {
    "where": (_where_forms, _where_changes),
    "what": (_what_forms, _what_changes),
    "who": (_who_forms, _who_changes),
    "sources": (_sources_forms, _sources_changes),
    "marking": (_marking_forms, _marking_changes),
}


def _all_valid(forms) -> bool:
    return all([form.is_valid() for form in forms.values()])  # noqa: C419 (validate every form)


def _show_model_errors(forms, error: ValidationError) -> list[str]:
    """Put the model's errors next to the fields of this step; return those with no field."""
    errors = error.message_dict if hasattr(error, "error_dict") else {None: error.messages}
    form = forms.get("form")
    if form is not None:
        add_errors(form, errors)
        return []
    return [message for messages in errors.values() for message in messages]


def _render_step(
    request, step, incident, forms, *, version=None, conflict=None, problems=(), status=200
):
    context = {
        "problems": problems,
        "step": step,
        "step_title": STEPS[step],
        "steps": STEPS.items(),
        "step_number": STEP_NAMES.index(step) + 1,
        "step_count": len(STEPS),
        "incident": incident,
        "version": version if version is not None else getattr(incident, "version", None),
        "conflict": conflict,
        "is_draft": incident is None or incident.status == c.Status.DRAFT,
        "is_last": step == STEP_NAMES[-1],
        "previous_step": STEP_NAMES[STEP_NAMES.index(step) - 1] if step != "where" else None,
        **forms,
    }
    return render(request, "incidents/step.html", context, status=status)


@login_required
def report(request):
    """Step 1 of a new report: saving it creates the draft.

    The form carries a one-time token; the session remembers which draft each token made, so
    going back in the browser and saving step 1 again updates that draft instead of making a
    second one (a bad connection makes people press twice)."""
    organisations = list(reporting_organisations(request.user))
    if not organisations:
        return render(request, "incidents/cannot_report.html", status=403)
    if request.method == "POST":
        token = request.POST.get("draft_token", "")[:64]
        form = WhenWhereForm(request.POST, organisations=organisations)
        if form.is_valid():
            organisation = form.cleaned_data.get("organisation") or organisations[0]
            made = _draft_made_with(request, token)
            try:
                if made is not None:
                    incident = services.update_incident(
                        made.pk,
                        user=request.user,
                        expected_version=made.version,
                        fields=form.incident_fields(),
                    )
                else:
                    incident = services.create_incident(
                        user=request.user,
                        organisation=organisation,
                        fields=form.incident_fields(),
                    )
            except ValidationError as error:
                add_errors(form, error.message_dict)
            except PermissionDenied as refusal:
                form.add_error(None, str(refusal))
            else:
                _remember_draft(request, token, incident)
                messages.success(
                    request,
                    _("Draft %(ref)s saved. You can leave and continue it later.")
                    % {"ref": incident.reference},
                )
                return redirect("incidents:step", incident.reference, "what")
    else:
        token = secrets.token_urlsafe(16)
        form = WhenWhereForm(organisations=organisations, initial={"date": timezone.localdate()})
    return _render_step(request, "where", None, {"form": form, "draft_token": token})


NEW_DRAFTS = "salama_new_drafts"


def _draft_made_with(request, token: str):
    """The draft an earlier submission of this step-1 form made, if it is still a draft."""
    pk = request.session.get(NEW_DRAFTS, {}).get(token) if token else None
    if pk is None:
        return None
    return _visible(request.user).filter(pk=pk, status=c.Status.DRAFT).first()


def _remember_draft(request, token: str, incident) -> None:
    if not token:
        return
    drafts = request.session.get(NEW_DRAFTS, {})
    drafts[token] = incident.pk
    request.session[NEW_DRAFTS] = dict(list(drafts.items())[-20:])


@login_required
def step(request, reference, step):
    """One step of a draft, or one section of an incident being edited."""
    if step not in STEP_HANDLERS:
        raise Http404
    incident = get_object_or_404(_visible(request.user), reference=reference)
    if not services.can_edit(request.user, incident):
        messages.error(request, _("You cannot edit %(ref)s.") % {"ref": incident.reference})
        return redirect("incidents:detail", incident.reference)
    build, changes_of = STEP_HANDLERS[step]
    if request.method != "POST":
        return _render_step(request, step, incident, build(request, incident, None))

    forms = build(request, incident, request.POST)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        return HttpResponseBadRequest(_("The form is missing the version it was loaded with."))
    if not _all_valid(forms):
        return _render_step(request, step, incident, forms, version=version)
    try:
        incident = services.update_incident(
            incident.pk,
            user=request.user,
            expected_version=version,
            **changes_of(forms, incident),
        )
    except services.StaleEdit as stale:
        # Keep the person's input; the page now carries the current version, so saving
        # again is a deliberate choice made after seeing what changed.
        conflict = display.describe_changes(stale.changes)
        return _render_step(
            request,
            step,
            stale.incident,
            forms,
            version=stale.incident.version,
            conflict=conflict,
            status=409,
        )
    except ValidationError as error:
        problems = _show_model_errors(forms, error)
        return _render_step(request, step, incident, forms, version=version, problems=problems)
    except PermissionDenied as refusal:
        messages.error(request, str(refusal))
        return redirect("incidents:detail", incident.reference)
    return _after_save(request, step, incident)


def _after_save(request, step, incident):
    if "submit" in request.POST:
        try:
            services.submit(incident, request.user)
        except (services.WorkflowError, PermissionDenied) as refusal:
            messages.error(request, str(refusal))
            return redirect("incidents:step", incident.reference, step)
        messages.success(
            request,
            _("%(ref)s is submitted. An endorser of %(org)s will check it.")
            % {"ref": incident.reference, "org": incident.organisation},
        )
        return redirect("incidents:detail", incident.reference)
    if incident.status == c.Status.DRAFT:
        messages.success(request, _("Draft saved."))
    else:
        messages.success(request, _("Changes saved."))
    if "stay" in request.POST:
        return redirect("incidents:step", incident.reference, step)
    if "finish" in request.POST or step == STEP_NAMES[-1]:
        return redirect("incidents:detail", incident.reference)
    return redirect("incidents:step", incident.reference, STEP_NAMES[STEP_NAMES.index(step) + 1])


@login_required
def edit(request, reference):
    incident = get_object_or_404(_visible(request.user), reference=reference)
    first = "what" if incident.status == c.Status.DRAFT else "where"
    return redirect(reverse("incidents:step", args=[incident.reference, first]))
