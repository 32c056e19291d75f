"""Sitemaps (django.contrib.sitemaps) and the Google News sitemap, of what readers may see.

Every address names NEWSROOM_SITE_URL, never the request's Host: Django's own index view and
``Sitemap.get_urls`` would take the Host, so the index is built here and ``SiteSitemap``
passes the configured scheme and host on.
"""

from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps import views as sitemap_views
from django.contrib.sitemaps.views import SitemapIndexItem
from django.db.models import Max, Q
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from newsroom.site import absolute_url

from . import page_cache, selectors, text
from .models import Explainer

# Google News takes articles of the last two days, at most 1,000 per sitemap.
NEWS_WINDOW = timedelta(hours=48)
NEWS_LIMIT = 1000


class SiteSitemap(Sitemap):
    def get_urls(self, page=1, site=None, protocol=None):
        address = urlsplit(settings.SITE_URL)
        return super().get_urls(
            page=page, site=SimpleNamespace(domain=address.netloc), protocol=address.scheme
        )


class ExplainerSitemap(SiteSitemap):
    """Every published explainer at its public address; lastmod is the last public change."""

    def items(self):
        return (
            Explainer.objects.published()
            .select_related("live_revision", "scheduled_revision")
            .only(
                "published_at",
                "public_updated_at",
                "scheduled_at",
                "live_revision__slug",
                "scheduled_revision__slug",
            )
            .order_by("-published_at", "-pk")
        )

    def lastmod(self, item):
        return item.reader_updated_at

    def get_latest_lastmod(self):
        # Without this, Django would load every explainer to find the latest change.
        latest = Explainer.objects.published().aggregate(
            updated=Max("public_updated_at"),
            published=Max("published_at"),
            scheduled=Max("scheduled_at", filter=Q(scheduled_at__lte=timezone.now())),
        )
        times = [value for value in latest.values() if value is not None]
        return max(times) if times else None


class TopicSitemap(SiteSitemap):
    def items(self):
        return selectors.public_topics()

    def location(self, item):
        return reverse("explainers:topic", kwargs={"slug": item.slug})


class HomeSitemap(SiteSitemap):
    changefreq = "hourly"

    def items(self):
        return ["explainers:list", "explainers:topics", "explainers:corrections"]

    def location(self, item):
        return reverse(item)


SITEMAPS = {"explainers": ExplainerSitemap, "topics": TopicSitemap, "pages": HomeSitemap}


def index(request):
    """/sitemap.xml: the sitemap index, one entry per page of each section."""
    entries = []
    for section, sitemap_class in SITEMAPS.items():
        sitemap = sitemap_class()
        location = absolute_url(reverse("explainers:sitemap", kwargs={"section": section}))
        lastmod = sitemap.get_latest_lastmod()
        for page in range(1, sitemap.paginator.num_pages + 1):
            url = location if page == 1 else f"{location}?p={page}"
            entries.append(SitemapIndexItem(url, lastmod))
    response = TemplateResponse(
        request, "sitemap_index.xml", {"sitemaps": entries}, content_type="application/xml"
    )
    return page_cache.tag(response, "sitemaps")


def section(request, section):
    """One section's sitemap (``?p=2`` for its second page of 50,000 addresses)."""
    response = sitemap_views.sitemap(
        request, SITEMAPS, section=section, template_name="explainers/sitemap.xml"
    )
    return page_cache.tag(response, "sitemaps")


def news(request):
    """/news-sitemap.xml: explainers first published in the last 48 hours, for Google News."""
    now = timezone.now()
    explainers = list(
        Explainer.objects.published()
        .with_public_revision()
        .filter(published_at__gt=now - NEWS_WINDOW)
        .order_by("-published_at", "-pk")[:NEWS_LIMIT]
    )
    context = {
        "items": [
            {
                "url": absolute_url(explainer.get_absolute_url()),
                "published_at": explainer.published_at,
                "title": text.xml_safe(explainer.public_revision.headline),
            }
            for explainer in explainers
        ],
        "language": settings.SITE_LANGUAGE,
    }
    response = TemplateResponse(
        request, "explainers/news_sitemap.xml", context, content_type="application/xml"
    )
    return page_cache.tag(response, "sitemaps", *page_cache.explainer_keys(explainers))
