"""Real services some tests need (Redis, LibreOffice…), found or skipped with directions.

``make test`` skips a test whose service is absent, saying how to get it; under
``NEWSROOM_REQUIRE_SERVICES=1`` (set by ``.ci/run``) that skip is a failure.
"""

import os

import pytest

REDIS_URL = os.environ.get("NEWSROOM_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def missing(message: str):
    """Skip (or, under NEWSROOM_REQUIRE_SERVICES=1, fail) because a service is absent."""
    if os.environ.get("NEWSROOM_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


def redis_url() -> str:
    """The URL of a reachable Redis database kept for tests (database 15, emptied first)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.flushdb()
    except redis.exceptions.ConnectionError:
        missing(
            f"Redis is not reachable at {REDIS_URL}; start it with 'redis-server --daemonize yes "
            '--bind 127.0.0.1 --port 6379 --save "" --appendonly no\' (Debian package '
            "redis-server), or point NEWSROOM_TEST_REDIS_URL at one."
        )
    finally:
        client.close()
    return REDIS_URL
