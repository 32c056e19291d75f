"""Readers' pages read from the replica (DATABASE_REPLICA_URL); everything else the primary.

Which requests read the replica is decided once per request, by ``DatabaseRoutingMiddleware``
(or ``serve_reader_page()``, for the readers' pages ``ReaderFastPathMiddleware`` renders itself):
a GET or HEAD of a public page (a view wrapped in ``page_cache.public_page``: explainer
pages, home, topics, corrections, feeds, sitemaps, search) from a client without a session
cookie. Editors are logged in, so they read the primary and never see their own change
missing; votes, previews, the admin, every write and every management command use the
primary too.

The replica is used only while it is reachable and no more than REPLICA_MAX_LAG_SECONDS
behind, checked at most once a second per process (the check is one query on this process's
own connection). While it is not, readers read the primary and a warning is logged once;
when it is usable again, readers go back to it by themselves. A page whose replica query
fails part-way is rendered again from the primary, so a replica failing is never a 500.

The middleware also answers 503 with ``Retry-After`` when a database cannot be reached at
all, in place of a 500 page (``server_error`` does the same for failures outside views).
"""

import contextlib
import logging
import sys
import threading
import time
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, connections
from django.http import HttpResponse
from django.views import defaults

from newsroom.db import connection_dropped

logger = logging.getLogger(__name__)

DEFAULT = "default"
REPLICA = "replica"
CHECK_SECONDS = 1.0
RETRY_AFTER_SECONDS = 30
UNAVAILABLE = "The site's database cannot be reached just now. Please try again in a minute.\n"

# How far the replica is behind. When it has replayed all it received, it is not behind at
# all, however old its last replayed transaction (a primary with no writes sends nothing new);
# on a server that is not a replica both positions are NULL and the lag counts as 0.
LAG_SQL = """
SELECT CASE
    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
    ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)
END
"""


@dataclass
class RequestRouting:
    """How the request being served reads."""

    reader: bool = False
    used_replica: bool = False
    view: tuple = field(default=())


ROUTING: ContextVar[RequestRouting | None] = ContextVar("newsroom_routing", default=None)


class ReplicaHealth:
    """Whether this process may read the replica, as last checked."""

    def __init__(self):
        self.lock = threading.Lock()
        self.checked_at = -float("inf")  # time.monotonic()
        self.usable = False
        self.down = False  # a warning was logged and the replica has not been usable since


HEALTH = ReplicaHealth()


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def replica_lag() -> float:
    """Seconds the replica is behind the primary (one query; raises DatabaseError)."""
    replica = connections[REPLICA]
    if replica.vendor != "postgresql":
        replica.ensure_connection()
        return 0.0
    with replica.cursor() as cursor:
        cursor.execute(LAG_SQL)
        (lag,) = cursor.fetchone()
    return float(lag or 0)


def replica_problem() -> str | None:
    """Why readers may not read the replica now, or None if they may."""
    try:
        lag = replica_lag()
    except DatabaseError as exc:
        close_replica()
        return f"cannot be reached ({str(exc).strip()})"
    if lag > settings.REPLICA_MAX_LAG_SECONDS:
        return (
            f"is {lag:.1f} s behind the primary "
            f"(NEWSROOM_REPLICA_MAX_LAG_SECONDS={settings.REPLICA_MAX_LAG_SECONDS})"
        )
    return None


def record(problem: str | None) -> None:
    """Note the outcome of a check; log when the replica stops or starts being usable."""
    HEALTH.usable = problem is None
    if problem is not None and not HEALTH.down:
        HEALTH.down = True
        logger.warning("Readers are served from the primary: the read replica %s.", problem)
    elif problem is None and HEALTH.down:
        HEALTH.down = False
        logger.warning("The read replica is usable again: readers read it again.")


def replica_ready() -> bool:
    """Whether readers may read the replica; checked at most once every CHECK_SECONDS.

    A thread that finds another one checking goes by the last result rather than wait for
    a replica that may take a connect timeout to answer.
    """
    if not replica_configured():
        return False
    if time.monotonic() - HEALTH.checked_at < CHECK_SECONDS:
        return HEALTH.usable
    if not HEALTH.lock.acquire(blocking=False):
        return HEALTH.usable
    try:
        if time.monotonic() - HEALTH.checked_at >= CHECK_SECONDS:
            problem = replica_problem()
            HEALTH.checked_at = time.monotonic()
            record(problem)
    finally:
        HEALTH.lock.release()
    return HEALTH.usable


