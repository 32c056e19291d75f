"""Whatever a reader (or a bot) sends, the answer is never a 500, with debug on or off.

A table of odd requests against every address a reader can reach: bad charsets, huge and broken
query strings, NUL bytes, bad Host headers, odd methods and cookies. With DEBUG off (production)
a 400 or 404 is the site's own page; with DEBUG on (``make run``) Django may show its debug
page instead, but never fails while drawing it. Then a walk of every address in the URLconfs,
so that a new one is covered as soon as it exists, with every method and bad query values.
"""

from itertools import product

import pytest
from django.test import Client
from django.urls import Resolver404, URLResolver, get_resolver, resolve, reverse

from newsroom.media import serve_media
from tests.factories import ExplainerFactory, TopicFactory, editor

pytestmark = pytest.mark.django_db

SLUG = "talks"
READER_PATHS = [
    "/",
    "/corrections/",
    f"/explainers/{SLUG}/",
    f"/explainers/{SLUG}/feedback/",
    "/preview/not-a-token/",
    "/admin/login/",
    "/static/css/site.css",
    "/media/nothing.jpg",
]

ODD_QUERIES = [
    "page=%00",
    "page=-1",
    "page=99999999999999999999999999",
    "page=1e3",
    "page[]=1",
    "voted=%00&sent=%00",
    "%ff=%ff",
    "page=%E2%82",
    "next=%00",
    "a=1&" * 1500,
    "x=" + "y" * 200_000,
    "=&&==&;;",
]
ODD_PATHS = [
    "/explainers/%00/",
    "/explainers/a%00b/",
    f"/explainers/{'a' * 5000}/",
    "/preview/%00/",
    f"/preview/{'a' * 5000}/",
    "/%ff/",
    "/%00",
    "/corrections/%00",
    "/static/%00",
    "/static/css/%00.css",
    "/static/../../etc/passwd",
    "/media/%00",
    "/media/../settings.py",
    "/admin/login/%00",
]
FORM = "application/x-www-form-urlencoded"
ODD_POSTS = [
    {"data": "comment=%E9&useful=yes", "content_type": f"{FORM}; charset=latin-1"},
    {"data": "a=1&" * 1500, "content_type": FORM},
    {
        "data": b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n',
        "content_type": "multipart/form-data; boundary=x",
    },
    {"data": "useful=yes", "content_type": "multipart/form-data"},
    {"data": "useful=yes", "content_type": FORM, "CONTENT_LENGTH": "not a number"},
    {"data": "useful=yes", "content_type": FORM, "CONTENT_LENGTH": "-5"},
    {
        "data": "useful=yes",
        "content_type": "multipart/form-data; boundary=x",
        "CONTENT_LENGTH": "x",
    },
    {"data": "a=" + "x" * 3_000_000, "content_type": FORM},
    {
        "data": b"--x\r\n" + b'Content-Disposition: form-data; name="a"\r\n\r\n1\r\n--x\r\n' * 1100,
        "content_type": "multipart/form-data; boundary=x",
    },
    {"data": "{}", "content_type": ";;;=;charset"},
    {
        "data": "username=admin&password=x",
        "content_type": FORM,
        "HTTP_ORIGIN": "https://evil.example",
    },
]
# With a CSRF cookie, Django's CSRF check reads the body of a post to any view but the vote.
ODD_POSTS += [{**post, "HTTP_COOKIE": "csrftoken=" + "a" * 32} for post in ODD_POSTS]
BAD_HOSTS = [
    "evil.example",
    "127.0.0.1:99999",
    "[::1",
    "a" * 300,
    "localhost@evil.example",
    "local host",
    "localhost:80:80",
]


def send(client: Client, method: str, path: str, **extra):
    """The response, or a stand-in 500 when an exception escapes Django's own handling (as it
    does when the debug page itself fails, which runserver answers with a bare 500)."""
    try:
        return client.generic(method, path, **extra)
    # Any exception that escapes is the failure this file looks for.
    except Exception as error:
        return EscapedError(error)


class EscapedError:
    status_code = 500

    def __init__(self, error):
        self.error = error

    def __repr__(self):
        return f"<escaped {type(self.error).__name__}: {self.error}>"


