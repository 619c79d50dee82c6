from django.urls import path

from salama.sharing import views

app_name = "sharing"
urlpatterns = [
    path("keys/", views.key_list, name="keys"),
    path("keys/<int:organisation_id>/new/", views.key_create, name="key_create"),
    path("keys/<str:prefix>/revoke/", views.key_revoke, name="key_revoke"),
]
