"""The registry pages: case list, case page with timeline, a form per log entry, the printable
and PDF summary, the accountability figures; and for organisation admins, the survivor focal
points and the break-glass review.

Views stay thin: every read of a case goes through ``Case.objects.visible_to(user)`` and every
write through ``services``. The identity is never decrypted for the list or the case page: it
is shown on request (one click, logged each time).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from salama.core import audit
from salama.organisations.choices import Role
from salama.organisations.models import organisations_where
from salama.registry import choices as rc
from salama.registry import documents, figures, forms, services
from salama.registry.models import (
    Abduction,
    BreakGlass,
    Case,
    Detention,
    Document,
    FollowUp,
    SurvivorFocalPoint,
    officer_organisation_ids,
    overdue_days,
)

PER_PAGE = 50


def _admin_of(user):
    return organisations_where(user, Role.ORG_ADMIN)


def _forbidden(request):
    return render(
        request,
        "registry/forbidden.html",
        {"is_org_admin": _admin_of(request.user).exists()},
        status=403,
    )


def _case(request, reference) -> Case:
    """The case, through the door; 404 for anyone it does not let through."""
    try:
        return (
            Case.objects.visible_to(request.user)
            .select_related("owner", "organisation")
            .get(reference=reference)
        )
    except Case.DoesNotExist:
        raise Http404 from None


def _list_order(cases):
    """Open cases first, the longest silent at the top (so overdue ones lead), then
    proposals, closed and declined: the order of an index, read page by page, not sorted."""
    return cases.order_by("queue", "last_movement", "id")


@login_required
def case_list(request):
    if not officer_organisation_ids(request.user):
        return _forbidden(request)
    form = forms.CaseFilterForm(request.GET or None)
    cases = form.filter(Case.objects.visible_to(request.user), request.user)
    cases = (
        _list_order(cases)
        .select_related("owner")
        .only(
            "reference",
            "status",
            "offence",
            "sexual_violence",
            "country",
            "date",
            "last_movement",
            "owner__username",
        )
    )
    try:
        number = max(1, int(request.GET.get("page", 1)))
    except ValueError:
        number = 1
    rows = list(cases[(number - 1) * PER_PAGE : number * PER_PAGE + 1])
    today = timezone.localdate()
    for case in rows:
        case.overdue = case.is_overdue(today)
        case.days_silent = case.days_since_movement(today)
    query = request.GET.copy()
    query.pop("page", None)
    # Proposals sit after the open cases in the list; say up front that some await a decision.
    waiting = len(
        Case.objects.visible_to(request.user).with_status(rc.CaseStatus.PROPOSED).values("pk")[:100]
    )
    return render(
        request,
        "registry/list.html",
        {
            "form": form,
            "cases": rows[:PER_PAGE],
            "page": number,
            "has_next": len(rows) > PER_PAGE,
            "query": query.urlencode(),
            "overdue_days": overdue_days(),
            "proposals_waiting": waiting,
            "is_org_admin": _admin_of(request.user).exists(),
        },
    )


@login_required
def case_new(request):
    if not officer_organisation_ids(request.user):
        return _forbidden(request)
    form = forms.NewCaseForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in services.CASE_FIELDS}
        try:
            case = services.create_case(
                user=request.user, organisation=form.cleaned_data["organisation"], fields=fields
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Case %(ref)s opened.") % {"ref": case.reference})
            return redirect("registry:identity", case.reference)
    return render(request, "registry/form.html", {"form": form, "title": _("Open a case")})


def _add_errors(form, error: ValidationError):
    if hasattr(error, "error_dict"):
        for field, problems in error.message_dict.items():
            form.add_error(field if field in form.fields else None, problems)
    else:
        form.add_error(None, error.messages)


@login_required
def case_detail(request, reference):
    try:
        case = _case(request, reference)
    except Http404:
        restricted = Case.objects.reachable_for_break_glass(request.user).filter(
            reference=reference
        )
        if restricted.exists():
            return render(
                request,
                "registry/restricted.html",
                {"reference": reference, "form": forms.ReasonForm()},
                status=403,
            )
        raise
    detention = Detention.objects.filter(case=case).first()
    abduction = Abduction.objects.filter(case=case).first()
    context = {
        "case": case,
        "timeline": services.timeline(case),
        "stage": services.current_stage(case),
        "detention": detention,
        "abduction": abduction,
        "days_held": (detention or abduction).days_held() if (detention or abduction) else None,
        "overdue": case.is_overdue(),
        "days_silent": case.days_since_movement(),
        "has_identity": hasattr(case, "identity"),
        "named": case.named_officers.select_related("user"),
        "consents": [
            (use, latest, rc.CONSENT_GATES[use])
            for use, latest in services.consent_status(case).items()
        ],
        "follow_ups": case.follow_ups.all(),
        "documents": case.documents.all(),
        "incident_visible": _incident_visible(request.user, case),
        "decision_form": forms.OptionalReasonForm(),
        "decline_form": forms.ReasonForm(),
        "close_form": forms.ReasonForm(),
        "name_form": forms.NameOfficerForm(case=case) if case.sexual_violence else None,
        "glass": case.break_glass.select_related("user")[:10],
    }
    return render(request, "registry/detail.html", context)


def _incident_visible(user, case) -> bool:
    from salama.incidents.models import Incident

    return bool(
        case.incident_id and Incident.objects.visible_to(user).filter(pk=case.incident_id).exists()
    )


@login_required
def identity(request, reference):
    """The identity, decrypted on request; every view is written to the audit log."""
    case = _case(request, reference)
    data = services.read_identity(case, request.user)
    if request.htmx:
        return render(request, "registry/_identity.html", {"case": case, "identity": data})
    if data is None:
        return redirect("registry:identity_edit", case.reference)
    return render(request, "registry/identity.html", {"case": case, "identity": data})


def _conflict(stale):
    return {
        name: (before, after)
        for name, (before, after) in stale.changes.items()
        if name not in ("version", "identity_key")
    } or {"identity": ("…", "…")}


@login_required
def identity_edit(request, reference):
    case = _case(request, reference)
    version = _version(request, case)
    conflict = None
    if request.method == "POST":
        form = forms.IdentityForm(request.POST)
        if form.is_valid():
            try:
                services.set_identity(
                    case, request.user, expected_version=version, data=form.cleaned_data
                )
            except services.StaleEdit as stale:
                conflict = _conflict(stale)
                version = stale.case.version
            except services.CaseError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Identity saved (encrypted)."))
                return redirect("registry:detail", case.reference)
    else:
        current = services.read_identity(case, request.user, purpose="edit") or {}
        form = forms.IdentityForm(initial=current)
    return render(
        request,
        "registry/form.html",
        {
            "case": case,
            "form": form,
            "version": version,
            "conflict": conflict,
            "title": _("Identity of the person"),
            "lede": _("Stored encrypted; only case officers of the organisation can see it."),
        },
    )


def _version(request, case) -> int:
    try:
        return int(request.POST.get("version", case.version))
    except (TypeError, ValueError):
        return case.version


@login_required
def case_edit(request, reference):
    case = _case(request, reference)
    return _versioned_form(
        request,
        case,
        forms.CaseForm,
        instance=case,
        title=_("Edit the case"),
        save=lambda data, version: services.update_case(
            case.pk, user=request.user, expected_version=version, fields=data
        ),
    )


def _detail_edit(request, reference, model, form_class, title, part: str):
    """The detention or abduction details of a case: one row beside the case, saved with it."""
    case = _case(request, reference)
    instance = model.objects.filter(case=case).first() or model(case=case)
    return _versioned_form(
        request,
        case,
        form_class,
        instance=instance,
        title=title,
        save=lambda data, version: services.update_case(
            case.pk, user=request.user, expected_version=version, **{part: data}
        ),
    )


@login_required
def detention_edit(request, reference):
    return _detail_edit(
        request, reference, Detention, forms.DetentionForm, _("Detention"), "detention"
    )


@login_required
def abduction_edit(request, reference):
    return _detail_edit(
        request, reference, Abduction, forms.AbductionForm, _("Abduction"), "abduction"
    )


def _versioned_form(request, case, form_class, *, instance, title, save):
    """An edit carrying the version it was loaded at: a stale save shows what changed."""
    version = _version(request, case)
    conflict = None
    form = form_class(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.fields if name in form.cleaned_data}
        try:
            save(data, version)
        except services.StaleEdit as stale:
            conflict = _conflict(stale)
            version = stale.case.version
        except ValidationError as error:
            _add_errors(form, error)
        except services.CaseError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Saved."))
            return redirect("registry:detail", case.reference)
    return render(
        request,
        "registry/form.html",
        {"case": case, "form": form, "version": version, "conflict": conflict, "title": title},
    )


def _entry_form(request, case, form, *, title, save, lede=""):
    if request.method == "POST" and form.is_valid():
        try:
            save(form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        except services.CaseError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Saved."))
            return redirect("registry:detail", case.reference)
    return render(
        request, "registry/form.html", {"case": case, "form": form, "title": title, "lede": lede}
    )


@login_required
def follow_up_add(request, reference):
    case = _case(request, reference)
    form = forms.FollowUpForm(request.POST or None, initial={"date": timezone.localdate()})
    return _entry_form(
        request,
        case,
        form,
        title=_("Follow-up with the host Government"),
        save=lambda data: services.add_follow_up(case, request.user, dict(data)),
    )


@login_required
def response_add(request, reference, entry_id):
    case = _case(request, reference)
    entry = get_object_or_404(FollowUp, pk=entry_id, case=case)
    form = forms.ResponseForm(request.POST or None, initial={"response_date": timezone.localdate()})
    return _entry_form(
        request,
        case,
        form,
        title=_("Response received"),
        lede=f"{entry.date} · {entry.get_channel_display()} · {entry.get_authority_display()}",
        save=lambda data: services.record_response(entry, request.user, **data),
    )


@login_required
def milestone_add(request, reference):
    case = _case(request, reference)
    form = forms.MilestoneForm(request.POST or None, initial={"date": timezone.localdate()})
    return _entry_form(
        request,
        case,
        form,
        title=_("Justice milestone"),
        save=lambda data: services.add_milestone(case, request.user, **data),
    )


@login_required
def consent_add(request, reference):
    case = _case(request, reference)
    form = forms.ConsentForm(request.POST or None, initial={"recorded_on": timezone.localdate()})
    return _entry_form(
        request,
        case,
        form,
        title=_("Consent of the survivor"),
        save=lambda data: services.record_consent(case, request.user, **data),
    )


@login_required
def document_add(request, reference):
    case = _case(request, reference)
    form = forms.DocumentForm(request.POST or None, request.FILES or None, case=case)
    return _entry_form(
        request,
        case,
        form,
        title=_("Attach a document"),
        lede=_("PDF, PNG, JPEG, Word (DOCX), Excel (XLSX) or plain text, up to %(mb)s MB.")
        % {"mb": documents.max_bytes() // 1_048_576},
        save=lambda data: documents.attach(
            case,
            request.user,
            data["file"],
            follow_up=data.get("follow_up"),
            milestone=data.get("milestone"),
        ),
    )


@login_required
def document_download(request, reference, document_id):
    case = _case(request, reference)
    document = get_object_or_404(Document, pk=document_id, case=case)
    try:
        content = documents.read_for_download(document, request.user)
    except FileNotFoundError:
        raise Http404(_("The stored file is missing.")) from None
    response = HttpResponse(content, content_type=documents.CONTENT_TYPES[document.kind])
    response["Content-Disposition"] = content_disposition_header(True, document.name)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def decide(request, reference, decision):
    case = _case(request, reference)
    try:
        if decision == "accept":
            services.accept(case, request.user, request.POST.get("reason", ""))
            messages.success(request, _("Case accepted: you own it."))
        elif decision == "decline":
            services.decline(case, request.user, request.POST.get("reason", ""))
            messages.success(request, _("Proposal declined."))
        elif decision == "close":
            services.close_case(
                case,
                request.user,
                expected_version=_version(request, case),
                reason=request.POST.get("reason", ""),
            )
            messages.success(request, _("Case closed."))
        elif decision == "reopen":
            services.reopen_case(case, request.user, expected_version=_version(request, case))
            messages.success(request, _("Case reopened."))
        else:
            raise Http404
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except (services.CaseError, services.StaleEdit, PermissionDenied) as error:
        messages.error(request, str(error))
    return redirect("registry:detail", case.reference)


@login_required
@require_POST
def name_officer(request, reference):
    case = _case(request, reference)
    form = forms.NameOfficerForm(request.POST, case=case)
    if form.is_valid():
        try:
            services.name_officer(case, request.user, form.cleaned_data["officer"])
            messages.success(request, _("Officer named on the case."))
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    else:
        messages.error(request, _("Choose a case officer."))
    return redirect("registry:detail", case.reference)


@login_required
@require_POST
def break_glass(request, reference):
    case = get_object_or_404(
        Case.objects.reachable_for_break_glass(request.user), reference=reference
    )
    form = forms.ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.break_glass(case, request.user, form.cleaned_data["reason"])
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.warning(
                request,
                ngettext(
                    "Emergency access granted for %(hours)s hour. It is logged and your "
                    "organisation's admins have been told.",
                    "Emergency access granted for %(hours)s hours. It is logged and your "
                    "organisation's admins have been told.",
                    services.BREAK_GLASS_HOURS,
                )
                % {"hours": services.BREAK_GLASS_HOURS},
            )
            return redirect("registry:detail", case.reference)
    return render(
        request, "registry/restricted.html", {"reference": reference, "form": form}, status=400
    )


def _summary_context(request, case):
    identity_data = services.read_identity(case, request.user, purpose="summary")
    detention = Detention.objects.filter(case=case).first()
    abduction = Abduction.objects.filter(case=case).first()
    return {
        "case": case,
        "identity": identity_data,
        "timeline": services.timeline(case),
        "detention": detention,
        "abduction": abduction,
        "stage": services.current_stage(case),
        "printed_at": timezone.now(),
        "printed_by": request.user,
    }


@login_required
def summary(request, reference):
    case = _case(request, reference)
    return render(request, "registry/summary.html", _summary_context(request, case))


@login_required
def summary_pdf(request, reference):
    from django.contrib.staticfiles import finders
    from weasyprint import CSS, HTML

    case = _case(request, reference)
    html = render_to_string("registry/summary_pdf.html", _summary_context(request, case), request)
    # No base URL: the PDF loads nothing over the network, only the stylesheet from disk.
    pdf = HTML(string=html).write_pdf(
        stylesheets=[CSS(filename=finders.find("salama/registry.css"))]
    )
    audit.record("registry:summary:pdf", actor=request.user, obj=case)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{case.reference}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
def figures_page(request):
    """Accountability figures over the cases of the organisations where the user is a case
    officer, analyst or admin: counts and shares only, Table G by case reference."""
    cases = figures.cases_for_figures(request.user)
    if cases is None:
        return _forbidden(request)
    try:
        year = int(request.GET["year"]) if request.GET.get("year") else None
    except ValueError:
        year = None
    data = figures.all_figures(cases, year=year)
    for row in data["table_g"]:
        row["kind_label"], row["authority_label"] = figures.table_g_labels(row)
    return render(
        request,
        "registry/figures.html",
        {
            "figures": data,
            "year": year,
            "age_bands": [name for _, name in figures.AGE_BANDS] + [figures.OLDEST_BAND],
            "csv_url": reverse("registry:figures"),
            "is_org_admin": _admin_of(request.user).exists(),
        },
    )


# ------------------------------------------------------------------- organisation admins


@login_required
def focal_points(request):
    """The survivor focal points of each organisation the user administers, and how many
    restricted proposals wait there (a count only: admins do not open cases)."""
    organisations = list(_admin_of(request.user))
    if not organisations:
        return _forbidden(request)
    sections = []
    for organisation in organisations:
        sections.append(
            {
                "organisation": organisation,
                "focal_points": SurvivorFocalPoint.objects.filter(organisation=organisation)
                .select_related("user", "designated_by")
                .order_by("user__username"),
                "form": forms.DesignateFocalPointForm(organisation=organisation),
                "waiting": Case.objects.filter(
                    organisation=organisation,
                    sexual_violence=True,
                    status=rc.CaseStatus.PROPOSED,
                ).count(),
            }
        )
    return render(request, "registry/focal_points.html", {"sections": sections})


def _administered(request, organisation_id):
    return get_object_or_404(_admin_of(request.user), pk=organisation_id)


@login_required
@require_POST
def focal_point_designate(request, organisation_id):
    organisation = _administered(request, organisation_id)
    form = forms.DesignateFocalPointForm(request.POST, organisation=organisation)
    if form.is_valid():
        try:
            services.designate_focal_point(organisation, form.cleaned_data["user"], request.user)
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        else:
            messages.success(
                request,
                _("%(user)s is now a survivor focal point of %(org)s.")
                % {"user": form.cleaned_data["user"].get_username(), "org": organisation},
            )
    else:
        messages.error(request, _("Choose a case officer of the organisation."))
    return redirect("registry:focal_points")


@login_required
@require_POST
def focal_point_remove(request, organisation_id, user_id):
    organisation = _administered(request, organisation_id)
    focal = get_object_or_404(
        SurvivorFocalPoint.objects.select_related("user"),
        organisation=organisation,
        user_id=user_id,
    )
    services.undesignate_focal_point(organisation, focal.user, request.user)
    messages.success(
        request,
        _("%(user)s is no longer a survivor focal point of %(org)s.")
        % {"user": focal.user.get_username(), "org": organisation},
    )
    return redirect("registry:focal_points")


REVIEWED_SHOWN = 100


@login_required
def break_glass_log(request):
    """Every use of break-glass on cases of the organisations the user administers: the
    ones waiting for review, then the latest reviewed."""
    administered = _admin_of(request.user).count()
    if not administered:
        return _forbidden(request)
    grants = BreakGlass.objects.for_review_by(request.user).select_related(
        "user", "case", "case__organisation", "reviewed_by"
    )
    return render(
        request,
        "registry/break_glass_log.html",
        {
            "to_review": grants.filter(reviewed_at__isnull=True).order_by("-at"),
            "reviewed": grants.filter(reviewed_at__isnull=False).order_by("-at")[:REVIEWED_SHOWN],
            "reviewed_shown": REVIEWED_SHOWN,
            "many_organisations": administered > 1,
            "now": timezone.now(),
        },
    )


@login_required
@require_POST
def break_glass_review(request, grant_id):
    grant = get_object_or_404(BreakGlass.objects.for_review_by(request.user), pk=grant_id)
    try:
        services.review_break_glass(grant, request.user)
    except (services.CaseError, PermissionDenied) as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Emergency access to %(ref)s by %(user)s marked as reviewed.")
            % {"ref": grant.case.reference, "user": grant.user.get_username()},
        )
    return redirect("registry:break_glass_log")
