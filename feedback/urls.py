from django.urls import path

from . import views

app_name = "feedback"

urlpatterns = [
    path("explainers/<slug:slug>/feedback/", views.vote, name="vote"),
]
