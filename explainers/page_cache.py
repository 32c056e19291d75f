"""A server-side cache of rendered reader pages, invalidated by what each page shows.

Reader pages are the same for everyone, so each is rendered once and then served from
Django's cache without touching the database. Each page names what it shows in surrogate keys
(``tag()``: ``explainer-<pk>``, ``topic-<pk>``, one key per kind of list), and each key has a
*version* in the cache. A stored page remembers the versions of its keys; a change readers
could see gives new versions to exactly the keys it affects (``invalidate()``, called by
explainers/signals.py), so only the pages showing what changed are rendered again. A hit reads
the page and its keys' versions (two cache reads) and no database row.

Time changes pages too (a scheduled publication coming due, an expiry, scheduled changes),
with no write to announce it. So a page is kept, on the server and by browsers and CDNs
(``Cache-Control``, ``Surrogate-Control``, ``CDN-Cache-Control``), no later than the next such
time that could change it: the view may say when (``fresh_until()``), otherwise one query on
a miss finds the next such time among all explainers (``next_change()``). A stored page knows
its deadline and is not served past it, whatever the cache's own expiry does.

Only real pages are stored, so no one can fill the cache by varying a request: the key is
the path and the *canonical* values of the page's query parameters, never the Host header
(pages link to NEWSROOM_SITE_URL instead). A known parameter written any other way
(``?page=02``, ``?page=1``, ``?voted=x1``) is answered with a 301 to its canonical address
or a 404, and so is a request with a parameter the page does not know (``?utm_source=x``):
rendered, it would be a new object in every CDN for each value anyone makes up. Public pages
answer GET and HEAD only; any other method is a 405 before the view runs.

The versions live in the cache, so every process sees a change at once only when the cache
is shared (NEWSROOM_CACHE_URL=redis://…); with the per-process default, other worker
processes catch up within PUBLIC_CACHE_SECONDS. A version the cache lost counts as changed.

While Redis cannot be reached, new versions cannot be written either; but Redis may come back
with what it held (a blip, a failover), pages included, and those pages would look current. So
every stored page also carries the version of one key every page has (``ALL``), and a process
whose invalidation was not written keeps the keys it owes (``OWED``) and writes them, with a
new version of ``ALL``, as soon as Redis answers again (``repay()``): every page stored before
is then stale. The owing process may end first, taking what it owed with it, so every process
that saw the outage writes a new version of ``ALL`` when Redis answers again too
(``owe_everything``): kept related lists, which live longer than pages, are then redone.
"""

import hashlib
import logging
import math
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.handlers.exception import response_for_exception
from django.db.models import Subquery
from django.dispatch import Signal
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponsePermanentRedirect,
    QueryDict,
)
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.encoding import escape_uri_path
from django.utils.http import urlencode

from newsroom import db_router
from newsroom.cache import resumed
from newsroom.prepared import PLACEHOLDER_TIME, PreparedQuery

logger = logging.getLogger(__name__)

VERSION_PREFIX = "surrogate-version:"
# More pages than any list will have; a longer number is no page, and int() never sees it.
PAGE_NUMBER = re.compile(r"0*([1-9][0-9]{0,8})")


@dataclass(frozen=True)
class Query:
    """The query parameters a page knows, and how to write their values canonically.

    ``canonical`` takes the request's query and returns the canonical value of each known
    parameter that should be in the address, or raises Http404 when a value names nothing.
    """

    names: tuple[str, ...]
    canonical: Callable[[QueryDict], dict[str, str]]
    # Known parameters whose values anyone may choose (search words): a page given one is
    # rendered and never stored here; the view keeps its own bounded cache if it wants one.
    unstored: tuple[str, ...] = ()


def page_number(query: QueryDict) -> dict[str, str]:
    """``page``: a whole number from 2, without leading zeros; page 1 is the address without it.

    Whether the page exists is the paginator's to say (404 past the last page). Django reads
    the last of repeated values, and an empty one as page 1, so the canonical address does.
    """
    value = query.getlist("page", [""])[-1]
    if value == "":
        return {}
    match = PAGE_NUMBER.fullmatch(value)
    if match is None:
        raise Http404("A page number is a whole number from 1, such as ?page=2.")
    return {} if match[1] == "1" else {"page": match[1]}


