"""Site-wide files browsers and crawlers ask for (the web app manifest and robots.txt), and
the 403 page."""

from django.conf import settings
from django.contrib import admin
from django.http import HttpResponse, JsonResponse
from django.templatetags.static import static
from django.urls import reverse
from django.views import defaults

from newsroom.site import absolute_url


def manifest(request):
    """The web app manifest: the publication's name and icons for browsers and news apps."""
    data = {
        "name": settings.SITE_NAME,
        "short_name": settings.SITE_NAME[:12],
        "description": "Short, structured explainers of the news.",
        "lang": settings.SITE_LANGUAGE,
        "start_url": reverse("explainers:list"),
        "scope": "/",
        "display": "browser",
        "background_color": "#ffffff",
        "theme_color": "#b3261e",
        "icons": [
            {"src": static("favicon.svg"), "sizes": "any", "type": "image/svg+xml"},
            {"src": static("icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("icon-512.png"), "sizes": "512x512", "type": "image/png"},
        ],
    }
    return JsonResponse(data, content_type="application/manifest+json")


def robots_txt(request):
    """Crawlers may read the public site, not the admin or shared previews; where sitemaps are.

    Search result pages are left out as well: search engines ask sites not to have their own
    results indexed, and a crawler following every query would only load the database.
    """
    lines = [
        "User-agent: *",
        "Allow: /",
        "Disallow: /admin/",
        "Disallow: /preview/",
        "Disallow: /search/",
        "",
        f"Sitemap: {absolute_url(reverse('explainers:sitemap-index'))}",
        f"Sitemap: {absolute_url(reverse('explainers:news-sitemap'))}",
        "",
    ]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")


def permission_denied(request, exception):
    """Staff refused a page of the admin get the admin's 403 page; everyone else the site's."""
    match = request.resolver_match
    user = getattr(request, "user", None)
    in_admin = match is not None and admin.site.name in match.namespaces
    if in_admin and user is not None and user.is_active and user.is_staff:
        return admin.site.permission_denied(request, exception)
    return defaults.permission_denied(request, exception)
