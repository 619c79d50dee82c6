"""The export page and the download: the incident list's current filters, as a file.

The list's filter form has an "Export" button that sends its filters here (an htmx request
is told to load this page whole, since a page is wanted, not a fragment). The page says what
will be exported and asks for a format and a scheme; the download is a POST (it writes the
audit log) that streams CSV, HXL and GeoJSON as they are written, and builds XLSX and Parquet
in a temporary file first (their layout needs the end of the file written last).
"""

import tempfile

from django.contrib.auth.decorators import login_required
from django.forms import ChoiceField, ModelChoiceField
from django.http import FileResponse, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from salama.incidents.forms import IncidentFilterForm
from salama.interchange import exports
from salama.interchange.exports import ExportRefused, schemes, writers

FORMAT_LABELS = {
    "csv": _("CSV (spreadsheets, one row per incident)"),
    "xlsx": _("Excel workbook (XLSX)"),
    "hxl": _("HXL-tagged CSV (Humanitarian Exchange Language)"),
    "geojson": _("GeoJSON (maps; incidents with coordinates only)"),
    "parquet": _("Parquet (analysis tools)"),
}
SCHEME_LABELS = {
    "native": _("Salama: every field, with stable codes"),
    "awsd": _("AWSD: the Aid Worker Security Database's public layout (major incidents only)"),
    "sind": _("SiND: Insecurity Insight's aid-worker layout (violence only)"),
}
FILTER_NAMES = list(IncidentFilterForm.base_fields)


def _filters(data) -> QueryDict:
    """Only the list's filter fields of ``data`` (never ``page``, ``format``…)."""
    filters = QueryDict(mutable=True)
    for name in FILTER_NAMES:
        value = data.get(name)
        if value:
            filters[name] = value
    return filters


def _flat(choices):
    for key, label in choices:
        if isinstance(label, list | tuple):  # a group of choices (the sub-categories)
            yield from _flat(label)
        else:
            yield key, label


def _described(form: IncidentFilterForm) -> list[tuple[str, str]]:
    """(label, value as shown) of each valid filter in use, for the page."""
    if not form.is_valid():
        return []
    described = []
    for name, value in form.cleaned_data.items():
        if value in (None, ""):
            continue
        field = form.fields[name]
        if isinstance(field, ChoiceField) and not isinstance(field, ModelChoiceField):
            value = dict(_flat(field.choices)).get(value, value)
        described.append((field.label, str(value)))
    return described


def _page(request, filters, status=200, error=""):
    form = IncidentFilterForm(filters)
    context = {
        "filters": filters,
        "described": _described(form),
        "filter_errors": form.errors if filters else {},
        "formats": [(name, FORMAT_LABELS.get(name, name)) for name in writers.WRITERS],
        "schemes": [(name, SCHEME_LABELS.get(name, name)) for name in schemes.registry()],
        "chosen_format": request.POST.get("format") or "csv",
        "chosen_scheme": request.POST.get("scheme") or "native",
        "error": error,
        "list_url": reverse("incidents:list") + (f"?{filters.urlencode()}" if filters else ""),
    }
    return render(request, "interchange/export.html", context, status=status)


@login_required
@require_GET
def export_page(request):
    if request.htmx:
        # The list's filter form is driven by htmx: load this page whole instead of a swap.
        response = HttpResponse(status=204)
        response["HX-Redirect"] = request.get_full_path()
        return response
    return _page(request, _filters(request.GET))


def _filename(format_name: str, scheme: str) -> str:
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    return f"salama-incidents-{scheme}-{stamp}.{writers.get(format_name).EXTENSION}"


@login_required
@require_POST
def export_download(request):
    filters = _filters(request.POST)
    format_name = request.POST.get("format", "")
    scheme = request.POST.get("scheme", "")
    try:
        writer, _scheme, form = exports.prepare(
            request.user, format=format_name, scheme=scheme, filters=filters
        )
    except ExportRefused as exc:
        return _page(request, filters, status=400, error=str(exc))
    filename = _filename(format_name, scheme)
    if writer.STREAMED:
        exports.audit_start(request.user, format_name, scheme, exports.used_filters(form))
        response = StreamingHttpResponse(
            exports.Stream(request.user, format=format_name, scheme=scheme, form=form),
            content_type=writer.CONTENT_TYPE,
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    else:
        # Deleted when the response closes it (and by the system if the process dies).
        handle = tempfile.TemporaryFile(prefix="salama-export-")  # noqa: SIM115
        try:
            exports.run_export(
                request.user, format=format_name, scheme=scheme, filters=filters, out=handle
            )
        except BaseException:
            handle.close()
            raise
        handle.seek(0)
        response = FileResponse(
            handle, as_attachment=True, filename=filename, content_type=writer.CONTENT_TYPE
        )
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