def vote_outcome(query: QueryDict) -> dict[str, str]:
    """``voted=yes|no``, then ``sent=1``: the thanks a reader sees after voting without script.

    Any other value says nothing the page shows, so the canonical address drops it.
    """
    voted = query.getlist("voted", [""])[-1]
    if voted not in {"yes", "no"}:
        return {}
    if query.getlist("sent", [""])[-1] == "1":
        return {"voted": voted, "sent": "1"}
    return {"voted": voted}


def sitemap_page_number(query: QueryDict) -> dict[str, str]:
    """``p``: the page of a sitemap, written as ``page`` is (django.contrib.sitemaps's name)."""
    value = query.getlist("p", [""])[-1]
    if value == "":
        return {}
    match = PAGE_NUMBER.fullmatch(value)
    if match is None:
        raise Http404("A sitemap page is a whole number from 1, such as ?p=2.")
    return {} if match[1] == "1" else {"p": match[1]}


def search_terms(query: QueryDict) -> dict[str, str]:
    """``q``, the words searched for, then ``page`` as for any list; without words, neither.

    The words are kept as written (the search form says what is wrong with them); a search
    box sent empty is the search page itself, whatever page it names.
    """
    words = query.getlist("q", [""])[-1]
    if not words.strip():
        return {}
    return {"q": words, **page_number(query)}


PAGED = Query(names=("page",), canonical=page_number)
SEARCH = Query(names=("q", "page"), canonical=search_terms, unstored=("q",))
SITEMAP_PAGED = Query(names=("p",), canonical=sitemap_page_number)
VOTE_OUTCOME = Query(names=("voted", "sent"), canonical=vote_outcome)
NO_QUERY = Query(names=(), canonical=lambda query: {})


# Sent after a change has committed, with the surrogate keys it affects: a CDN purger listens.
keys_changed = Signal()
# Sent when invalidations lost while the cache could not be written have been written at last:
# caches of their own (search's) start again too.
cache_repaid = Signal()


def new_version() -> str:
    """A version stamped with when it was made, so a render that overlapped it can tell."""
    return f"{time.time_ns()}-{uuid.uuid4().hex[:8]}"


def version_time(version: str) -> int:
    return int(version.split("-", 1)[0])


# The key every stored page has: a new version of it makes every stored page stale.
ALL = "all"
# Keys this process invalidated while the cache could not be written (module docstring).
OWED: set[str] = set()
# Re-entrant: repay()'s own write may be the one that ends an outage (owe_everything).
OWED_LOCK = threading.RLock()


def invalidate(*keys: str) -> None:
    """Every page showing any of ``keys`` is stale from now on (or once the cache answers)."""
    repay()
    if keys and not write_versions(keys):
        with OWED_LOCK:
            if not OWED:
                logger.warning(
                    "Could not invalidate cached pages (the cache cannot be written); every "
                    "stored page will be made stale when it can."
                )
            OWED.update(keys)


def write_versions(keys: Iterable[str]) -> bool:
    """Give each of ``keys`` a new version; False if the cache did not store them all."""
    version = new_version()
    failed = cache.set_many({VERSION_PREFIX + key: version for key in keys}, timeout=None)
    return not failed


def repay() -> None:
    """Write the invalidations this process owes, with a new version of ``ALL``, if it can."""
    if not OWED:  # the usual case, read without the lock
        return
    with OWED_LOCK:
        if OWED and write_versions([*OWED, ALL]):
            logger.warning("Cached pages made stale after the cache could not be written.")
            OWED.clear()
            cache_repaid.send(sender=None)


def owe_everything(sender, *, location: str, **kwargs) -> None:
    """Redis answers again after an outage: other processes' invalidations may have been lost
    in it, and the process that owed them may be gone. Every stored page and list is made stale
    (``repay()``), whatever this process itself owes."""
    if getattr(cache, "location", None) != location:
        return
    with OWED_LOCK:
        OWED.add(ALL)
    # At once: the read that found Redis back may be about to serve a page stored before.
    repay()


resumed.connect(owe_everything, dispatch_uid="page-cache-redis-resumed")


