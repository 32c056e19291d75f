from django.urls import path

from . import views
from .page_cache import public_page

app_name = "explainers"

urlpatterns = [
    path("", public_page(views.ExplainerListView.as_view()), name="list"),
    path(
        "explainers/<slug:slug>/",
        public_page(views.ExplainerDetailView.as_view()),
        name="detail",
    ),
]
