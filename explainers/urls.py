from django.urls import path

from . import views

app_name = "explainers"

urlpatterns = [
    path("", views.ExplainerListView.as_view(), name="list"),
    path("explainers/<slug:slug>/", views.ExplainerDetailView.as_view(), name="detail"),
]