def versions(keys: Iterable[str]) -> dict[str, str]:
    """The current version of each of ``keys`` the cache holds (one read)."""
    found = cache.get_many([VERSION_PREFIX + key for key in keys])
    return {name[len(VERSION_PREFIX) :]: value for name, value in found.items()}


def settle_versions(keys: Iterable[str]) -> dict[str, str]:
    """The current version of each of ``keys``, giving one to each key that has none.

    A key without a version was never changed since the cache started (or the cache lost it):
    its new version is stamped 0, since no render in progress can have read stale data for it.
    It also says when it was made (``cache_began``).
    """
    keys = list(keys)
    current = versions(keys)
    missing = [key for key in keys if key not in current]
    if missing:
        for key in missing:
            # add(), not set(): two processes giving a key its first version agree on one.
            first = f"0-{time.time_ns()}-{uuid.uuid4().hex[:8]}"
            cache.add(VERSION_PREFIX + key, first, timeout=None)
        current.update(versions(missing))
    for key in keys:
        if key not in current:
            # The cache cannot be reached: a version no stored entry has, so nothing matches.
            current[key] = f"0{UNAVAILABLE}{uuid.uuid4().hex[:8]}"
    return current


UNAVAILABLE = "-unavailable-"


def unknown(versions: dict[str, str]) -> bool:
    """Whether any of ``versions`` stands for one the cache could not be asked for."""
    return any(UNAVAILABLE in version for version in versions.values())


def cache_began(versions: dict[str, str]) -> int:
    """When the cache got the first version of ``ALL`` in ``versions`` (ns): when it started,
    or lost every version (Redis restarted empty between two calls, so no process saw it
    down). 0 if that version is no first one."""
    stamp, _, rest = versions.get(ALL, "").partition("-")
    made = rest.split("-", 1)[0]
    return int(made) if stamp == "0" and made.isdigit() else 0


def replica_may_miss(versions: dict[str, str], since_ns: int) -> bool:
    """Whether a read from a replica proven fresh up to ``since_ns`` may miss a change to what
    has ``versions``: one changed since, or the cache cannot say (down, or it lost the
    versions of changes made since)."""
    return (
        changed_since(versions, since_ns) or unknown(versions) or cache_began(versions) > since_ns
    )


UPCOMING = ("upcoming_publication", "upcoming_expiry", "upcoming_change")


def upcoming_changes(*, after) -> dict[str, Subquery]:
    """Annotations for the next publication, expiry and scheduled change after ``after``.

    Uncorrelated subqueries, each the first entry of an index (explainer_public_idx,
    _expiry_idx, _scheduled_idx): PostgreSQL runs each once whatever query carries them, so a
    query that loads an explainer anyway can bring them (``earliest_change``) and spare the
    round trip of ``next_change()``.
    """
    from .models import Explainer

    def first(queryset, field: str) -> Subquery:
        later = queryset.filter(**{f"{field}__gt": after}).order_by(field).values(field)[:1]
        return Subquery(later)

    live = Explainer.objects.filter(live_revision__isnull=False)
    published = live.filter(status=Explainer.Status.PUBLISHED)
    return {
        "upcoming_publication": first(published, "published_at"),
        "upcoming_expiry": first(published, "expires_at"),
        "upcoming_change": first(live.filter(scheduled_revision__isnull=False), "scheduled_at"),
    }


def earliest_change(annotated) -> datetime | None:
    """The earliest of the ``upcoming_changes()`` an object or row was annotated with."""
    return _earliest(getattr(annotated, name, None) for name in UPCOMING)


def _earliest(times: Iterable[datetime | None]) -> datetime | None:
    return min((when for when in times if when is not None), default=None)


def _next_change(*, after):
    from .models import Explainer

    return (
        Explainer.objects.annotate(**upcoming_changes(after=after))
        .values_list(*UPCOMING)
        .order_by()[:1]
    )


_next_change_query = PreparedQuery("explainers.Explainer", _next_change, after=PLACEHOLDER_TIME)


def next_change(after: datetime) -> datetime | None:
    """The next time after ``after`` that time alone changes what readers see (one query).

    A publication, an expiry or scheduled changes coming due; any of them can change a list.
    """
    return _earliest(next(iter(_next_change_query.rows(after=after)), ()))


