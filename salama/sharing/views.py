"""The API keys page: an organisation admin lists, makes and revokes the organisation's keys.
A new key's token is shown once, in the answer to the form that made it (never in a URL or
the session)."""

import contextlib

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from salama.organisations.choices import Role
from salama.organisations.models import organisations_where
from salama.sharing import keys
from salama.sharing.models import ApiKey

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
