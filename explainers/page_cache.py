"""A server-side cache of rendered reader pages.

Reader pages are the same for everyone, so each is rendered once and then served from
Django's cache without touching the database. Every cached page is filed under the current
*generation*; any write that readers could see (an explainer, source, topic, notice or
redirect saved or deleted, a publication) starts a new generation, so the next request
renders afresh. What time alone changes (a scheduled publication coming due, an expiry)
waits for the entry to expire after PUBLIC_CACHE_SECONDS, the lifetime a CDN is allowed too.

The generation lives in the cache, so every process sees a new one only when the cache is
shared (NEWSROOM_CACHE_URL=redis://…); with the per-process default, other worker
processes catch up within PUBLIC_CACHE_SECONDS.
"""

import hashlib
import uuid
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

GENERATION_KEY = "page-generation"
# Query parameters the pages use; any other makes the request skip the cache, so junk
# parameters cannot fill it.
CACHEABLE_PARAMETERS = {"page", "voted", "sent"}


def generation() -> str:
    current = cache.get(GENERATION_KEY)
    if current is None:
        current = uuid.uuid4().hex
        # add(), not set(): two processes starting a generation at once agree on one.
        if not cache.add(GENERATION_KEY, current, timeout=None):
            current = cache.get(GENERATION_KEY) or current
    return current


def bump(**kwargs) -> None:
    """Start a new generation: every cached page is stale from now on."""
    cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)


def cache_key(request: HttpRequest) -> str | None:
    if request.method not in {"GET", "HEAD"} or not set(request.GET) <= CACHEABLE_PARAMETERS:
        return None
    raw = f"{generation()}|{request.get_host()}|{request.is_secure()}|{request.get_full_path()}"
    return "page:" + hashlib.sha256(raw.encode()).hexdigest()


def public_page(view: Callable[..., HttpResponse]):
    """Serve ``view``'s successful responses from the cache; let shared caches keep them too.

    Every reader gets the same bytes, so a CDN may keep them as well.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        key = cache_key(request)
        hit = cache.get(key) if key else None
        if hit is not None:
            content, content_type = hit
            response = HttpResponse(content, content_type=content_type)
        else:
            response = view(request, *args, **kwargs)
            if key and response.status_code == 200:
                if hasattr(response, "render"):
                    response.render()
                cache.set(
                    key,
                    (response.content, response["Content-Type"]),
                    timeout=settings.PUBLIC_CACHE_SECONDS,
                )
        if response.status_code in {200, 301}:
            patch_cache_control(response, public=True, max_age=settings.PUBLIC_CACHE_SECONDS)
        return response

    return wrapper
