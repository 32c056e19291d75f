"""``/healthz`` and ``/readyz``, for load balancers and orchestrators.

``/healthz`` says the process is up and answering (no database, no Redis): restart it if not.
``/readyz`` says whether it can serve: the default database answers, Redis answers when the
cache is Redis, and no migration is left to apply; if not, a 503 whose JSON body names what
failed, so a load balancer sends readers elsewhere. With a read replica configured, the body
also says whether readers read it ("replica": "ok") or why not ("behind", "unreachable", "not
a replica"; newsroom/db_router.py): the server stays ready, since readers read the primary.
Both are answered before any other middleware: no host check, HTTPS redirect, session, cookie
or rate limit, and never cached.

Anyone can reach them through the edge, so the body names only what failed; the error itself
(server addresses, ports, user names) goes to the log.
"""

import json
import logging

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpResponse
from redis.exceptions import RedisError

from newsroom import db_router
from newsroom.cache import ResilientRedisCache

logger = logging.getLogger(__name__)

# Migrations, once all applied, stay applied while this code runs: checked until they are.
MIGRATIONS_APPLIED = False


def database_problem() -> str | None:
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        connection.close()
        logger.warning("Not ready: the database cannot be reached: %s", str(exc).strip())
        return "unreachable"
    return None


def migrations_problem() -> str | None:
    global MIGRATIONS_APPLIED
    if MIGRATIONS_APPLIED:
        return None
    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        logger.warning("Not ready: migrations cannot be checked: %s", str(exc).strip())
        return "cannot be checked"
    if plan:
        return f"{len(plan)} not applied"
    MIGRATIONS_APPLIED = True
    return None


def redis_problem() -> str | None:
    for alias in ("default", "ratelimit"):
        cache = caches[alias]
        if not isinstance(cache, RedisCache):
            continue
        try:
            cache._cache.get_client(write=True).ping()
        except RedisError as exc:
            if isinstance(cache, ResilientRedisCache):
                cache.failed(exc)
            logger.warning("Not ready: Redis (cache %r) cannot be reached: %s", alias, exc)
            return "unreachable"
    return None


def plain(status: int, body: str, content_type: str = "text/plain; charset=utf-8"):
    response = HttpResponse(body, status=status, content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response


def readiness() -> HttpResponse:
    checks = {"database": database_problem()}
    if checks["database"] is None:
        checks["migrations"] = migrations_problem()
    checks["redis"] = redis_problem()
    ready = all(problem is None for problem in checks.values())
    body = {"ready": ready, **{name: problem or "ok" for name, problem in checks.items()}}
    replica = db_router.replica_status()
    if replica is not None:
        body["replica"] = replica
    return plain(200 if ready else 503, json.dumps(body) + "\n", "application/json")


class HealthCheckMiddleware:
    """Answer ``/healthz`` and ``/readyz`` (module docstring); pass everything else on."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info not in {"/healthz", "/readyz"}:
            return self.get_response(request)
        if request.method not in {"GET", "HEAD"}:
            response = plain(405, "GET or HEAD only.\n")
            response["Allow"] = "GET, HEAD"
            return response
        if request.path_info == "/healthz":
            return plain(200, "ok\n")
        return readiness()
