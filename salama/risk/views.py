"""Risk pages: assessments (list, new, detail with the area's incident trend, workflow, PDF),
the go / no-go matrix of activities × areas, one decision with its acceptance, premises.

Views stay thin: reads go through the ``visible_to`` querysets, writes through ``services``.
"""

import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, OuterRef, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from salama.core.geo import country_name
from salama.core.models import AuditEntry
from salama.organisations.models import organisation_ids
from salama.risk import choices as rc
from salama.risk import forms, rules, services
from salama.risk.models import Activity, ActivityArea, Area, Assessment, ChecklistItem, Premises
from salama.risk.trend import area_trend, contradictions

# A page of the go / no-go matrix: 25 activities × 40 areas. Two hundred columns do not fit
# a phone or a sheet of paper, and 5,000 cells took 150–250 ms of a 300 ms budget.
ACTIVITIES_PER_PAGE = 25
AREAS_PER_PAGE = 40


def _today():
    return timezone.localdate()


# ------------------------------------------------------------------------------ assessments


@login_required
def assessment_list(request):
    assessments = (
        Assessment.objects.visible_to(request.user)
        .select_related("area", "organisation")
        .order_by("area__name", "-period_start", "-id")
    )
    status = request.GET.get("status")
    if status in rc.AssessmentStatus.values:
        assessments = assessments.filter(status=status)
    return render(
        request,
        "risk/assessment_list.html",
        {
            "assessments": assessments[:500],
            "statuses": rc.AssessmentStatus.choices,
            "status": status,
            "can_create": forms.authored_areas(request.user).exists(),
        },
    )


@login_required
def assessment_new(request):
    form = forms.AssessmentForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            assessment = services.create_assessment(
                user=request.user, area=form.cleaned_data["area"], fields=form.assessment_fields()
            )
        except (ValidationError, PermissionDenied) as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Draft saved. Add the specific threat events."))
            return redirect("risk:assessment", pk=assessment.pk)
    return render(request, "risk/assessment_form.html", {"form": form})


def _assessment(request, pk):
    return get_object_or_404(
        Assessment.objects.visible_to(request.user).select_related(
            "area", "organisation", "matrix", "approved_by", "created_by", "designated_approver"
        ),
        pk=pk,
    )


def assessment_context(request, assessment):
    """What the detail page and the PDF show. A recipient of a sharing agreement reads the
    record too (``Assessment.objects.visible_to``): the trend counts the incidents the reader
    may see, and links to other assessments appear only where the door lets them through."""
    today = _today()
    user = request.user
    trend = area_trend(user, assessment.area, today)
    visible = Assessment.objects.visible_to(user)
    events = list(assessment.threat_events.all())
    measures = list(assessment.measures.select_related("threat_event"))
    for measure in measures:
        measure.overdue = bool(
            measure.due_date
            and measure.due_date < today
            and measure.status in (rc.MeasureStatus.PLANNED, rc.MeasureStatus.IN_PROGRESS)
        )
    return {
        "assessment": assessment,
        "general_threats": assessment.general_threats.all(),
        "events": events,
        "measures": measures,
        "trend": trend,
        "contradictions": contradictions(assessment, trend),
        "superseded": assessment.supersedes.visible_to(user),
        "successor_visible": bool(
            assessment.superseded_by_id and visible.filter(pk=assessment.superseded_by_id).exists()
        ),
        # Another organisation's record (TLP:CLEAR/GREEN, or shared by an agreement): the
        # reader's pages say its activities, decisions and premises stay with it.
        "other_organisation": assessment.organisation_id not in organisation_ids(user),
        "today": today,
        "country": country_name(assessment.area.country),
    }