def replica_failed(exc: Exception) -> None:
    """A query on the replica failed: leave it alone until the next check is due."""
    close_replica()
    with HEALTH.lock:
        HEALTH.checked_at = time.monotonic()
        record(f"failed a query ({str(exc).strip()})")


def close_replica() -> None:
    # A connection that broke may fail to close too; it is dropped all the same.
    with contextlib.suppress(DatabaseError):
        connections[REPLICA].close()


class ReplicaRouter:
    """Reads of readers' requests go to the replica while it is usable; all else the primary."""

    def db_for_read(self, model, **hints):
        routing = ROUTING.get()
        if routing is not None and routing.reader and replica_ready():
            routing.used_replica = True
            return REPLICA
        return DEFAULT

    def db_for_write(self, model, **hints):
        # Named outright: Django would otherwise write an object back to where it was read.
        return DEFAULT

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica is a copy of the primary: the same rows

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT


def is_database_down(exc: BaseException | None) -> bool:
    return isinstance(exc, (OperationalError, InterfaceError))


def database_unavailable() -> HttpResponse:
    """503, short and plain, for a request that needed a database that cannot be reached."""
    response = HttpResponse(UNAVAILABLE, status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def server_error(request, *args, **kwargs):
    """handler500: a database that cannot be reached is a 503; anything else Django's 500."""
    if is_database_down(sys.exc_info()[1]):
        return database_unavailable()
    return defaults.server_error(request, *args, **kwargs)


class DatabaseRoutingMiddleware:
    """Decide how the request reads (module docstring); a database down is a 503, not a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = ROUTING.set(RequestRouting())
        try:
            return self.get_response(request)
        finally:
            ROUTING.reset(token)

    def process_view(self, request, view_func, view_args, view_kwargs):
        routing = ROUTING.get()
        if routing is not None:
            routing.view = (view_func, view_args, view_kwargs)
            routing.reader = (
                request.method in {"GET", "HEAD"}
                and getattr(view_func, "reader_page", False)
                and settings.SESSION_COOKIE_NAME not in request.COOKIES
            )

    def process_exception(self, request, exception):
        return answer_exception(request, exception)


def serve_reader_page(request, view_func, view_args, view_kwargs):
    """Call a reader's page view routed and guarded as the middleware above would.

    For ``page_cache.ReaderFastPathMiddleware``, which serves readers' pages (no session
    cookie) past the layers below it, this middleware among them.
    """
    token = ROUTING.set(RequestRouting(reader=True, view=(view_func, view_args, view_kwargs)))
    try:
        try:
            return rendered(view_func(request, *view_args, **view_kwargs))
        except Exception as exc:
            answer = answer_exception(request, exc)
            if answer is None:
                raise
            return answer
    finally:
        ROUTING.reset(token)


def rendered(response):
    """``response``, rendered if it is a template response, as Django's handler renders it."""
    if hasattr(response, "render") and callable(response.render):
        response = response.render()
    return response


def answer_exception(request, exception):
    """503 for a database that cannot be reached (after one retry where a read may be run
    again, see below); None for any other exception."""
    if not is_database_down(exception):
        return None
    routing = ROUTING.get()
    replica = routing is not None and routing.used_replica
    # A persistent connection the primary dropped (a restart) fails on its first use, which
    # may come long after the restart on a worker that served stored pages meanwhile: a
    # read is run again once on a new connection instead of answering 503.
    dropped = (
        routing is not None
        and bool(routing.view)
        and request.method in {"GET", "HEAD"}
        and not connection.in_atomic_block
        and connection_dropped()
    )
    if replica or dropped:
        if replica:
            replica_failed(exception)
            routing.reader = routing.used_replica = False
        else:
            connection.close()
        view_func, view_args, view_kwargs = routing.view
        try:
            return rendered(view_func(request, *view_args, **view_kwargs))
        except (OperationalError, InterfaceError) as exc:
            exception = exc
    logger.warning(
        "%s %s: a database cannot be reached: %s",
        request.method,
        request.path,
        str(exception).strip(),
    )
    return database_unavailable()
