"""Whatever a reader (or a bot) sends, the answer is never a 500, with debug on or off.

A table of odd requests against every address a reader can reach: bad charsets, huge and broken
query strings, NUL bytes, bad Host headers, odd methods and cookies. With DEBUG off (production)
a 400 or 404 is the site's own page; with DEBUG on (``make run``) Django may show its debug
page instead, but never fails while drawing it.
"""

import pytest
from django.test import Client

from tests.factories import ExplainerFactory

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