def replica_margin_ns() -> int:
    """How long before this request's reads a committed change may be missing from them (ns).

    0 when the request read the primary only. A replica serves readers while it is proven to
    hold all the primary committed up to REPLICA_MAX_LAG_SECONDS before, as checked up to
    CHECK_SECONDS ago (db_router): a change that recent may not have reached it, although its
    invalidation (and a CDN's purge) already happened. A page showing such a change is read
    again from the primary (``public_page``); lists kept apart (related, search) are not kept.
    """
    routing = db_router.ROUTING.get()
    if routing is None or not routing.used_replica:
        return 0
    return int((settings.REPLICA_MAX_LAG_SECONDS + db_router.CHECK_SECONDS) * 1e9)


def replica_bound(keys: Iterable[str], *, started_ns: int, changes_at: float | None):
    """``changes_at``, or sooner: when a replica read at ``started_ns`` has every change to
    ``keys`` (seconds since the epoch; see ``replica_margin_ns``)."""
    margin = replica_margin_ns()
    if not margin:
        return changes_at
    latest = max((version_time(v) for v in versions([*keys, ALL]).values()), default=0)
    if latest <= started_ns - margin:
        return changes_at
    caught_up = (latest + margin) / 1e9
    return caught_up if changes_at is None else min(changes_at, caught_up)


def fresh_until(response: HttpResponse, when: datetime | None) -> HttpResponse:
    """Say that time alone changes ``response`` no sooner than ``when`` (None: never).

    A view that knows (an explainer's page depends on its own times only) saves the query
    ``next_change()`` would make.
    """
    response.page_changes_at = when
    return response


def code_stamp() -> str:
    """What the running code renders with: templates and Python files, by size and mtime.

    Part of every rendered body's key, so a deploy that changes how pages look never serves
    bodies rendered by the old code. Worked out once per process; the same in every process.
    """
    global CODE_STAMP
    if CODE_STAMP is None:
        digest = hashlib.sha256()
        for folder in ("templates", "explainers", "feedback", "newsroom"):
            for path in sorted(Path(settings.BASE_DIR, folder).rglob("*")):
                if path.suffix in {".html", ".py", ".txt"} and path.is_file():
                    stat = path.stat()
                    digest.update(f"{path}|{stat.st_size}|{stat.st_mtime_ns}".encode())
        CODE_STAMP = digest.hexdigest()[:16]
    return CODE_STAMP


CODE_STAMP: str | None = None
BODY_SECONDS = 24 * 60 * 60


def body_key(*shown: object) -> str:
    """The key of a rendered body: everything the page ``shown`` (as reprs), the site, the code.

    Bodies are filed under what they show rather than under versions, so a page whose keys were
    invalidated but whose content is the same is served again without rendering it.
    """
    raw = repr((settings.SITE_URL, code_stamp(), *shown))
    return "body:" + hashlib.sha256(raw.encode()).hexdigest()


def cache_key(path: str, canonical: dict[str, str]) -> str:
    """The key of one real page: the site, the path and canonical values, in a fixed order."""
    raw = f"{settings.SITE_URL}|{path}|{urlencode(canonical)}"
    return "page:" + hashlib.sha256(raw.encode()).hexdigest()


def is_canonical(request: HttpRequest, query: Query, canonical: dict[str, str]) -> bool:
    """Whether the request gives each known parameter once, canonically, or not at all."""
    return all(
        request.GET.getlist(name) == ([canonical[name]] if name in canonical else [])
        for name in query.names
    )


def canonical_redirect(request: HttpRequest, canonical: dict[str, str]):
    """301 to the same page with the known parameters written canonically, and no others.

    The browser may keep it; no shared cache may: a CDN keys on the whole address, so it would
    keep one object per made-up query, and this answer costs the site no query to give again.
    """
    encoded = urlencode(canonical)
    response = HttpResponsePermanentRedirect(
        escape_uri_path(request.path) + (f"?{encoded}" if encoded else "")
    )
    patch_cache_control(response, private=True, max_age=settings.PUBLIC_CACHE_SECONDS)
    response["Surrogate-Control"] = response["CDN-Cache-Control"] = "no-store"
    return response


