from django.urls import path

from salama.accounts import views

app_name = "accounts"

urlpatterns = [
    path("verify/", views.verify, name="verify"),
    path("two-step/", views.setup, name="two_factor"),
    path("two-step/change/", views.turn_off, name="turn_off"),
]
