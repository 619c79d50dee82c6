from django.urls import path

from salama.analytics import views

app_name = "analytics"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("compare/", views.comparative, name="compare"),
    path("themes/<slug:theme>/", views.thematic, name="theme"),
    path("map/", views.map_page, name="map"),
    path("forecast/", views.forecast_page, name="forecast"),
    path("map.svg", views.map_svg, name="map_svg"),
    path("report/", views.report_page, name="report"),
    path("records/", views.records, name="records"),
    path("data.csv", views.data_csv, name="data_csv"),
    path("headcounts/", views.headcounts, name="headcounts"),
]
