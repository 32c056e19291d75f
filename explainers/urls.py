from django.urls import path

from . import views
from .page_cache import public_page

app_name = "explainers"

urlpatterns = [
    path("", public_page(views.ExplainerListView.as_view()), name="list"),
    path("corrections/", public_page(views.CorrectionListView.as_view()), name="corrections"),
    path(
        "explainers/<slug:slug>/",
        public_page(views.ExplainerDetailView.as_view()),
        name="detail",
    ),
    path("preview/<str:token>/", views.preview_link, name="preview"),
]
