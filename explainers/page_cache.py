"""A server-side cache of rendered reader pages.

Reader pages are the same for everyone, so each is rendered once and then served from
Django's cache without touching the database. Every cached page is filed under the current
*generation*; any write that readers could see (an explainer, source, topic, notice or
redirect saved or deleted, a publication) starts a new generation, so the next request
renders afresh. What time alone changes (a scheduled publication coming due, an expiry)
waits for the entry to expire after PUBLIC_CACHE_SECONDS, the lifetime a CDN is allowed too.

Only real pages are stored, so no one can fill the cache by varying a request: the key is
the path and the *canonical* values of the page's query parameters, never the Host header
(pages link to NEWSROOM_SITE_URL instead). A known parameter written any other way
(``?page=02``, ``?page=1``, ``?voted=x1``) is answered with a 301 to its canonical address
or a 404, and a request with any unknown parameter is rendered but not stored.

The generation lives in the cache, so every process sees a new one only when the cache is
shared (NEWSROOM_CACHE_URL=redis://…); with the per-process default, other worker
processes catch up within PUBLIC_CACHE_SECONDS.
"""

import hashlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect, QueryDict
from django.utils.cache import patch_cache_control
from django.utils.encoding import escape_uri_path
from django.utils.http import urlencode

GENERATION_KEY = "page-generation"
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


PAGED = Query(names=("page",), canonical=page_number)
SITEMAP_PAGED = Query(names=("p",), canonical=sitemap_page_number)
VOTE_OUTCOME = Query(names=("voted", "sent"), canonical=vote_outcome)
NO_QUERY = Query(names=(), canonical=lambda query: {})


def generation() -> str:
    current = cache.get(GENERATION_KEY)
    if current is None:
        current = uuid.uuid4().hex
        # add(), not set(): two processes starting a generation at once agree on one.
        if not cache.add(GENERATION_KEY, current, timeout=None):
            current = cache.get(GENERATION_KEY) or current
    return current


def bump(**kwargs) -> None:
    """Start a new generation: every cached page is stale from now on."""
    cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)


def cache_key(path: str, canonical: dict[str, str]) -> str:
    """The key of one real page: the site, the path and canonical values, in a fixed order."""
    raw = f"{generation()}|{settings.SITE_URL}|{path}|{urlencode(canonical)}"
    return "page:" + hashlib.sha256(raw.encode()).hexdigest()


def is_canonical(request: HttpRequest, query: Query, canonical: dict[str, str]) -> bool:
    """Whether the request gives each known parameter once, canonically, or not at all."""
    return all(
        request.GET.getlist(name) == ([canonical[name]] if name in canonical else [])
        for name in query.names
    )


def canonical_redirect(request: HttpRequest, query: Query, canonical: dict[str, str]):
    """301 to the same page with the known parameters written canonically, the rest kept."""
    others = [
        (name, value)
        for name, values in request.GET.lists()
        if name not in query.names
        for value in values
    ]
    encoded = urlencode([*canonical.items(), *others])
    return HttpResponsePermanentRedirect(
        escape_uri_path(request.path) + (f"?{encoded}" if encoded else "")
    )


# Surrogate keys name what a page shows, for invalidating (and purging from a CDN) exactly
# the pages a change affects: "explainer-<pk>" for each explainer on the page (its own page,
# or a card in a list), "topic-<pk>" for a topic's pages, and one key per kind of list:
# "home", "corrections", "topics", "search", "feeds", "sitemaps".
SURROGATE_HEADERS = ("Surrogate-Key", "Cache-Tag")


def tag(response: HttpResponse, *keys: str) -> HttpResponse:
    """Add surrogate ``keys`` to a public response (``Surrogate-Key``, ``Cache-Tag``)."""
    names = sorted(set(response.get("Surrogate-Key", "").split()) | set(keys))
    response["Surrogate-Key"] = " ".join(names)
    response["Cache-Tag"] = ",".join(names)
    return response


def explainer_keys(explainers) -> list[str]:
    return [f"explainer-{explainer.pk}" for explainer in explainers]


def shared(response: HttpResponse) -> HttpResponse:
    """Let browsers and shared caches keep the response: it is the same for every reader."""
    patch_cache_control(response, public=True, max_age=settings.PUBLIC_CACHE_SECONDS)
    return response


def public_page(view: Callable[..., HttpResponse], *, query: Query = NO_QUERY):
    """Serve ``view``'s successful responses from the cache; let shared caches keep them too.

    Every reader gets the same bytes, so a CDN may keep them as well. ``query`` names the
    parameters the page knows; see the module's docstring for what is stored.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        key = None
        if request.method in {"GET", "HEAD"}:
            canonical = query.canonical(request.GET)
            if not is_canonical(request, query, canonical):
                return shared(canonical_redirect(request, query, canonical))
            if set(request.GET) <= set(query.names):
                key = cache_key(request.path, canonical)
        hit = cache.get(key) if key else None
        if hit is not None:
            content, content_type, headers = hit
            response = HttpResponse(content, content_type=content_type, headers=headers)
        else:
            response = view(request, *args, **kwargs)
            if key and response.status_code == 200:
                if hasattr(response, "render"):
                    response.render()
                headers = {h: response[h] for h in SURROGATE_HEADERS if h in response}
                cache.set(
                    key,
                    (response.content, response["Content-Type"], headers),
                    timeout=settings.PUBLIC_CACHE_SECONDS,
                )
        return shared(response) if response.status_code in {200, 301} else response

    return wrapper
