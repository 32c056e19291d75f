"""Uploads served by Django in development; in production the web server or a bucket does it
with the same headers (docs/operations.md, "Images")."""

from django.conf import settings
from django.utils.cache import patch_cache_control
from django.views.static import serve

# A rendition's file never changes: a new version of an image gets new addresses.
RENDITIONS_PREFIX = "renditions/"
IMMUTABLE_SECONDS = 365 * 24 * 3600


def serve_media(request, path):
    """An upload from MEDIA_ROOT; renditions with immutable, year-long caching."""
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    if path.startswith(RENDITIONS_PREFIX):
        patch_cache_control(response, public=True, max_age=IMMUTABLE_SECONDS, immutable=True)
    # Whatever its name, a file is only ever what its Content-Type says.
    response["X-Content-Type-Options"] = "nosniff"
    return response
