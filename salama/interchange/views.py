from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from salama.interchange import uploads
from salama.interchange.forms import MappingForm, UploadForm
from salama.interchange.models import ImportBatch, Upload
from salama.interchange.runner import ImportRefused
from salama.organisations.models import organisation_ids


def _batches(user):
    return ImportBatch.objects.filter(organisation_id__in=organisation_ids(user))


@login_required
def batch_list(request):
    batches = _batches(request.user).select_related("organisation")[:200]
    may_upload = uploads.importing_organisations(request.user).exists()
    return render(
        request, "interchange/batch_list.html", {"batches": batches, "may_upload": may_upload}
    )


@login_required
def batch_detail(request, pk):
    batch = get_object_or_404(_batches(request.user), pk=pk)
    rows = batch.quarantine.all()[:500]
    return render(request, "interchange/batch_detail.html", {"batch": batch, "rows": rows})


# -- the upload page: choose, upload, preview, commit -------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def upload(request):
    if not uploads.importing_organisations(request.user).exists():
        raise PermissionDenied
    form = UploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            stored = uploads.store_upload(
                user=request.user,
                organisation=data["organisation"],
                format_name=data["format"],
                uploaded=data["file"],
                sheet=data["sheet"],
            )
        except (uploads.UploadRefused, ImportRefused) as exc:
            form.add_error("file", str(exc))
        else:
            if data["mapping"] is not None:
                stored.spec = {**data["mapping"].spec, "name": data["mapping"].name}
                stored.save(update_fields=["spec"])
            return redirect("interchange:upload_preview", token=stored.token)
    return render(request, "interchange/upload.html", {"form": form, "limit": uploads.UPLOAD_LIMIT})


def _own_upload(request, token) -> Upload:
    found = get_object_or_404(
        Upload.objects.select_related("organisation", "batch"), token=token, batch__isnull=True
    )
    if not uploads.may_import(request.user, found.organisation_id):
        raise PermissionDenied
    return found


@login_required
@require_http_methods(["GET", "POST"])
def upload_preview(request, token):
    upload_ = _own_upload(request, token)
    spec = upload_.spec or None
    form = MappingForm(request.POST or None)
    mapping_error = ""
    if request.method == "POST" and form.is_valid():
        action = request.POST.get("action", "check")
        if upload_.format in uploads.MAPPED | uploads.HASHTAGS and "mapping" in request.POST:
            try:
                spec = uploads.parse_mapping_text(form.cleaned_data["mapping"]) or None
            except ImportRefused as exc:
                mapping_error = str(exc)
            else:
                upload_.spec = spec or {}
                upload_.save(update_fields=["spec"])
        if not mapping_error and action == "save":
            name = form.cleaned_data["name"]
            if not name or not spec:
                mapping_error = _("Give the mapping a name (letters, digits and dashes).")
            else:
                uploads.save_mapping(
                    user=request.user,
                    organisation=upload_.organisation,
                    name=name,
                    format_name=upload_.format,
                    spec=spec,
                )
                spec = {**spec, "name": name}
                upload_.spec = spec
                upload_.save(update_fields=["spec"])
                messages.success(request, _("Mapping “%(name)s” saved.") % {"name": name})
        elif not mapping_error and action == "commit":
            try:
                batch = uploads.commit(upload_, user=request.user, spec=spec)
            except (uploads.UploadRefused, ImportRefused) as exc:
                mapping_error = str(exc)
            except Exception:  # noqa: BLE001 (the batch records the error; no trace shown)
                messages.error(request, _("The import stopped; its batch says why."))
                return redirect("interchange:batches")
            else:
                return redirect("interchange:batch", pk=batch.pk)
    result = uploads.preview(upload_, spec)
    # The person's own text stays when it could not be read, so nothing they typed is lost.
    shown = request.POST.get("mapping", "") if mapping_error else result.mapping_text
    form = MappingForm(initial={"mapping": shown, "name": request.POST.get("name", "")})
    return render(
        request,
        "interchange/upload_preview.html",
        {
            "upload": upload_,
            "preview": result,
            "form": form,
            "mapping_error": mapping_error,
            "editable": upload_.format in uploads.MAPPED | uploads.HASHTAGS,
        },
    )
