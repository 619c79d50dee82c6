from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render

from salama.incidents import services
from salama.incidents.models import Incident


@login_required
def incident_list(request):
    incidents = Incident.objects.visible_to(request.user).current().select_related("organisation")
    page = Paginator(incidents, settings.INCIDENTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "incidents/list.html", {"page": page})


@login_required
def report(request):
    return redirect("incidents:list")


@login_required
def detail(request, reference):
    incident = get_object_or_404(Incident.objects.visible_to(request.user), reference=reference)
    return render(
        request,
        "incidents/detail.html",
        {"incident": incident, "history": list(services.history(incident))},
    )
