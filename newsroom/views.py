"""Site-wide files browsers and crawlers ask for: the web app manifest and robots.txt."""

from django.conf import settings
from django.http import JsonResponse
from django.templatetags.static import static
from django.urls import reverse


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
