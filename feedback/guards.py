"""Checks a vote passes before it touches the database: same origin, and a rate limit.

The explainer page is cached and identical for every reader, so it cannot carry a CSRF
token; the browser's own ``Sec-Fetch-Site`` and ``Origin`` headers say where a post came from.
"""

import logging
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

from newsroom.cache import ResilientRedisCache, redis_error
from newsroom.client_ip import client

logger = logging.getLogger(__name__)

WINDOWS = {"s": 1, "m": 60, "h": 3600}
# The cache alias that holds the counters and nothing else, so no other request can evict them.
RATE_LIMIT_CACHE = "ratelimit"


class CountersUnavailable(Exception):
    """The shared counters cannot be reached (Redis down): no vote can be counted just now."""


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
    # "null" (a sandboxed frame, a data: page) is neither the site's own origin nor a trusted
    # one (those are URLs), so it is refused below.
    own = f"{request.scheme}://{request.get_host()}"
    return origin != own and origin not in settings.CSRF_TRUSTED_ORIGINS


def client_key(request: HttpRequest) -> str:
    """A keyed hash of the client's network: enough to count its posts, useless to anyone else.

    The client is the login lockout's too (``newsroom.client_ip.client``).
    """
    network = client(request)
    return salted_hmac(
        "feedback.client", str(network) if network is not None else "unknown", algorithm="sha256"
    ).hexdigest()[:32]


def parse_rate(rate: str) -> tuple[int, int]:
    """ "30/m" -> (30, 60): how many posts in how many seconds."""
    count, _, unit = rate.partition("/")
    return int(count), WINDOWS[unit]


def count_post(key: str, window: int) -> int:
    """Add one to the counter ``key``, kept ``window`` seconds; the count so far.

    The key names its window (``over_rate_limit``), so it is read only until that window
    ends, at most ``window`` seconds after any count in it: keeping it longer changes nothing.
    """
    counters = caches[RATE_LIMIT_CACHE]
    if isinstance(counters, ResilientRedisCache) and counters.is_down():
        raise CountersUnavailable  # failed a moment ago: do not wait on it again
    if isinstance(counters, RedisCache):
        # One round trip: INCR starts a missing counter at 1, where Django's add() then incr()
        # would take three (SET NX, EXISTS, INCR). Django's own client (private, but Django is
        # pinned and the Redis tests cover it) and key, so cache.get() reads the same integer.
        redis_key = counters.make_and_validate_key(key)
        pipeline = counters._cache.get_client(redis_key, write=True).pipeline(transaction=False)
        pipeline.incr(redis_key)
        pipeline.expire(redis_key, window)
        try:
            count, _ = pipeline.execute()
        except redis_error() as exc:
            if isinstance(counters, ResilientRedisCache):
                counters.failed(exc)
            raise CountersUnavailable from exc
        if isinstance(counters, ResilientRedisCache):
            counters.succeeded()
        return count
    try:
        return counters.incr(key)
    except ValueError:  # the first post of its window
        if counters.add(key, 1, timeout=window):
            return 1
        return counters.incr(key)  # another thread started it first


def over_rate_limit(request: HttpRequest) -> bool:
    """Count this post against its client's fixed window; True once the limit is passed.

    Every post counts, with or without a reader cookie and whatever it holds: a reader the
    site has not seen yet is no fresh allowance.

    While the counters cannot be reached the limit fails open (the vote is let through, and a
    warning logged once per outage): readers keep voting through a Redis outage, and each vote
    still needs its own reader cookie to count more than once. RATELIMIT_FAIL_CLOSED=True
    raises CountersUnavailable instead, for the caller to refuse the vote.
    """
    global FAILING_OPEN
    limit, window = parse_rate(settings.FEEDBACK_RATE_LIMIT)
    key = f"vote:{client_key(request)}:{int(time.time() // window)}"
    try:
        count = count_post(key, window)
    except CountersUnavailable:
        if settings.RATELIMIT_FAIL_CLOSED:
            raise
        if not FAILING_OPEN:
            FAILING_OPEN = True
            logger.warning(
                "Vote rate-limit counters cannot be reached: votes are let through unlimited "
                "until they can (NEWSROOM_RATELIMIT_FAIL_CLOSED=true refuses them instead)."
            )
        return False
    if FAILING_OPEN:
        FAILING_OPEN = False
        logger.warning("Vote rate-limit counters reachable again: votes are limited again.")
    return count > limit


# Whether this process is letting votes through uncounted, so that it says so once an outage.
FAILING_OPEN = False
