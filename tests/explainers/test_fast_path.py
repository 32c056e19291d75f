"""Readers' misses rendered by ReaderFastPathMiddleware: no cookie, no session, no stale page."""

import pytest
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
