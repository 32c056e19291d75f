from django.urls import path

from . import views
from .page_cache import PAGED, VOTE_OUTCOME, public_page

app_name = "explainers"

urlpatterns = [
    path("", public_page(views.ExplainerListView.as_view(), query=PAGED), name="list"),
    path(
        "corrections/",
        public_page(views.CorrectionListView.as_view(), query=PAGED),
        name="corrections",
    ),
    path(
        "explainers/<slug:slug>/",
        public_page(views.ExplainerDetailView.as_view(), query=VOTE_OUTCOME),
        name="detail",
    ),
    path("preview/<str:token>/", views.preview_link, name="preview"),
]
