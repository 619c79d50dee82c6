from django.urls import path

from salama.registry import views

app_name = "registry"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("new/", views.case_new, name="new"),
    path("figures/", views.figures_page, name="figures"),
    # Organisation admins (before "<reference>/", which would take these paths).
    path("focal-points/", views.focal_points, name="focal_points"),
    path(
        "focal-points/<int:organisation_id>/designate/",
        views.focal_point_designate,
        name="focal_point_designate",
    ),
    path(
        "focal-points/<int:organisation_id>/remove/<int:user_id>/",
        views.focal_point_remove,
        name="focal_point_remove",
    ),
    path("emergency-access/", views.break_glass_log, name="break_glass_log"),
    path(
        "emergency-access/<int:grant_id>/reviewed/",
        views.break_glass_review,
        name="break_glass_review",
    ),
    path("<str:reference>/", views.case_detail, name="detail"),
    path("<str:reference>/identity/", views.identity, name="identity"),
    path("<str:reference>/identity/edit/", views.identity_edit, name="identity_edit"),
    path("<str:reference>/edit/", views.case_edit, name="edit"),
    path("<str:reference>/detention/", views.detention_edit, name="detention"),
    path("<str:reference>/abduction/", views.abduction_edit, name="abduction"),
    path("<str:reference>/follow-up/", views.follow_up_add, name="follow_up"),
    path(
        "<str:reference>/follow-up/<int:entry_id>/response/",
        views.response_add,
        name="response",
    ),
    path("<str:reference>/milestone/", views.milestone_add, name="milestone"),
    path("<str:reference>/consent/", views.consent_add, name="consent"),
    path("<str:reference>/documents/", views.document_add, name="document"),
    path(
        "<str:reference>/documents/<int:document_id>/",
        views.document_download,
        name="download",
    ),
    path("<str:reference>/decide/<str:decision>/", views.decide, name="decide"),
    path("<str:reference>/name-officer/", views.name_officer, name="name_officer"),
    path("<str:reference>/break-glass/", views.break_glass, name="break_glass"),
    path("<str:reference>/summary/", views.summary, name="summary"),
    path("<str:reference>/summary.pdf", views.summary_pdf, name="summary_pdf"),
]
