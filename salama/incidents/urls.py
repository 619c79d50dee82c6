from django.urls import path

from salama.incidents import offline, views

app_name = "incidents"
urlpatterns = [
    path("", views.incident_list, name="list"),
    path("map.svg", views.incident_map, name="map"),
    path("report/", views.report, name="report"),
    path("quick/", offline.quick, name="quick"),
    path("quick/sw.js", offline.service_worker, name="quick_sw"),
    path("quick/token/", offline.token, name="quick_token"),
    path("quick/send/", offline.send, name="quick_send"),
    path("<str:reference>/", views.detail, name="detail"),
    path("<str:reference>/edit/", views.edit, name="edit"),
    path("<str:reference>/edit/<slug:step>/", views.step, name="step"),
    path("<str:reference>/<slug:action>/", views.transition, name="transition"),
]
