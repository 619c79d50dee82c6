from django.urls import path

from salama.interchange import views

app_name = "interchange"
urlpatterns = [
    path("", views.batch_list, name="batches"),
    path("<int:pk>/", views.batch_detail, name="batch"),
]
