"""Readers' misses rendered by ReaderFastPathMiddleware: no cookie, no session, no stale page."""

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import ExplainerFactory, editor
from tests.http import forget_page

pytestmark = pytest.mark.django_db


def test_a_readers_miss_with_foreign_cookies_sets_none_and_varies_on_none(client):
    """CSRF, message and vote cookies without a session: no cookie set, no Vary: Cookie."""
    explainer = ExplainerFactory(published=True)
    client.cookies["csrftoken"] = "x" * 32
    client.cookies["messages"] = "garbage"
    client.cookies["newsroom_reader"] = "%00"
    response = client.get(explainer.get_absolute_url())
    assert response.status_code == 200
    assert not response.cookies
    assert "Cookie" not in response.get("Vary", "")
    assert "public" in response["Cache-Control"]


@pytest.mark.parametrize("value", ["garbage", "", "x" * 7])
def test_a_malformed_session_cookie_gets_no_set_cookie_on_a_shared_page(client, value):
    """A shared (public) page never carries a Set-Cookie, whatever session cookie was sent."""
    explainer = ExplainerFactory(published=True)
    client.cookies["sessionid"] = value
    response = client.get(explainer.get_absolute_url())
    assert response.status_code == 200
    if "public" in response["Cache-Control"]:
        assert not response.cookies
        assert "Cookie" not in response.get("Vary", "")
    if response.cookies:
        assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
        assert response["Surrogate-Control"] == response["CDN-Cache-Control"] == "no-store"


def test_an_unknown_session_key_is_the_readers_page(client):
    """An expired (unknown) session key gets the same page as a reader, and no cookie."""
    explainer = ExplainerFactory(published=True)
    reader = client.get(explainer.get_absolute_url())
    forget_page(explainer.get_absolute_url())
    client.cookies["sessionid"] = "a" * 32
    expired = client.get(explainer.get_absolute_url())
    assert expired.status_code == 200
    assert expired.content == reader.content
    assert not expired.cookies


def test_an_editors_miss_stored_for_readers_is_the_readers_page(client):
    """A miss an editor renders (down the stack) is what readers then get, byte for byte."""
    explainer = ExplainerFactory(published=True)
    client.force_login(editor("fast-path-staff"))
    seen_by_editor = client.get(explainer.get_absolute_url())
    client.logout()
    client.cookies.clear()
    hit = client.get(explainer.get_absolute_url())
    assert hit.content == seen_by_editor.content
    assert "fast-path-staff" not in hit.text
    assert not hit.cookies


def test_a_head_miss_then_a_get_hit_say_the_same_length(client):
    """HEAD renders the page in the fast path; the GET that follows is the same page."""
    explainer = ExplainerFactory(published=True)
    head = client.head(explainer.get_absolute_url())
    get = client.get(explainer.get_absolute_url())
    assert head.status_code == get.status_code == 200
    assert head["Content-Length"] == get["Content-Length"] == str(len(get.content))
    assert head["Surrogate-Key"] == get["Surrogate-Key"]


@pytest.mark.parametrize(
    "slug", ["a" * 5000, "UPPER-case", "_", "-", "0", "placeholder", "a" * 101]
)
def test_odd_and_huge_slugs_are_404_pages_for_readers(client, slug):
    """A slug nothing has is the 404 page in the fast path, never a 500 or a cached page."""
    ExplainerFactory(published=True)
    response = client.get(reverse("explainers:detail", kwargs={"slug": slug}))
    assert response.status_code == 404
    assert "public" not in response.get("Cache-Control", "")


def test_a_bug_in_a_readers_miss_is_the_500_page_and_nothing_is_kept(client, monkeypatch):
    """An error in the view in the fast path is the site's 500 page, and the next is a page."""
    from django.test import Client

    from explainers import selectors

    explainer = ExplainerFactory(published=True)
    real = selectors.page_state

    def broken(slug):
        raise ValueError("a bug")

    monkeypatch.setattr(selectors, "page_state", broken)
    failed = Client(raise_request_exception=False).get(explainer.get_absolute_url())
    assert failed.status_code == 500
    assert "public" not in failed.get("Cache-Control", "")
    monkeypatch.setattr(selectors, "page_state", real)
    assert client.get(explainer.get_absolute_url()).status_code == 200


# Parity: a reader's page answered by the fast path (no session cookie) is the page answered
# down the whole stack to a request with a session cookie, on a page-cache miss and on a hit.

# Headers a reader's page carries, compared as they are. Set-Cookie is compared apart (none).
PARITY_HEADERS = (
    "Content-Type",
    "Content-Length",
    "Cache-Control",
    "Surrogate-Key",
    "Cache-Tag",
    "Surrogate-Control",
    "CDN-Cache-Control",
    "Content-Security-Policy",
    "Content-Security-Policy-Report-Only",
    "Cross-Origin-Resource-Policy",
    "Cross-Origin-Opener-Policy",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Permissions-Policy",
    "X-Frame-Options",
    "Vary",
    "Location",
    "Allow",
)

