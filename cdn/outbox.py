"""The purge outbox: committed changes queue their keys; ``run_purger`` purges them in batches.

A row per change, written after the change has committed, so an editor's save never waits for
(or fails with) the CDN, and the queue survives a restart of the worker. The worker takes the
due rows, purges the union of their keys in as few calls as the backend allows, and deletes
them; on failure it tries again later, waiting twice as long each time up to a limit.
"""

import logging
import random
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from .backends import PurgeBackend, PurgeError
from .models import PurgeRequest

logger = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 1
LAST_RETRY_SECONDS = 300


def enqueue(sender=None, *, keys: list[str], **kwargs) -> None:
    """Queue ``keys`` for purging when a backend is configured; never raise to the caller."""
    if not settings.PURGE_BACKEND or not keys:
        return
    try:
        PurgeRequest.objects.create(keys=sorted(set(keys)))
    except DatabaseError:
        # The change is committed already; pages still expire after NEWSROOM_CDN_CACHE_SECONDS.
        logger.exception("Could not queue a CDN purge of %s", " ".join(keys))


def retry_delay(attempts: int) -> timedelta:
    """1 s, 2 s, 4 s… up to 5 minutes, with jitter so a CDN outage does not end in a stampede."""
    seconds = min(FIRST_RETRY_SECONDS * 2 ** (attempts - 1), LAST_RETRY_SECONDS)
    return timedelta(seconds=seconds * random.uniform(0.5, 1.0))


def purge_due(backend: PurgeBackend, *, batch: int = 500) -> tuple[int, int]:
    """Purge the keys of up to ``batch`` due requests; return (purged, failed) request counts.

    Rows are locked while purging (skipping rows another worker holds, on PostgreSQL), so two
    workers never purge the same request.
    """
    with transaction.atomic():
        due = list(
            PurgeRequest.objects.select_for_update(skip_locked=True)
            .filter(next_attempt_at__lte=timezone.now())
            .order_by("id")[:batch]
        )
        if not due:
            return 0, 0
        keys = sorted({key for request in due for key in request.keys})
        try:
            backend.purge(keys)
        except PurgeError as exc:
            now = timezone.now()
            for request in due:
                request.attempts += 1
                request.next_attempt_at = now + retry_delay(request.attempts)
                request.last_error = str(exc)[:2000]
            PurgeRequest.objects.bulk_update(due, ["attempts", "next_attempt_at", "last_error"])
            logger.warning("CDN purge of %d keys failed, will retry: %s", len(keys), exc)
            return 0, len(due)
        PurgeRequest.objects.filter(pk__in=[request.pk for request in due]).delete()
        return len(due), 0
