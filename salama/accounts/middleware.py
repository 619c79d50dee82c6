"""Where the deployment requires it (SALAMA_REQUIRE_TWO_FACTOR, on by default in production),
a signed-in person without a second factor can only reach the page that sets one up."""

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse

from salama.accounts.factors import has_confirmed_factor

HAS_FACTOR = "salama_has_second_factor"


class RequireSecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            settings.REQUIRE_TWO_FACTOR
            and request.user.is_authenticated
            and not request.session.get(HAS_FACTOR)
        ):
            if has_confirmed_factor(request.user):
                request.session[HAS_FACTOR] = True
            elif not self._exempt(request.path):
                return redirect("accounts:two_factor")
        return self.get_response(request)

    @staticmethod
    def _exempt(path: str) -> bool:
        allowed = (
            reverse("accounts:two_factor"),
            reverse("logout"),
            reverse("set_language"),
            settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/static/",
        )
        return path.startswith(allowed)