# What a public page answers: it only reads, so any other method is a 405 (``public_page``).
SAFE_METHODS = ("GET", "HEAD")


# Surrogate keys name what a page shows, for invalidating (and purging from a CDN) exactly
# the pages a change affects: "explainer-<pk>" for each explainer on the page (its own page,
# or a card in a list), "topic-<pk>" for a topic's pages, and one key per kind of list:
# "home", "corrections", "topics", "search", "feeds", "sitemaps", and "related" for the
# related lists filled by text, which any explainer published may join.
SURROGATE_HEADERS = ("Surrogate-Key", "Cache-Tag")


def tag(response: HttpResponse, *keys: str) -> HttpResponse:
    """Add surrogate ``keys`` to a public response (``Surrogate-Key``, ``Cache-Tag``)."""
    names = sorted(set(response.get("Surrogate-Key", "").split()) | set(keys))
    response["Surrogate-Key"] = " ".join(names)
    response["Cache-Tag"] = ",".join(names)
    return response


def explainer_keys(explainers) -> list[str]:
    return [f"explainer-{explainer.pk}" for explainer in explainers]


def shared(response: HttpResponse, *, changes_at: float | None = None) -> HttpResponse:
    """Let browsers and shared caches keep the response: it is the same for every reader.

    Browsers may keep it PUBLIC_CACHE_SECONDS, a CDN (``Surrogate-Control`` for Fastly and
    Varnish, ``CDN-Cache-Control`` for Cloudflare) CDN_CACHE_SECONDS, since it is purged on
    change; neither past ``changes_at`` (seconds since the epoch), when time alone changes it.
    """
    browser, cdn = settings.PUBLIC_CACHE_SECONDS, settings.CDN_CACHE_SECONDS
    if changes_at is not None:
        left = max(0, math.floor(changes_at - time.time()))
        browser, cdn = min(browser, left), min(cdn, left)
    patch_cache_control(response, public=True, max_age=browser)
    response["Surrogate-Control"] = f"max-age={cdn}"
    response["CDN-Cache-Control"] = f"max-age={cdn}"
    return response


def cached_response(key: str) -> HttpResponse | None:
    """The stored page at ``key`` if it is still fresh and none of its keys changed since."""
    entry = cache.get(key)
    if entry is None or time.time() >= entry["until"]:
        return None
    if versions(entry["versions"]) != entry["versions"]:
        return None
    response = HttpResponse(
        entry["content"], content_type=entry["content_type"], headers=entry["headers"]
    )
    # CommonMiddleware would add it on the way out; a hit from ReaderFastPathMiddleware skips it.
    response["Content-Length"] = str(len(entry["content"]))
    return shared(response, changes_at=entry["changes_at"])


def response_versions(response: HttpResponse) -> dict[str, str]:
    """The versions of ``response``'s surrogate keys and of ALL, now."""
    return settle_versions([*response.get("Surrogate-Key", "").split(), ALL])


def changed_since(versions: dict[str, str], started_ns: int) -> bool:
    return any(version_time(version) > started_ns for version in versions.values())


def store(
    key: str,
    response: HttpResponse,
    *,
    started_ns: int,
    changes_at: float | None,
    current: dict[str, str] | None = None,
):
    """Keep ``response`` under ``key`` with the versions of its surrogate keys (``current``,
    when the caller has them).

    Not kept: a page without keys (nothing could invalidate it), a page already due to change,
    and a page one of whose keys changed after its render began (it may show the old data).
    """
    names = response.get("Surrogate-Key", "").split()
    now = time.time()
    until = now + settings.PUBLIC_CACHE_SECONDS
    if changes_at is not None:
        until = min(until, changes_at)
    if not names or until <= now:
        return
    current = current or response_versions(response)
    if changed_since(current, started_ns):
        return
    entry = {
        "content": response.content,
        "content_type": response["Content-Type"],
        "headers": {h: response[h] for h in SURROGATE_HEADERS if h in response},
        "versions": current,
        "until": until,
        "changes_at": changes_at,
    }
    cache.set(key, entry, timeout=math.ceil(until - now))


