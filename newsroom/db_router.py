"""Readers' pages read from the replica (DATABASE_REPLICA_URL); everything else the primary.

Which requests read the replica is decided once per request, by ``DatabaseRoutingMiddleware``
(or ``serve_reader_page()``, for the readers' pages ``ReaderFastPathMiddleware`` renders itself):
a GET or HEAD of a public page (a view wrapped in ``page_cache.public_page``: explainer
pages, home, topics, corrections, feeds, sitemaps, search) from a client without a session
cookie. Editors are logged in, so they read the primary and never see their own change
missing; votes, previews, the admin, every write and every management command use the
primary too.

The replica is used only while this process can prove it fresh: holding everything the
primary had committed no more than REPLICA_MAX_LAG_SECONDS ago. A replica that cannot be
proven fresh (unreachable, cut off from the primary, behind, promoted) is not used: readers
read the primary, one warning is logged per outage, and ``/readyz`` says so (its "replica"
entry; the server stays ready, since the primary can serve). When it is proven fresh again,
readers go back to it by themselves. A page whose replica query fails part-way is rendered
again from the primary, so a replica failing is never a 500.

How freshness is proven. Checked at most once every CHECK_SECONDS per process, with one query
on the primary (``pg_current_wal_lsn()``: how far its WAL is written) and then one on the
replica (``pg_last_wal_replay_lsn()``, ``pg_last_xact_replay_timestamp()``), both on this
thread's own connections. The replica holds everything the primary had committed before a
time T when either

- it has replayed up to the primary's position read at T (T: just before that read). A
  commit is written before it is acknowledged, so its WAL lies before that position. This
  proves an idle primary's replica fresh however long ago its last transaction was. (Votes
  commit without waiting for the disk and are written a moment later; no reader's page shows
  them.) Or
- T is the commit time of the last transaction it replayed: a transaction acknowledged before
  then wrote its commit before that one did, and WAL is replayed in order. This proves a
  replica of a busy primary fresh to within its replay delay. The time is the primary's
  clock, so it is moved onto the app's by the two clocks' difference as the check read them
  (never later than it was): a primary's clock running ahead proves nothing more.

Positions compare only within one history: the replica must be of the primary's cluster (the
same system identifier, or it is "not a replica" however far it has replayed), and the first
proof holds only on the primary's timeline (a server left on the one before a failover may
have replayed past the new primary's position on a history the new primary never had).

A proof stays true as the replica replays on (its position only moves forward; one that moves
back is another server, and earlier proofs are dropped), so a primary that does not answer a
check (a restart) leaves the last proof standing: readers keep reading the replica until it
is REPLICA_MAX_LAG_SECONDS old. Nothing else counts: a WAL receiver that is up says nothing
about what it has received (a cut network looks streaming for a minute), and replayed equal
to received, which the lag used to be read from, is just as true of a replica receiving
nothing. A heartbeat row written by the app every second would prove the same at the cost of
a write a second, a writer to keep alive, and WAL for every replica to ship; the primary's own
WAL position is already that heartbeat. A server that is not in recovery is used only when it
is the primary itself (the same postmaster: tests' mirror); a promoted replica never is.

While a replica is used, what it holds may still be up to REPLICA_MAX_LAG_SECONDS (plus a
check's interval) older than the primary. ``explainers/page_cache.py`` renders a page again
from the primary when one of the keys it shows changed within that time (or the cache cannot
say when they changed: Redis down, or just started empty), so a change (an
unpublish above all) is never undone for readers by a replica, and no cache keeps such a page.

The middleware also answers 503 with ``Retry-After`` when a database cannot be reached at
all, in place of a 500 page (``server_error`` does the same for failures outside views).
"""

import contextlib
import logging
import math
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

# How far the primary has written its WAL, which server (postmaster) it is, of which cluster
# (system identifier), on which timeline (the first 8 hex digits of a WAL file's name), and
# its clock.
PRIMARY_SQL = """
SELECT pg_current_wal_lsn() - '0/0'::pg_lsn,
    pg_postmaster_start_time(),
    (SELECT system_identifier FROM pg_control_system()),
    left(pg_walfile_name(pg_current_wal_lsn()), 8),
    clock_timestamp()
"""
# What the replica has replayed (module docstring); positions as byte counts. A server that
# is not in recovery has no replay position (NULL). Its timeline is that of its last
# restartpoint: after a failover it catches up with the primary's at the next one.
REPLICA_SQL = """
SELECT pg_is_in_recovery(),
    pg_last_wal_replay_lsn() - '0/0'::pg_lsn,
    pg_last_xact_replay_timestamp(),
    pg_postmaster_start_time(),
    EXISTS (SELECT FROM pg_stat_wal_receiver),
    (SELECT system_identifier FROM pg_control_system()),
    (SELECT timeline_id FROM pg_control_checkpoint())
"""
# A replica that has not yet replayed the primary's position just read gets this long to
# replay it before it counts as behind (not again while it is counted so): replay trails every
# commit a little, and a warning is not worth a moment's delay.
SETTLE_SECONDS = 0.05


