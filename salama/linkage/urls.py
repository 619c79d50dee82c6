from django.urls import path

from salama.linkage import views

app_name = "linkage"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("run/", views.run, name="run"),
    path("pairs/<int:pk>/", views.pair_detail, name="pair"),
    path("pairs/<int:pk>/confirm/", views.confirm, name="confirm"),
    path("pairs/<int:pk>/reject/", views.reject, name="reject"),
    path("merges/<int:pk>/", views.merge_detail, name="merge"),
    path("merges/<int:pk>/unmerge/", views.unmerge, name="unmerge"),
    path("incidents/<str:reference>/merges/", views.incident_merges, name="incident_merges"),
]
