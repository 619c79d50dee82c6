from django.urls import path

from salama.risk import views

app_name = "risk"

urlpatterns = [
    path("", views.assessment_list, name="assessments"),
    path("assessments/new/", views.assessment_new, name="assessment_new"),
    path("assessments/<int:pk>/", views.assessment_detail, name="assessment"),
    path("assessments/<int:pk>/record.pdf", views.assessment_pdf, name="assessment_pdf"),
    path("assessments/<int:pk>/add/<slug:part>/", views.assessment_add, name="assessment_add"),
    path(
        "assessments/<int:pk>/<slug:action>/",
        views.assessment_transition,
        name="assessment_transition",
    ),
    path("decisions/", views.decision_matrix, name="decisions"),
    path("decisions/<int:pk>/", views.decision_detail, name="decision"),
    path("premises/", views.premises_list, name="premises_list"),
    path("premises/<int:pk>/", views.premises_detail, name="premises"),
]