# Every kind of public address; "{slug}" and "{topic}" are filled in by the ``site`` fixture.
PUBLIC_URLS = [
    "/",
    "/explainers/{slug}/",
    "/explainers/old-address/",  # an old slug: 301 to the explainer
    "/topics/",
    "/topics/{topic}/",
    "/search/",
    "/search/?q=envoy",
    "/corrections/",
    "/feed/",
    "/feed/atom/",
    "/corrections/feed/",
    "/topics/{topic}/feed/",
    "/sitemap.xml",
    "/sitemap-explainers.xml",
    "/sitemap-topics.xml",
    "/sitemap-pages.xml",
    "/news-sitemap.xml",
    "/robots.txt",
    "/manifest.webmanifest",
    "/explainers/no-such-explainer/",  # 404
    "/topics/no-such-topic/",  # 404
    "/?page=9",  # 404: past the last page
    "/?page=x",  # 404: no page number
    "/?utm_source=x",  # junk parameters: 301 to the address without them
    "/?page=02",
    "/explainers/{slug}/?voted=maybe&fbclid=1",
    "/topics/?ref=x",
    "/search/?q=&page=3",
    "/sitemap-explainers.xml?p=1",
]


@pytest.fixture
def site():
    """One published explainer in a topic, with an old slug that still answers."""
    from explainers.models import SlugRedirect
    from tests.factories import TopicFactory

    topic = TopicFactory(slug="diplomacy")
    explainer = ExplainerFactory(published=True, topic=topic, slug="envoy-talks")
    SlugRedirect.objects.create(old_slug="old-address", explainer=explainer)
    return {"slug": explainer.slug, "topic": topic.slug}


@pytest.fixture
def session_cookie():
    """The key of a stored, valid session that has no user: as close to a reader as a request
    with a session cookie gets (any session cookie sends a miss down the stack)."""
    from importlib import import_module

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session["seen"] = True  # a session with no data is never saved
    session.save()
    return session.session_key


def answer(response) -> dict:
    """What a reader's client and a shared cache see of ``response``.

    The body is compared byte for byte, nothing normalised: the site's policy has no
    nonces (ContentSecurityPolicyMiddleware); reader pages carry no CSRF token (search is a
    GET, and the vote form posts to a csrf_exempt view that checks its origin); nothing in
    them comes from the request but its address. Any difference is a page rendered
    differently for a session.
    """
    return {
        "status": response.status_code,
        "body": response.content,
        **{name: response.get(name) for name in PARITY_HEADERS},
    }


def fetch(client, method: str, url: str, cookie: str | None):
    client.cookies.clear()
    if cookie:
        client.cookies[settings.SESSION_COOKIE_NAME] = cookie
    response = getattr(client, method)(url)
    # No answer here sets a cookie: neither the reader's nor the session's (it was not
    # modified), so a CDN keeping either never hands anyone a Set-Cookie.
    assert not response.cookies, url
    return answer(response)


@pytest.mark.parametrize("method", ["get", "head"])
@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_a_readers_answer_is_the_sessions_answer_on_a_miss_and_a_hit(
    client, site, session_cookie, url, method
):
    """Status, body and headers are the same with a session cookie (whole stack) as without."""
    from django.core.cache import cache

    from explainers import page_cache

    url = url.format(**site)

    cache.clear()
    reader_miss = fetch(client, method, url, None)
    if reader_miss["status"] == 200 and reader_miss["Surrogate-Key"] and "?" not in url:
        # Stored, so that what follows is a hit. Never stored: a page without surrogate keys
        # (robots.txt, the manifest), search with words, errors and canonical 301s.
        assert cache.get(page_cache.cache_key(url, {})) is not None
    reader_hit = fetch(client, method, url, None)
    cache.clear()
    session_miss = fetch(client, method, url, session_cookie)
    session_hit = fetch(client, method, url, session_cookie)
    # A reader's hit after a miss down the stack: the session's render is what was stored.
    reader_hit_after_session = fetch(client, method, url, None)

    assert session_miss == reader_miss
    assert reader_hit == reader_miss
    assert session_hit == reader_miss
    assert reader_hit_after_session == reader_miss
    # Not a difference, on purpose: a shared page answered to a session is marked shared
    # too. Its bytes are the reader's and it sets no cookie (checked in fetch()), so a CDN
    # keeping it keeps what it would keep for a reader; a Set-Cookie makes it kept by no one
    # (kept_by_no_one_if_it_sets_cookies, test_a_malformed_session_cookie_...).
    if method == "get":
        # Every answer states its length, as CommonMiddleware has it state down the stack:
        # the fast path's canonical 301s and 404s for a bad query value included.
        assert reader_miss["Content-Length"] == str(len(reader_miss["body"]))
    if "public" in (reader_miss["Cache-Control"] or ""):
        assert "public" in session_miss["Cache-Control"]