@dataclass
class RequestRouting:
    """How the request being served reads."""

    reader: bool = False
    used_replica: bool = False
    view: tuple = field(default=())


ROUTING: ContextVar[RequestRouting | None] = ContextVar("newsroom_routing", default=None)


class ReplicaHealth:
    """Whether this process may read the replica, as last checked, and what proves it."""

    def __init__(self):
        self.lock = threading.Lock()
        self.checked_at = -float("inf")  # time.monotonic()
        self.usable = False
        self.usable_until = -float("inf")  # time.monotonic()
        self.down = False  # a warning was logged and the replica has not been usable since
        self.status = "not checked"  # for /readyz: "ok", or a word for what is wrong
        # The replica held everything the primary had committed before this (time.time()),
        # as of replay position ``replayed`` (bytes of WAL).
        self.fresh_as_of = -float("inf")
        self.replayed = -1
        self.receiving = True  # a WAL receiver ran on it when last looked at
        self.system = None  # the primary's system identifier, as last read
        self.clock_offset = 0.0  # the app's clock minus the primary's, at most, as last read


HEALTH = ReplicaHealth()


@dataclass
class PrimaryPosition:
    """What one look at the primary found."""

    written: int  # bytes of WAL
    server_started: object  # which postmaster answered
    system: int  # which cluster: a replica made from it has the same system identifier
    timeline: int
    clock: float  # its time.time() as it answered


@dataclass
class ReplicaPosition:
    """What one look at the replica found."""

    in_recovery: bool
    replayed: int | None  # bytes of WAL; None if it replays nothing
    last_commit: float | None  # the primary's time.time() of the last transaction it replayed
    server_started: object  # which postmaster answered
    receiving: bool  # a WAL receiver runs on it
    system: int
    timeline: int


class Problem(Exception):
    """Why readers may not read the replica: ``status`` for /readyz, the message for the log."""

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status = status


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def primary_position() -> PrimaryPosition | None:
    """Where the primary is, or None if it does not say."""
    primary = connections[DEFAULT]
    if primary.vendor != "postgresql" or primary.in_atomic_block:
        # Inside a transaction a failed query would spoil it: the last proof stands instead.
        return None
    try:
        with primary.cursor() as cursor:
            cursor.execute(PRIMARY_SQL)
            written, started, system, timeline, clock = cursor.fetchone()
    except DatabaseError:
        # The primary down is the 503's and /readyz's to report; a broken connection is
        # opened again by its next use.
        with contextlib.suppress(DatabaseError):
            primary.close()
        return None
    return PrimaryPosition(
        written=int(written),
        server_started=started,
        system=int(system),
        timeline=int(timeline, 16),
        clock=clock.timestamp(),
    )


def replica_position() -> ReplicaPosition:
    """Where the replica is (one query; raises DatabaseError)."""
    with connections[REPLICA].cursor() as cursor:
        cursor.execute(REPLICA_SQL)
        in_recovery, replayed, last_commit, started, receiving, system, timeline = cursor.fetchone()
    return ReplicaPosition(
        in_recovery=in_recovery,
        replayed=None if replayed is None else int(replayed),
        last_commit=None if last_commit is None else last_commit.timestamp(),
        server_started=started,
        receiving=receiving,
        system=int(system),
        timeline=int(timeline),
    )


