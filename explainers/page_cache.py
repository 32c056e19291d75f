"""A server-side cache of rendered reader pages, checked against the database on every hit.

Reader pages are the same for everyone, so rendering each once is enough. A cached page is
keyed by a stamp read from the database on every request: for an explainer page, its own
row (read anyway to find it); for lists, the explainers table's row count and latest save.
Any save, publication, notice, unpublication or deletion changes the stamp, so editors never
see a stale page after their change. Only what time alone changes (a scheduled publication
coming due) waits for the entry to expire, after PUBLIC_CACHE_SECONDS: the same lifetime a
CDN is allowed.
"""

import hashlib
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Max
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

from .models import Explainer

# Query parameters the pages use; any other makes the request skip the cache, so junk
# parameters cannot fill it.
CACHEABLE_PARAMETERS = {"page", "voted", "sent"}


def table_stamp() -> str:
    stamp = Explainer.objects.aggregate(count=Count("pk"), last=Max("updated_at"))
    last = stamp["last"].isoformat() if stamp["last"] else "-"
    return f"{stamp['count']}:{last}"


def cache_key(request: HttpRequest, stamp: str) -> str | None:
    if request.method not in {"GET", "HEAD"} or not set(request.GET) <= CACHEABLE_PARAMETERS:
        return None
    raw = f"{stamp}|{request.get_host()}|{request.is_secure()}|{request.get_full_path()}"
    return "page:" + hashlib.sha256(raw.encode()).hexdigest()


def cached_render(
    request: HttpRequest, stamp: str, render: Callable[[], HttpResponse]
) -> HttpResponse:
    """The cached page for this request and stamp, or ``render()``'s, stored if it is a 200.

    Either way the response may be kept by shared caches: every reader gets the same bytes.
    """
    key = cache_key(request, stamp)
    hit = cache.get(key) if key else None
    if hit is not None:
        content, content_type = hit
        response = HttpResponse(content, content_type=content_type)
    else:
        response = render()
        if key and response.status_code == 200:
            if hasattr(response, "render"):
                response.render()
            cache.set(
                key,
                (response.content, response["Content-Type"]),
                timeout=settings.PUBLIC_CACHE_SECONDS,
            )
    patch_cache_control(response, public=True, max_age=settings.PUBLIC_CACHE_SECONDS)
    return response


def public_page(view):
    """Cache a list view's pages under the explainers table's stamp."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        return cached_render(request, table_stamp(), lambda: view(request, *args, **kwargs))

    return wrapper
