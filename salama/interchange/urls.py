from django.urls import path

from salama.interchange import export_views, views

app_name = "interchange"
urlpatterns = [
    path("", views.batch_list, name="batches"),
    path("<int:pk>/", views.batch_detail, name="batch"),
    path("upload/", views.upload, name="upload"),
    path("upload/<str:token>/", views.upload_preview, name="upload_preview"),
    path("export/", export_views.export_page, name="export"),
    path("export/download/", export_views.export_download, name="export_download"),
]
