from django.urls import path

from salama.sharing import views

app_name = "sharing"
urlpatterns = [
    path("keys/", views.key_list, name="keys"),
    path("keys/<int:organisation_id>/new/", views.key_create, name="key_create"),
    path("keys/<str:prefix>/revoke/", views.key_revoke, name="key_revoke"),
    path("agreements/", views.agreement_list, name="agreements"),
    path("agreements/propose/", views.agreement_propose, name="agreement_propose"),
    path(
        "agreements/<int:pk>/accept/",
        views.agreement_answer,
        {"answer": "accept"},
        name="agreement_accept",
    ),
    path(
        "agreements/<int:pk>/decline/",
        views.agreement_answer,
        {"answer": "decline"},
        name="agreement_decline",
    ),
    path("agreements/<int:pk>/end/", views.agreement_end, name="agreement_end"),
    path("shared/", views.shared_list, name="shared"),
    path("shared/<int:pk>/", views.shared_detail, name="shared_detail"),
    path("shared/<int:pk>/figures.csv", views.shared_figures_csv, name="shared_figures_csv"),
    path("shared/<int:pk>/<str:reference>/", views.shared_record, name="shared_record"),
]
