from django.urls import path

from . import feeds, sitemaps, views
from .page_cache import PAGED, SEARCH, SITEMAP_PAGED, VOTE_OUTCOME, public_page

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
    path("feed/", public_page(feeds.ExplainerFeed.view()), name="feed"),
    path("feed/atom/", public_page(feeds.AtomExplainerFeed.view()), name="feed-atom"),
    path("corrections/feed/", public_page(feeds.CorrectionFeed.view()), name="corrections-feed"),
    # Search pages keep to their own bounded cache: see explainers/search.py.
    path("search/", public_page(views.search_page, query=SEARCH), name="search"),
    path("topics/", public_page(views.TopicListView.as_view()), name="topics"),
    path("topics/<slug:slug>/feed/", public_page(feeds.TopicFeed.view()), name="topic-feed"),
    path(
        "topics/<slug:slug>/",
        public_page(views.TopicDetailView.as_view(), query=PAGED),
        name="topic",
    ),
    path("sitemap.xml", public_page(sitemaps.index), name="sitemap-index"),
    path(
        "sitemap-<slug:section>.xml",
        public_page(sitemaps.section, query=SITEMAP_PAGED),
        name="sitemap",
    ),
    path("news-sitemap.xml", public_page(sitemaps.news), name="news-sitemap"),
    path("preview/<str:token>/", views.preview_link, name="preview"),
]