@login_required
def assessment_detail(request, pk):
    assessment = _assessment(request, pk)
    context = assessment_context(request, assessment)
    user = request.user
    context["actions"] = {
        "edit": services.can_edit(user, assessment),
        "submit": services.can_edit(user, assessment) and bool(context["events"]),
        "approve": services.can_approve(user, assessment),
        "return": services.can_return(user, assessment),
        "revise": assessment.status == rc.AssessmentStatus.APPROVED
        and services.can_author(user, assessment.organisation_id),
        "track": services.can_track_measures(user, assessment),
    }
    context["measure_statuses"] = rc.MeasureStatus.choices
    context["history"] = AuditEntry.objects.filter(
        object_type="risk.assessment", object_id=str(assessment.pk)
    ).order_by("seq")
    if context["actions"]["edit"]:
        context["general_form"] = forms.GeneralThreatForm()
        context["event_form"] = forms.ThreatEventForm()
        context["measure_form"] = forms.MeasureForm(assessment=assessment)
    return render(request, "risk/assessment_detail.html", context)


@login_required
@require_POST
def assessment_add(request, pk, part):
    assessment = _assessment(request, pk)
    form_class = {
        "general": forms.GeneralThreatForm,
        "event": forms.ThreatEventForm,
        "measure": forms.MeasureForm,
    }.get(part)
    if form_class is None:
        raise PermissionDenied
    kwargs = {"assessment": assessment} if part == "measure" else {}
    form = form_class(data=request.POST, **kwargs)
    if not form.is_valid():
        for field, errors in form.errors.items():
            for error in errors:
                messages.error(
                    request, f"{form.fields[field].label if field in form.fields else ''} {error}"
                )
        return redirect("risk:assessment", pk=pk)
    try:
        if part == "general":
            services.add_general_threat(
                user=request.user, assessment=assessment, fields=form.cleaned_data
            )
        elif part == "event":
            services.add_threat_event(
                user=request.user, assessment=assessment, fields=form.cleaned_data
            )
        else:
            services.add_measure(user=request.user, assessment=assessment, fields=form.cleaned_data)
    except (PermissionDenied, ValidationError) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    return redirect("risk:assessment", pk=pk)