def replica_lag() -> float:
    """Seconds the replica is proven to be behind the primary at most (inf: not proven).

    Raises DatabaseError if the replica cannot be reached, Problem if it is no replica of it.
    """
    replica = connections[REPLICA]
    if replica.vendor != "postgresql":
        replica.ensure_connection()  # tests' mirror of the primary: the same database
        return 0.0
    asked = time.time()
    primary = primary_position()
    position = replica_position()
    if not position.in_recovery:
        if primary is not None and primary.server_started == position.server_started:
            return 0.0  # the primary itself
        raise Problem(
            "not a replica",
            "is not in recovery: promoted, or not a replica (and not the primary itself)",
        )
    if primary is not None:
        HEALTH.system = primary.system
        # The primary's clock was read after ``asked``: commit times (its clock) moved by this
        # are never later on the app's clock than they were, whatever the clocks' skew.
        HEALTH.clock_offset = asked - primary.clock
    if position.system != HEALTH.system:
        HEALTH.fresh_as_of = -float("inf")
        if HEALTH.system is None:
            return math.inf  # the primary has not said which cluster it is yet
        raise Problem(
            "not a replica",
            "is a server of another database cluster (its system identifier is not the "
            "primary's), however far it has replayed",
        )
    if position.replayed is None or position.replayed < HEALTH.replayed:
        HEALTH.fresh_as_of = -float("inf")  # another server: what proved the last one fresh
    HEALTH.replayed = position.replayed if position.replayed is not None else -1
    if (
        primary is not None
        and position.replayed is not None
        and position.replayed < primary.written
        and not HEALTH.down
    ):
        time.sleep(SETTLE_SECONDS)
        position = replica_position()
    proofs = [HEALTH.fresh_as_of]
    if position.last_commit is not None:
        proofs.append(position.last_commit + HEALTH.clock_offset)
    if (
        primary is not None
        and position.timeline == primary.timeline
        and position.replayed is not None
        and position.replayed >= primary.written
    ):
        # On another timeline (left behind by a failover) a position may lie past the
        # primary's on a history the primary never had.
        proofs.append(asked)
    HEALTH.fresh_as_of = max(proofs)
    HEALTH.receiving = position.receiving
    return max(0.0, time.time() - HEALTH.fresh_as_of)


def replica_problem() -> Problem | None:
    """Why readers may not read the replica now, or None if they may."""
    try:
        lag = replica_lag()
    except Problem as problem:
        return problem
    except DatabaseError as exc:
        close_replica()
        return Problem("unreachable", f"cannot be reached ({str(exc).strip()})")
    limit = settings.REPLICA_MAX_LAG_SECONDS
    if lag <= limit:
        # What the page cache allows for (``page_cache.replica_margin_ns``): this proof covers
        # reads until then, however long the next check takes.
        HEALTH.usable_until = time.monotonic() + limit + CHECK_SECONDS - lag
        return None
    if math.isinf(lag):
        shown = "nothing shows that it holds what the primary has committed"
    else:
        shown = f"it was last shown to hold what the primary had committed {lag:.1f} s ago"
    if not HEALTH.receiving:
        shown += "; no WAL receiver runs on it (replication stopped?)"
    return Problem(
        "behind",
        f"cannot be shown to be within {limit} s of the primary "
        f"(NEWSROOM_REPLICA_MAX_LAG_SECONDS): {shown}",
    )


def record(problem: Problem | None) -> None:
    """Note the outcome of a check; log when the replica stops or starts being usable."""
    HEALTH.usable = problem is None
    HEALTH.status = "ok" if problem is None else problem.status
    if problem is not None and not HEALTH.down:
        HEALTH.down = True
        logger.warning("Readers are served from the primary: the read replica %s.", problem)
    elif problem is None and HEALTH.down:
        HEALTH.down = False
        logger.warning("The read replica is usable again: readers read it again.")


def replica_ready() -> bool:
    """Whether readers may read the replica; checked at most once every CHECK_SECONDS.

    A thread that finds another one checking goes by the last result rather than wait for
    a database that may take a connect timeout to answer, but only while that result's proof
    covers it.
    """
    if not replica_configured():
        return False
    if time.monotonic() - HEALTH.checked_at < CHECK_SECONDS:
        return HEALTH.usable
    if not HEALTH.lock.acquire(blocking=False):
        return HEALTH.usable and time.monotonic() < HEALTH.usable_until
    try:
        if time.monotonic() - HEALTH.checked_at >= CHECK_SECONDS:
            problem = replica_problem()
            HEALTH.checked_at = time.monotonic()
            record(problem)
    finally:
        HEALTH.lock.release()
    return HEALTH.usable


def replica_status() -> str | None:
    """For /readyz: "ok" while readers read the replica, else what is wrong; None if none."""
    if not replica_configured():
        return None
    replica_ready()
    return HEALTH.status


def replica_failed(exc: Exception) -> None:
    """A query on the replica failed: leave it alone until the next check is due."""
    close_replica()
    with HEALTH.lock:
        HEALTH.checked_at = time.monotonic()
        record(Problem("unreachable", f"failed a query ({str(exc).strip()})"))


def read_primary() -> None:
    """The rest of this request reads the primary, even if it is a reader's."""
    routing = ROUTING.get()
    if routing is not None:
        routing.reader = routing.used_replica = False


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
            read_primary()
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
