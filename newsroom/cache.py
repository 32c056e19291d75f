"""Django's Redis cache, made to survive Redis going away.

Django's ``RedisCache`` raises on every call while Redis cannot be reached, which turns each
page (they all read the page cache) into a 500. ``ResilientRedisCache`` answers as an empty
cache that keeps nothing instead: a read is a miss, a write is dropped, ``add()`` adds nothing,
``incr()`` finds no counter. Pages are then rendered on every request, which the database can
take for the length of an outage.

A failed call opens a short pause (``PAUSE_SECONDS``) during which calls do not try Redis at
all, so a Redis that times out rather than refuses costs a request one timeout, not one per
cache call. The first call after the pause tries again, so caching resumes by itself when
Redis returns. The outage is logged once when it starts and once when it ends.

Writes lost in an outage can leave entries that Redis kept (a blip, a failover) stale once it
returns; a failed ``set_many()`` names the keys it did not store, so that whoever owns such
entries can make them good later (explainers/page_cache.py).
"""

import logging
import pickle
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.dispatch import Signal

logger = logging.getLogger(__name__)


def redis_error() -> type[Exception]:
    """redis-py's base exception, for ``except redis_error() as exc:``.

    Importing redis takes a tenth of a second (its package imports every client), which a
    short command run from cron (an export) would pay for nothing at start-up. An except
    clause's expression is evaluated only when something was raised, by which time the
    client, and so redis, has been imported.
    """
    from redis.exceptions import RedisError

    return RedisError


PAUSE_SECONDS = 1.0

# Sent by the cache whose call found Redis answering again after an outage this process saw
# (``location``: the Redis address). Writes other processes made during it may be lost.
resumed = Signal()


class Outage:
    """One Redis address's state in this process, shared by its cache aliases and threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.since: float | None = None  # time.time() the outage began; None while up
        self.retry_at = 0.0  # time.monotonic() before which Redis is not tried


OUTAGES: dict[str, Outage] = {}
OUTAGES_LOCK = threading.Lock()


def outage_for(location: str) -> Outage:
    with OUTAGES_LOCK:
        return OUTAGES.setdefault(location, Outage())


class UncheckedKeys:
    """No check of each key against memcached's limits (length, control characters).

    Django warns about keys memcached would refuse; Redis and process memory take any key, and
    the check was a tenth of a page read from the cache (a dozen keys a page).
    """

    def validate_key(self, key):
        return None


class LocalCache(UncheckedKeys, LocMemCache):
    """Django's per-process cache, whose ``get_many`` takes the lock once, not once a key."""

    def get_many(self, keys, version=None):
        found = {}
        with self._lock:
            for key in keys:
                internal = self.make_key(key, version=version)
                if self._has_expired(internal):
                    self._delete(internal)
                    continue
                found[key] = self._cache[internal]
                self._cache.move_to_end(internal, last=False)
        return {key: pickle.loads(pickled) for key, pickled in found.items()}


class ResilientRedisCache(UncheckedKeys, RedisCache):
    """A ``RedisCache`` that never raises because Redis is down; see the module docstring."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self.location = server if isinstance(server, str) else ",".join(server)

    @property
    def outage(self) -> Outage:
        return OUTAGES.get(self.location) or outage_for(self.location)

    def is_down(self) -> bool:
        """True during the pause after a failure: callers may skip Redis without trying."""
        return time.monotonic() < self.outage.retry_at

    def failed(self, exc: Exception) -> None:
        outage = self.outage
        with outage.lock:
            outage.retry_at = time.monotonic() + PAUSE_SECONDS
            if outage.since is None:
                outage.since = time.time()
                logger.warning(
                    "Redis at %s cannot be reached (%s): serving without the cache until it "
                    "returns.",
                    self.location,
                    exc,
                )

    def succeeded(self) -> None:
        outage = self.outage
        if outage.since is None:  # the usual case, read without the lock
            return
        with outage.lock:
            if outage.since is None:
                return
            logger.warning(
                "Redis at %s is back after %.1f s: caching again.",
                self.location,
                time.time() - outage.since,
            )
            outage.since = None
        resumed.send(sender=type(self), cache=self, location=self.location)

    def outage_started(self) -> float | None:
        """When the current outage began (time.time()), or None while Redis answers."""
        return self.outage.since

    def call(self, name: str, fallback, *args, **kwargs):
        if self.is_down():
            return fallback
        try:
            result = getattr(super(), name)(*args, **kwargs)
        except redis_error() as exc:
            self.failed(exc)
            return fallback
        self.succeeded()
        return result

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self.call("add", False, key, value, timeout, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        self.call("set", None, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self.call("touch", False, key, timeout, version)

    def delete(self, key, version=None):
        return self.call("delete", False, key, version)

    def get_many(self, keys, version=None):
        return self.call("get_many", {}, keys, version)

    def has_key(self, key, version=None):
        return self.call("has_key", False, key, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        # Django's contract: the keys that were not stored.
        return self.call("set_many", list(data), data, timeout, version)

    def delete_many(self, keys, version=None):
        self.call("delete_many", None, keys, version)

    def clear(self):
        return self.call("clear", False)

    def get(self, key, default=None, version=None):
        # Django's get() returns None for a miss; the caller's default comes from here.
        found = self.call("get", MISSING, key, MISSING, version)
        return default if found is MISSING else found

    def incr(self, key, delta=1, version=None):
        # A counter that cannot be read does not exist, as far as the caller can tell.
        found = self.call("incr", MISSING, key, delta, version)
        if found is MISSING:
            raise ValueError(f"Key '{key}' not found (the cache cannot be reached).")
        return found


MISSING = object()