@login_required
@require_POST
def assessment_transition(request, pk, action):
    assessment = _assessment(request, pk)
    user = request.user
    try:
        if action == "submit":
            services.submit(user=user, assessment=assessment)
            messages.success(request, _("Submitted for approval."))
        elif action == "approve":
            services.approve(user=user, assessment=assessment)
            messages.success(request, _("Approved. It is now the area's current assessment."))
        elif action == "return":
            services.return_to_draft(
                user=user, assessment=assessment, reason=request.POST.get("reason", "")
            )
            messages.success(request, _("Sent back to draft."))
        elif action == "measure":
            measure = get_object_or_404(assessment.measures, pk=request.POST.get("measure"))
            services.set_measure_status(
                user=user, measure=measure, status=request.POST.get("status", "")
            )
            messages.success(request, _("Measure updated."))
        elif action == "revise":
            today = _today()
            revised = services.revise(
                user=user,
                assessment=assessment,
                period_start=today,
                period_end=rules.add_months(today, 12) - datetime.timedelta(days=1),
                review_date=assessment.review_date if assessment.review_date > today else today,
            )
            messages.success(request, _("A new draft copied from this assessment."))
            return redirect("risk:assessment", pk=revised.pk)
        else:
            raise PermissionDenied
    except services.WorkflowError as error:
        messages.error(request, str(error))
    except PermissionDenied as error:
        messages.error(request, str(error) or _("You may not do that."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("risk:assessment", pk=pk)


@login_required
def assessment_pdf(request, pk):
    """The assessment and the decisions of its area, as a PDF for the signature file."""
    from weasyprint import HTML

    assessment = _assessment(request, pk)
    context = assessment_context(request, assessment)
    context["decisions"] = services.weigh(
        ActivityArea.objects.visible_to(request.user)
        .filter(area=assessment.area)
        .order_by("activity__code"),
        context["today"],
    )
    context["printed_by"] = request.user
    context["printed_at"] = timezone.now()
    html = render_to_string("risk/record_pdf.html", context, request=request)
    pdf = HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="risk-assessment-{assessment.pk}.pdf"'
    return response


# ------------------------------------------------------------------------------- decisions


def _row_html(cells, url_prefix: str, labels: dict, empty: str, shapes: dict) -> str:
    """One matrix row's cells as HTML, built here rather than in the template: a page holds
    thousands of cells, and a template loop with a ``{% url %}`` per cell costs a few hundred
    microseconds each (most of a 300 ms budget). Cells differ only by their link once their
    decision, PC level and risk are known, so each such shape is escaped and built once."""
    parts = []
    for row in cells:
        if row is None:
            parts.append(empty)
            continue
        shape_key = (row.outcome.decision, row.pc_level, row.residual_risk)
        shape = shapes.get(shape_key)
        if shape is None:
            decision = row.outcome.decision
            shape = shapes[shape_key] = (
                f'<td class="cell-{decision}"><a href="{url_prefix}',
                f'/">{labels[decision]}</a><br>{escape(row.pc_level or "–")} · '
                f"{labels.get(row.residual_risk or '', '—')}</td>",
            )
        parts.append(f"{shape[0]}{row.activity_area_id}{shape[1]}")
    return mark_safe("".join(parts))  # noqa: S308 — every piece above is escaped


def _page_number(value) -> int:
    try:
        return max(1, int(value or 1))
    except (TypeError, ValueError):
        return 1


@login_required
def decision_matrix(request):
    """Activities (rows) × areas (columns), coloured by decision, a page of each at a time."""
    user = request.user
    areas = Area.objects.visible_to(user)
    country = request.GET.get("country", "")
    if country:
        areas = areas.filter(country=country)
    all_areas = list(areas.order_by("name").values_list("pk", "name", "country"))
    area_page = _page_number(request.GET.get("areas"))
    start = (area_page - 1) * AREAS_PER_PAGE
    areas = all_areas[start : start + AREAS_PER_PAGE]
    countries = sorted(
        {
            (c, country_name(c))
            for c in Area.objects.visible_to(user).values_list("country", flat=True)
        },
        key=lambda pair: pair[1],
    )
    decision_filter = request.GET.get("decision", "")

    # EXISTS, not a join with DISTINCT: the join reads every pair of every activity before
    # it can sort and skip to a page (300 ms at 200,000 pairs).
    runs_here = ActivityArea.objects.filter(
        activity=OuterRef("pk"), area_id__in=[a[0] for a in all_areas]
    )
    activities = Activity.objects.visible_to(user).filter(Exists(runs_here))
    activities = activities.order_by("code", "id")
    page = _page_number(request.GET.get("page"))
    offset = (page - 1) * ACTIVITIES_PER_PAGE
    chunk = list(
        activities.values_list("pk", "code", "name")[offset : offset + ACTIVITIES_PER_PAGE + 1]
    )
    has_next = len(chunk) > ACTIVITIES_PER_PAGE
    chunk = chunk[:ACTIVITIES_PER_PAGE]
    pairs = ActivityArea.objects.filter(
        activity_id__in=[a[0] for a in chunk], area_id__in=[a[0] for a in areas]
    )
    cells = {
        (row.activity_id, row.area_id): row for row in services.weigh(pairs, _today(), names=False)
    }
    counts = dict.fromkeys(rc.Decision.values, 0)
    for row in cells.values():
        counts[row.outcome.decision] += 1
    # str() first: escaping a lazy label keeps it lazy, and each cell would translate it again.
    labels = {
        code: escape(str(label)) for code, label in [*rc.Decision.choices, *rc.RiskLevel.choices]
    }
    # The link of a cell, made once: reverse() per cell would cost more than the rule.
    url_prefix = reverse("risk:decision", args=[0])[: -len("0/")]
    shapes = {}
    empty = '<td class="cell-none">·</td>'
    rows = []
    for pk, code, name in chunk:
        row_cells = [cells.get((pk, area[0])) for area in areas]
        if decision_filter and not any(
            c is not None and c.outcome.decision == decision_filter for c in row_cells
        ):
            continue
        rows.append((code, name, _row_html(row_cells, url_prefix, labels, empty, shapes)))
    return render(
        request,
        "risk/decision_matrix.html",
        {
            "areas": areas,
            "rows": rows,
            "countries": countries,
            "country": country,
            "decisions": rc.Decision.choices,
            "decision_filter": decision_filter,
            "counts": [(rc.Decision(d).label, d, n) for d, n in counts.items()],
            "page": page,
            "has_next": has_next,
            "area_page": area_page,
            "has_next_areas": start + AREAS_PER_PAGE < len(all_areas),
            "area_count": len(all_areas),
            "area_from": start + 1 if areas else 0,
            "area_to": start + len(areas),
            "today": _today(),
        },
    )


@login_required
def decision_detail(request, pk):
    activity_area = get_object_or_404(
        ActivityArea.objects.visible_to(request.user).select_related("activity", "area"), pk=pk
    )
    today = _today()
    criticality = forms.CriticalityForm(
        request.POST if request.POST.get("action") == "criticality" else None,
        instance=activity_area,
    )
    if request.method == "POST" and request.POST.get("action") == "criticality":
        if criticality.is_valid():
            try:
                services.set_programme_criticality(
                    user=request.user, activity_area=activity_area, fields=criticality.cleaned_data
                )
                messages.success(request, _("Programme criticality saved."))
            except (PermissionDenied, ValidationError) as error:
                messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
            return redirect("risk:decision", pk=pk)
    elif request.method == "POST":
        try:
            services.accept_risk(
                user=request.user,
                activity_area=activity_area,
                today=today,
                note=request.POST.get("note", "")[:2000],
            )
            messages.success(request, _("Risk accepted and recorded."))
        except services.WorkflowError as error:
            messages.error(request, str(error))
        except PermissionDenied as error:
            messages.error(request, str(error))
        return redirect("risk:decision", pk=pk)
    row = services.decision_for(activity_area, today)
    return render(
        request,
        "risk/decision_detail.html",
        {
            "item": activity_area,
            "row": row,
            "residual_label": rules.label(rc.RiskLevel, row.residual_risk or ""),
            "approver_label": rules.label(rc.ApproverLevel, row.outcome.required_approver or ""),
            "can_accept": row.outcome.decision == rc.Decision.NEEDS_APPROVAL
            and services.can_accept(request.user, activity_area, row.outcome.required_approver),
            "acceptances": activity_area.acceptances.select_related("approved_by", "assessment"),
            "criticality": criticality,
            "can_rate": services.can_rate(request.user, activity_area),
        },
    )


# -------------------------------------------------------------------------------- premises


@login_required
def premises_list(request):
    today = _today()
    premises = (
        Premises.objects.visible_to(request.user)
        .select_related("area")
        .annotate(
            open_findings=Count("findings", filter=Q(findings__status=rc.ActionStatus.OPEN)),
            overdue=Count(
                "findings",
                filter=Q(findings__status=rc.ActionStatus.OPEN, findings__due_date__lt=today),
            ),
        )
    )
    return render(request, "risk/premises_list.html", {"premises": premises})


@login_required
def premises_detail(request, pk):
    premises = get_object_or_404(Premises.objects.visible_to(request.user), pk=pk)
    today = _today()
    items = services.checklist_for(premises)
    answers = {a.item_id: a for a in premises.answers.all()}
    if request.method == "POST" and request.POST.get("close"):
        finding = get_object_or_404(premises.findings, pk=request.POST["close"])
        try:
            services.close_finding(user=request.user, finding=finding, today=today)
            messages.success(request, _("Corrective action marked done."))
        except PermissionDenied as error:
            messages.error(request, str(error))
        return redirect("risk:premises", pk=pk)
    if request.method == "POST":
        try:
            services.record_checklist(
                user=request.user,
                premises=premises,
                answers={
                    item.pk: request.POST.get(f"item-{item.pk}", "")
                    for item in items
                    if request.POST.get(f"item-{item.pk}")
                },
                today=today,
            )
            messages.success(request, _("Checklist saved."))
        except (PermissionDenied, ValidationError) as error:
            messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        return redirect("risk:premises", pk=pk)
    checklist = [(item, answers.get(item.pk)) for item in items]
    return render(
        request,
        "risk/premises_detail.html",
        {
            "premises": premises,
            "checklist": checklist,
            "answers": rc.ComplianceAnswer.choices,
            "findings": premises.findings.select_related("item"),
            "today": today,
            "compliant": sum(1 for _, a in checklist if a and a.answer == rc.ComplianceAnswer.YES),
            "answered": sum(
                1 for _, a in checklist if a and a.answer != rc.ComplianceAnswer.NOT_APPLICABLE
            ),
            "ChecklistItem": ChecklistItem,
        },
    )
