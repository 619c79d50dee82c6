from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from salama.accounts.views import SignInView
from salama.sharing.api import api as sharing_api

admin.site.site_header = "Salama"
admin.site.site_title = "Salama"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="incidents:list", permanent=False), name="home"),
    path("accounts/login/", SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("salama.accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("incidents/", include("salama.incidents.urls")),
    path("imports/", include("salama.interchange.urls")),
    path("linkage/", include("salama.linkage.urls")),
    path("analytics/", include("salama.analytics.urls")),
    path("registry/", include("salama.registry.urls")),
    path("risk/", include("salama.risk.urls")),
    path("api/v1/", sharing_api.urls),
    path("sharing/", include("salama.sharing.urls")),
    path("admin/", admin.site.urls),
]
