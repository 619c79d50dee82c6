"""Review queue pages for analysts. Business rules live in :mod:`salama.linkage.services`."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from salama.incidents import choices as c
from salama.incidents.models import AffectedPerson, Incident
from salama.linkage import services
from salama.linkage.frame import linkable_incidents
from salama.linkage.models import LinkageRun, LinkageSettings
from salama.linkage.tasks import link_incidents

# Up to this many incidents, "Run linkage" runs while the page waits (a few seconds);
# beyond, it goes to the task queue.
SYNC_LIMIT = 20_000


def _analyst(request):
    if not services.is_analyst(request.user):
        raise PermissionDenied(_("Only analysts review duplicate incidents."))


def _labels(codes):
    return [services.AGREEMENT_LABELS.get(code, code) for code in codes]


@login_required
def queue(request):
    _analyst(request)
    page = Paginator(services.review_queue(request.user), 50).get_page(request.GET.get("page"))
    for pair in page:
        pair.reasons = _labels(pair.agreements)
    context = {
        "page": page,
        "runs": LinkageRun.objects.all()[:5],
        "config": LinkageSettings.current(),
        "merges": services.merges_visible_to(request.user).select_related("survivor", "duplicate")[
            :10
        ],
    }
    return render(request, "linkage/queue.html", context)


@login_required
@require_POST
def run(request):
    _analyst(request)
    run = LinkageRun.objects.create(
        started_by=request.user, threshold=LinkageSettings.current().review_threshold
    )
    if linkable_incidents().count() <= SYNC_LIMIT:
        try:
            result = services.run_linkage(user=request.user, run=run)
        except Exception:  # noqa: BLE001 - the run records the error; the page says so
            messages.error(request, _("The linkage run failed; its error is in the run list."))
            return redirect("linkage:queue")
        linked = ngettext(
            "Linked %(n)s incident.", "Linked %(n)s incidents.", result.run.incidents
        ) % {"n": result.run.incidents}
        proposed = ngettext(
            "%(new)s new pair to review.", "%(new)s new pairs to review.", result.run.proposed
        ) % {"new": result.run.proposed}
        messages.success(request, f"{linked} {proposed}")
    else:
        link_incidents.enqueue(run.pk)
        messages.success(
            request, _("Linkage is queued; new pairs appear here when the run is done.")
        )
    return redirect("linkage:queue")


def _side(incident):
    persons = AffectedPerson.objects.filter(incident=incident).order_by("id")
    return {"incident": incident, "persons": persons, "sources": incident.sources.all()}


@login_required
def pair_detail(request, pk):
    _analyst(request)
    pair = (
        services.pairs_visible_to(request.user)
        .select_related("incident_a", "incident_b")
        .filter(pk=pk)
        .first()
    )
    if pair is None:
        raise Http404
    a, b = pair.incident_a, pair.incident_b
    context = {
        "pair": pair,
        "reasons": _labels(pair.agreements),
        "sides": [_side(a), _side(b)],
        "comparison": services.provenance(a, b),
        "decidable": pair.status == pair.Status.PROPOSED
        and c.Status.MERGED not in (a.status, b.status),
        "merges": pair.merges.all(),
    }
    return render(request, "linkage/pair.html", context)


@login_required
@require_POST
def confirm(request, pk):
    _analyst(request)
    try:
        survivor = int(request.POST.get("survivor", ""))
    except ValueError:
        messages.error(request, _("Choose which incident to keep."))
        return redirect("linkage:pair", pk=pk)
    try:
        record = services.confirm(pk, request.user, survivor_id=survivor)
    except services.LinkageError as error:
        messages.error(request, str(error))
        return redirect("linkage:pair", pk=pk)
    messages.success(
        request,
        _("%(dup)s was merged into %(ref)s; every source is kept.")
        % {"dup": record.duplicate.reference, "ref": record.survivor.reference},
    )
    return redirect("linkage:merge", pk=record.pk)


@login_required
@require_POST
def reject(request, pk):
    _analyst(request)
    try:
        services.reject(pk, request.user, reason=request.POST.get("reason", "").strip())
    except services.LinkageError as error:
        messages.error(request, str(error))
        return redirect("linkage:pair", pk=pk)
    messages.success(request, _("Rejected: these two will not be proposed again."))
    return redirect("linkage:queue")


@login_required
def merge_detail(request, pk):
    _analyst(request)
    record = (
        services.merges_visible_to(request.user)
        .select_related("survivor", "duplicate", "merged_by", "unmerged_by")
        .filter(pk=pk)
        .first()
    )
    if record is None:
        raise Http404
    return render(request, "linkage/merge.html", {"record": record})


@login_required
@require_POST
def unmerge(request, pk):
    _analyst(request)
    try:
        record = services.unmerge(pk, request.user)
    except services.LinkageError as error:
        messages.error(request, str(error))
        return redirect("linkage:merge", pk=pk)
    messages.success(
        request,
        _("The merge was undone: %(a)s and %(b)s are separate again.")
        % {"a": record.survivor.reference, "b": record.duplicate.reference},
    )
    return redirect("linkage:merge", pk=pk)


@login_required
def incident_merges(request, reference):
    """The merges kept on one incident (its provenance), for the incident's own page."""
    _analyst(request)
    incident = Incident.objects.visible_to(request.user).filter(reference=reference).first()
    if incident is None:
        raise Http404
    records = services.merges_visible_to(request.user).filter(survivor=incident)
    return render(
        request, "linkage/incident_merges.html", {"incident": incident, "records": records}
    )