def odd_requests():
    """(method, path, extra) triples: every odd request against every reader address."""
    for path in READER_PATHS:
        for query in ODD_QUERIES:
            yield "GET", f"{path}?{query}", {}
        for post in ODD_POSTS:
            yield "POST", path, post
        for method in ("PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "BREW"):
            yield method, path, {}
        for host in BAD_HOSTS:
            yield "GET", path, {"HTTP_HOST": host}
        yield "GET", path, {"HTTP_COOKIE": "newsroom_reader=%00; sessionid=\x7f; csrftoken=;"}
    for path in ODD_PATHS:
        yield "GET", path, {}


@pytest.fixture
def site(db):
    """A published explainer at SLUG."""
    return ExplainerFactory(published=True, slug=SLUG)


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
def test_no_odd_request_gets_a_500(site, settings, debug):
    """None of the odd requests is answered with a 500, with DEBUG off or on."""
    settings.DEBUG = debug
    client = Client(raise_request_exception=False)
    failures = []
    for method, path, extra in odd_requests():
        response = send(client, method, path, **extra)
        if response.status_code >= 500:
            failures.append(f"{method} {path[:80]} {sorted(extra)[:3]}: {response!r}")
    assert not failures, "\n".join(failures)


def test_odd_requests_get_the_sites_own_error_pages(site, settings):
    """With DEBUG off, every 400, 403 and 404 among the answers is a page in the site's design."""
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    statuses, plain = set(), []
    for method, path, extra in odd_requests():
        response = send(client, method, path, **extra)
        statuses.add(response.status_code)
        if response.status_code in (400, 403, 404) and b'class="site-header"' not in (
            response.content
        ):
            plain.append(f"{method} {path[:80]} {sorted(extra)[:3]}: {response.status_code}")
    assert not plain, "\n".join(plain)
    assert {400, 403, 404} <= statuses


# Every public address in the URLconfs, with every method and bad query values.

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "BREW")
TOPIC_SLUG = "diplomacy"
# Values for each URL argument: the real thing, and something that names nothing. A new
# argument name fails the walk below until it is given some here.
SAMPLES = {
    "slug": [SLUG, TOPIC_SLUG, "no-such-thing"],
    "section": ["explainers", "no-such-section"],
    "token": ["not-a-token"],
}
BAD_QUERIES = [
    "",
    "page=x",
    "page=0",
    "page=99999999999",
    "page=2&page=x",
    "p=x",
    "p=0",
    "q=a&page=x",
    "q=a&page=0",
    "q=%00",
    "q=" + "a" * 5000,
    "voted=x&sent=%00",
    "junk=1",
]
# Addresses outside the URLconfs that a reader reaches all the same, and uploads (in the URLconf
# only when DEBUG was on as it loaded, and unnamed). Not /readyz: its 503 is its answer, to a
# load balancer, while something it needs is down.
OTHER_PATHS = ["/healthz", "/static/css/site.css", "/no-such-page/", "/media/x.jpg"]


def named_patterns(patterns=None, namespace=""):
    """(name, URL arguments) of every pattern outside the admin, walking included URLconfs."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            if str(pattern.pattern) == "admin/":
                continue  # staff only, behind Django's own login
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from named_patterns(pattern.url_patterns, inner)
        elif pattern.callback is not serve_media:
            assert pattern.name, f"{pattern.pattern} has no name: the walk cannot reverse it"
            yield namespace + pattern.name, list(pattern.pattern.converters)


def public_paths():
    """A path for every public pattern and every combination of its arguments' samples."""
    for name, arguments in named_patterns():
        missing = [argument for argument in arguments if argument not in SAMPLES]
        assert not missing, f"{name}: add sample values for {missing} to SAMPLES"
        for values in product(*(SAMPLES[argument] for argument in arguments)):
            yield reverse(name, kwargs=dict(zip(arguments, values, strict=True)))
    yield from OTHER_PATHS


@pytest.fixture
def topic(site):
    """Besides the explainer at SLUG, a topic at TOPIC_SLUG with a published explainer."""
    return ExplainerFactory(published=True, topic=TopicFactory(slug=TOPIC_SLUG)).topic


def walk(client: Client, queries) -> list[str]:
    """Every method on every public path with each of ``queries``: the answers that were 5xx."""
    failures = []
    for path in public_paths():
        for query in queries:
            for method in METHODS:
                url = f"{path}?{query}" if query else path
                response = send(client, method, url)
                if response.status_code >= 500:
                    failures.append(f"{method} {url[:80]}: {response!r}")
    return failures


def test_the_walk_covers_every_public_page():
    """The URLconfs give the walk the pages a reader reaches, feeds and sitemaps included."""
    names = {name for name, _ in named_patterns()}
    assert {
        "explainers:list",
        "explainers:detail",
        "explainers:topic",
        "explainers:corrections-feed",
        "explainers:sitemap",
        "explainers:search",
        "feedback:vote",
        "robots",
    } <= names


@pytest.mark.parametrize("cookie", ["", "sessionid=garbage"], ids=["reader", "bad-session"])
def test_no_method_or_query_on_a_public_address_gets_a_5xx(topic, cookie):
    """Any method, with any bad query value, on any public address: never a 5xx."""
    client = Client(raise_request_exception=False, HTTP_COOKIE=cookie)
    failures = walk(client, BAD_QUERIES)
    assert not failures, "\n".join(failures)


def test_no_method_on_a_public_address_gets_a_5xx_for_an_editor(topic):
    """Logged in (down the stack, past the session layer): never a 5xx either."""
    client = Client(raise_request_exception=False)
    client.force_login(editor())
    failures = walk(client, ["", "page=x", "q=a&page=x", "junk=1"])
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("cookie", ["", "sessionid=garbage"], ids=["reader", "bad-session"])
def test_public_pages_answer_only_get_and_head(topic, cookie):
    """Every other method on every public page is a 405 naming GET and HEAD."""
    client = Client(raise_request_exception=False, HTTP_COOKIE=cookie)
    wrong = []
    for path in public_paths():
        try:
            view = resolve(path).func
        except Resolver404:
            continue
        if not hasattr(view, "page_query"):
            continue
        for method in set(METHODS) - {"GET", "HEAD"}:
            response = client.generic(method, path + "?page=x&junk=1")
            if response.status_code != 405 or response["Allow"] != "GET, HEAD":
                wrong.append(f"{method} {path}: {response.status_code}")
    assert not wrong, "\n".join(wrong)
