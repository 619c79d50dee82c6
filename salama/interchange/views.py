from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from salama.interchange.models import ImportBatch
from salama.organisations.models import organisation_ids


def _batches(user):
    return ImportBatch.objects.filter(organisation_id__in=organisation_ids(user))


@login_required
def batch_list(request):
    batches = _batches(request.user).select_related("organisation")[:200]
    return render(request, "interchange/batch_list.html", {"batches": batches})


@login_required
def batch_detail(request, pk):
    batch = get_object_or_404(_batches(request.user), pk=pk)
    rows = batch.quarantine.all()[:500]
    return render(request, "interchange/batch_detail.html", {"batch": batch, "rows": rows})
