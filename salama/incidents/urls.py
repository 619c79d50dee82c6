from django.urls import path

from salama.incidents import views

app_name = "incidents"
urlpatterns = [
    path("", views.incident_list, name="list"),
    path("report/", views.report, name="report"),
    path("<str:reference>/", views.detail, name="detail"),
]
