"""Signing in with a password and, for people who turned it on, a code from their phone.

After the password, a person with a second factor is not signed in yet: the session holds who
they are (for five minutes) until they type a valid code or a recovery code. Wrong codes count
as failed sign-ins for the lockout (django-axes), like wrong passwords.
"""

import time

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login, user_login_failed
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from salama.accounts import factors
from salama.accounts.middleware import HAS_FACTOR
from salama.core import audit

PENDING = "salama_pending_second_factor"
PENDING_SECONDS = 300
MAX_WRONG_CODES = 5


class SignInView(auth_views.LoginView):
    """The password step. With a confirmed second factor, hand over to the code step."""

    def form_valid(self, form):
        user = form.get_user()
        if not factors.has_confirmed_factor(user):
            return super().form_valid(form)
        self.request.session.cycle_key()
        self.request.session[PENDING] = {
            "user": user.pk,
            "backend": user.backend,
            "next": self.get_redirect_url(),
            "since": time.time(),
            "wrong": 0,
        }
        return redirect("accounts:verify")


def _pending_user(request):
    pending = request.session.get(PENDING)
    if not pending or time.time() - pending["since"] > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return None, None
    user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
    return user, pending


@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def verify(request):
    user, pending = _pending_user(request)
    if user is None:
        messages.info(request, _("Please sign in again."))
        return redirect(settings.LOGIN_URL)
    credentials = {"username": user.get_username()}
    if AxesProxyHandler.is_locked(request, credentials):
        request.session.pop(PENDING, None)
        return render(request, "registration/locked_out.html", status=429)
    error = ""
    if request.method == "POST":
        code = request.POST.get("code", "")
        used_recovery = False
        accepted = factors.verify_code(user, code)
        if not accepted and len("".join(code.split())) > 6:
            accepted = used_recovery = factors.use_recovery_code(user, code)
        if accepted:
            request.session.pop(PENDING, None)
            login(request, user, backend=pending["backend"])
            if used_recovery:
                left = factors.remaining_recovery_codes(user)
                messages.warning(
                    request,
                    _("You signed in with a recovery code; %(left)d remain.") % {"left": left},
                )
            target = pending.get("next") or ""
            if not url_has_allowed_host_and_scheme(
                target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            ):
                target = settings.LOGIN_REDIRECT_URL
            return redirect(target or settings.LOGIN_REDIRECT_URL)
        pending["wrong"] += 1
        request.session[PENDING] = pending
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        if pending["wrong"] >= MAX_WRONG_CODES or AxesProxyHandler.is_locked(request, credentials):
            request.session.pop(PENDING, None)
            return render(request, "registration/locked_out.html", status=429)
        error = _("That code is not valid. Check the time on your phone and try again.")
    return render(request, "accounts/verify.html", {"error": error}, status=400 if error else 200)


@never_cache
@login_required
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def setup(request):
    """Turn the second factor on: scan, type a first code, get the recovery codes (once)."""
    if factors.has_confirmed_factor(request.user):
        return render(
            request,
            "accounts/two_factor.html",
            {"remaining": factors.remaining_recovery_codes(request.user)},
        )
    factor = factors.start_enrolment(request.user) if request.method == "GET" else None
    error = ""
    if request.method == "POST":
        if factors.confirm(request.user, request.POST.get("code", "")):
            codes = factors.new_recovery_codes(request.user)
            audit.record("second_factor.on", actor=request.user, obj=request.user)
            return render(request, "accounts/recovery_codes.html", {"codes": codes})
        error = _("That code is not valid. Check the time on your phone and try again.")
        factor = request.user.second_factor
    return render(
        request,
        "accounts/setup.html",
        {
            "qr": factors.qr_svg(factor, _("QR code for your authenticator app")),
            "secret": " ".join(factor.secret[i : i + 4] for i in range(0, len(factor.secret), 4)),
            "error": error,
        },
        status=400 if error else 200,
    )


@never_cache
@login_required
@sensitive_post_parameters("code")
@require_http_methods(["POST"])
def turn_off(request):
    """Turning the factor off (or making new recovery codes) needs a current code."""
    code = request.POST.get("code", "")
    if not factors.verify_code(request.user, code):
        messages.error(request, _("That code is not valid. Nothing was changed."))
        return redirect("accounts:two_factor")
    if request.POST.get("action") == "recovery":
        codes = factors.new_recovery_codes(request.user)
        audit.record("second_factor.recovery_codes", actor=request.user, obj=request.user)
        return render(request, "accounts/recovery_codes.html", {"codes": codes})
    factors.turn_off(request.user)
    request.session.pop(HAS_FACTOR, None)
    audit.record("second_factor.off", actor=request.user, obj=request.user)
    messages.success(request, _("Two-step sign-in is off."))
    return redirect("accounts:two_factor")
