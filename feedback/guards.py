"""Checks a vote passes before it touches the database: same origin, and a rate limit.

The explainer page is cached and identical for every reader, so it cannot carry a CSRF
token; the browser's own ``Sec-Fetch-Site`` and ``Origin`` headers say where a post came from.
"""

import hashlib
import hmac
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

WINDOWS = {"s": 1, "m": 60, "h": 3600}


def is_cross_site(request: HttpRequest) -> bool:
    """True when the browser says the post came from another site."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site not in {"same-origin", "none"}
    origin = request.headers.get("Origin")
    if origin is None:
        referer = request.headers.get("Referer")
        if not referer:
            # No browser sends a cross-site form post without either header.
            return False
        parts = urlsplit(referer)
        origin = f"{parts.scheme}://{parts.netloc}"
    if origin == "null":
        return True
    own = f"{request.scheme}://{request.get_host()}"
    return origin != own and origin not in settings.CSRF_TRUSTED_ORIGINS


def client_key(request: HttpRequest) -> str:
    """A keyed hash of the client's address: enough to count its posts, useless to anyone else."""
    address = request.META.get("REMOTE_ADDR", "")
    header = settings.FEEDBACK_CLIENT_IP_HEADER
    if header:
        forwarded = request.META.get("HTTP_" + header.upper().replace("-", "_"), "")
        address = forwarded.split(",")[0].strip() or address
    return hmac.new(
        settings.SECRET_KEY.encode(), f"client:{address}".encode(), hashlib.sha256
    ).hexdigest()[:32]


def parse_rate(rate: str) -> tuple[int, int]:
    """ "30/m" -> (30, 60): how many posts in how many seconds."""
    count, _, unit = rate.partition("/")
    return int(count), WINDOWS[unit]


def over_rate_limit(request: HttpRequest) -> bool:
    """Count this post against its client's fixed window; True once the limit is passed."""
    limit, window = parse_rate(settings.FEEDBACK_RATE_LIMIT)
    key = f"feedback-rate:{client_key(request)}:{int(time.time() // window)}"
    if cache.add(key, 1, timeout=window + 1):
        return False  # the first post of a window; limits are at least 1
    try:
        return cache.incr(key) > limit
    except ValueError:  # the window expired between add() and incr()
        cache.add(key, 1, timeout=window + 1)
        return False
