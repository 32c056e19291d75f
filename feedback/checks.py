"""System checks for what the vote endpoint needs from its deployment."""

from django.conf import settings
from django.core import checks

from .guards import RATE_LIMIT_CACHE

PER_PROCESS_BACKENDS = {
    "newsroom.cache.LocalCache",
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


@checks.register(checks.Tags.caches)
def rate_limits_are_shared(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Production with counters in each process's memory: each worker allows the full limit.

    gunicorn's workers (and every server behind a load balancer) would each count a client
    apart, so N of them let it vote N times the limit; a restart forgets every count.
    """
    if not getattr(settings, "PRODUCTION", False):
        return []
    backend = settings.CACHES.get(RATE_LIMIT_CACHE, {}).get("BACKEND")
    if backend not in PER_PROCESS_BACKENDS:
        return []
    return [
        checks.Warning(
            "Vote rate limits are counted in each worker process's memory, so every worker "
            "allows a client the whole FEEDBACK_RATE_LIMIT.",
            hint="Share them in Redis: NEWSROOM_CACHE_URL=redis://127.0.0.1:6379/0 "
            "(docs/operations.md, 'Production'). Silence feedback.W001 only for a single worker.",
            id="feedback.W001",
        )
    ]