def lookup(request: HttpRequest, query: Query) -> tuple[str | None, HttpResponse | None]:
    """The page cache's key for ``request`` (None: not to be stored) and its answer if any.

    The answer is a 301 to the canonical address, or the stored page when it is fresh.
    """
    if request.method not in SAFE_METHODS:
        return None, None
    repay()
    canonical = query.canonical(request.GET)
    if not is_canonical(request, query, canonical) or not set(request.GET) <= set(query.names):
        return None, canonical_redirect(request, canonical)
    if set(canonical) & set(query.unstored):
        return None, None
    key = cache_key(request.path, canonical)
    return key, cached_response(key)


class ReaderFastPathMiddleware:
    """Answer what readers ask most without the session, CSRF, user and message layers.

    For a public page (GET or HEAD): a 301 to the canonical address or a stored page is
    answered here whoever asks, session cookie or not; a miss is rendered here when the
    request has no session cookie, else down the stack. A ``sessionless`` view is called here.
    tests/explainers/test_fast_path.py checks both ways answer alike. For public pages (the
    vote, ``sessionless``, is answered by its view as it is):

    ==============================  ============================  ===========================
    Layer below                     Here                          Why
    ==============================  ============================  ===========================
    CommonMiddleware: Host check    re-done (``get_host()``)      a bad Host is a 400 still
    CommonMiddleware: slash, www    skipped                       the path resolved as it
                                                                  is; PREPEND_WWW is off
    CommonMiddleware: Content-      re-done for every answer      clients and CDNs see the
    Length                          here                          same length either way
    SessionMiddleware               skipped                       no session is read, so no
                                                                  cookie and no Vary: Cookie
    CsrfViewMiddleware              skipped                       GET and HEAD only, and no
                                                                  token in the pages (the
                                                                  vote checks its origin)
    Authentication, OTP, messages   skipped                       the page is the same for
                                                                  everyone, no user in it
    DatabaseRoutingMiddleware       re-done                       the replica and the 503
                                    (``serve_reader_page``)       for a database down
    HistoryRequestMiddleware, Axes  skipped                       a reader's page writes
                                                                  nothing and logs no one in
    Handler: render, 404 and 500    re-done                       a TemplateResponse is
                                    (``rendered``,                rendered, an exception is
                                    ``response_for_exception``)   its page, with its length
    ==============================  ============================  ===========================

    Public pages are the same for every reader, and views marked ``sessionless`` (the vote
    endpoint) read no session, user or message: none of those layers has anything to add, and
    skipping them makes a stored page cost little more than a static file, and a page rendered
    for a reader (no session cookie) a quarter less than down the stack. The database routing
    and its 503 run as ``DatabaseRoutingMiddleware`` would (``db_router.serve_reader_page``). Placed
    after the middleware that sets headers on every response (security, CSP, framing), so
    these responses carry them too. Anything else goes on down the stack as before.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            match = resolve(request.path_info)
        except (Http404, Resolver404):
            return self.get_response(request)
        query = getattr(match.func, "page_query", None)
        if query is not None and request.method in SAFE_METHODS:
            # Django checks the Host header in CommonMiddleware, which a hit skips.
            request.get_host()
            try:
                response = self.answer_page(request, match, query)
            except Exception as exc:
                # Answered here (a 404 page, the 500 page) as the layers below would answer it,
                # so that it states its length below as it does there.
                response = response_for_exception(request, exc)
            if response is None:
                return kept_by_no_one_if_it_sets_cookies(self.get_response(request))
            if not response.streaming and not response.has_header("Content-Length"):
                response["Content-Length"] = str(len(response.content))
            return response
        elif getattr(match.func, "sessionless", False):
            request.get_host()
            request.resolver_match = match
            return match.func(request, *match.args, **match.kwargs)
        return self.get_response(request)

    def answer_page(self, request, match, query) -> HttpResponse | None:
        """A public page's answer here: a canonical 301, a stored page, or a reader's miss
        rendered; None for a miss with a session cookie, which goes down the stack."""
        key, answer = lookup(request, query)
        if answer is not None:
            return answer
        request.page_cache_key = key
        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            # Editors (a session) read the primary, and go down the stack.
            return None
        # A reader's page is rendered past those layers too: it is the same bytes for
        # everyone, so nothing in it may come from them.
        request.resolver_match = match
        return db_router.serve_reader_page(request, match.func, match.args, match.kwargs)


def kept_by_no_one_if_it_sets_cookies(response: HttpResponse) -> HttpResponse:
    """A public page whose answer sets a cookie is kept by no browser cache or CDN.

    Down the stack, a layer may set one after the page was marked shared: the session layer
    deletes a session cookie it cannot read (any reader can send ``sessionid=garbage``), and a
    CDN keeping that answer would then delete every editor's session. The page cache keeps the
    body alone, without the cookie, so it is not affected.
    """
    if response.cookies and any(h in response for h in ("Surrogate-Control", "CDN-Cache-Control")):
        add_never_cache_headers(response)
        response["Surrogate-Control"] = response["CDN-Cache-Control"] = "no-store"
    return response


def sessionless(view):
    """Mark ``view`` as needing no session, user, CSRF token or messages (see above)."""
    view.sessionless = True
    return view


def shared_after(
    response: HttpResponse,
    current: dict[str, str],
    *,
    started_ns: int,
    changes_at: float | None,
) -> HttpResponse:
    """``shared()`` for a response worked out from ``started_ns``, whose keys' versions are now
    ``current``: no shared cache keeps it past what a replica read may miss, or at all if one
    of its keys changed meanwhile."""
    if replica_margin_ns():
        keys = response.get("Surrogate-Key", "").split()
        changes_at = replica_bound(keys, started_ns=started_ns, changes_at=changes_at)
    if changed_since(current, started_ns):
        # A change committed while it rendered: its purge may reach a CDN before this
        # response does, which would then keep the old page. No shared cache keeps it.
        changes_at = time.time()
    return shared(response, changes_at=changes_at)


UNKNOWN = object()
NOT_LOOKED_UP = object()


def public_page(view: Callable[..., HttpResponse], *, query: Query = NO_QUERY):
    """Serve ``view``'s successful responses from the cache; let shared caches keep them too.

    Every reader gets the same bytes, so a CDN may keep them as well. ``query`` names the
    parameters the page knows; see the module's docstring for what is stored and how long.
    ReaderFastPathMiddleware looks a request up first; without it, the view's wrapper does.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in SAFE_METHODS:
            # Not the view's to answer: it would read the query unchecked (lookup() checks it
            # for these methods only), and nothing a reader sends here changes anything.
            return HttpResponseNotAllowed(SAFE_METHODS)
        key = getattr(request, "page_cache_key", NOT_LOOKED_UP)
        if key is NOT_LOOKED_UP:
            key, answer = lookup(request, query)
            if answer is not None:
                return answer
        for _ in range(2):  # as routed, then (see below) from the primary
            started_ns, started = time.time_ns(), timezone.now()
            response = view(request, *args, **kwargs)
            if response.status_code == 301 and not response.get("Surrogate-Key"):
                return shared(response)
            if response.status_code not in {200, 301}:
                return response
            if hasattr(response, "render"):
                response.render()
            current = response_versions(response)
            margin = replica_margin_ns()
            if not margin or not replica_may_miss(current, started_ns - margin):
                break
            # Read from a replica within its allowed lag of a change to what the page shows
            # (or while the cache cannot say when it changed): the replica may not have it
            # yet (an unpublished explainer still shown, or listed). Read again from the
            # primary, so that readers never see a change undone after its purge, and no cache
            # keeps the page from before it.
            db_router.read_primary()
        if response.status_code == 301:
            # An old slug's redirect, tagged with its explainer: as for a page, below.
            return shared_after(response, current, started_ns=started_ns, changes_at=None)
        changes = getattr(response, "page_changes_at", UNKNOWN)
        if changes is UNKNOWN:
            changes = next_change(after=started)
        changes_at = changes.timestamp() if changes is not None else None
        if key:
            store(
                key,
                response,
                started_ns=started_ns - margin,
                changes_at=changes_at,
                current=current,
            )
        return shared_after(response, current, started_ns=started_ns, changes_at=changes_at)

    wrapper.page_query = query
    # Readers' pages may read the read replica (newsroom/db_router.py).
    wrapper.reader_page = True
    return wrapper
