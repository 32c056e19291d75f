"""Round 9 attacks on readers' misses rendered in the fast path, the explainer page's one
query (state and content together) and the Jinja2 renders' request state."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.template import engines
from django.urls import reverse
from django.utils import timezone

from explainers import services
from explainers.models import Explainer
from newsroom.jinja2 import STATE, RequestState
from tests.explainers.test_attacks_round8 import publish, related_titles
from tests.factories import ExplainerFactory, TopicFactory, editor
from tests.http import forget_page

pytestmark = pytest.mark.django_db


def schedule_edit(explainer: Explainer, *, at, **changes) -> Explainer:
    """Edit a live explainer and schedule the edit for ``at``."""
    for name, value in changes.items():
        setattr(explainer, name, value)
    services.explainer_record_edit(explainer=explainer, user=editor("round9-editor"))
    services.explainer_publish(explainer=explainer, user=editor("round9-editor"), at=at)
    return Explainer.objects.get(pk=explainer.pk)


# --- The fast path: what a reader's miss may carry ----------------------------------------------


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
    client.force_login(editor("round9-staff"))
    seen_by_editor = client.get(explainer.get_absolute_url())
    client.logout()
    client.cookies.clear()
    hit = client.get(explainer.get_absolute_url())
    assert hit.content == seen_by_editor.content
    assert "round9-staff" not in hit.text
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


# --- The page's one query: what readers may see ------------------------------------------------


def test_a_scheduled_edit_shows_neither_early_nor_late(client):
    """The live text until the scheduled time, the new text (and slug) from it, no stale page."""
    now = timezone.now().replace(microsecond=0)
    explainer = ExplainerFactory(published=True, headline="Before the switch")
    at = now + timedelta(hours=1)
    old = reverse("explainers:detail", kwargs={"slug": explainer.slug})
    schedule_edit(explainer, at=at, headline="After the switch", slug="after-the-switch")
    new = reverse("explainers:detail", kwargs={"slug": "after-the-switch"})
    with time_machine.travel(at - timedelta(microseconds=1), tick=False):
        page = client.get(old)
        assert "Before the switch" in page.text and "After the switch" not in page.text
        assert client.get(new).status_code == 404
    with time_machine.travel(at, tick=False):
        assert client.get(old).status_code == 301
        page = client.get(new)
        assert "After the switch" in page.text and "Before the switch" not in page.text


def test_a_pending_edit_never_shows_through_the_one_query(client):
    """An edit saved but not published stays out of the page, its body and its related list."""
    explainer = publish(headline="Published ferry timetable")
    client.get(explainer.get_absolute_url())
    explainer.headline = "Pending secret ferry headline"
    explainer.whats_happening = "Pending secret paragraph."
    explainer.topic = TopicFactory(name="Pending secret topic")
    services.explainer_record_edit(explainer=explainer, user=editor("round9-editor"))
    forget_page(explainer.get_absolute_url())
    page = client.get(explainer.get_absolute_url()).text
    assert "Pending secret" not in page
    assert "Published ferry timetable" in page
    pending_slug = reverse("explainers:detail", kwargs={"slug": "pending-secret-ferry-headline"})
    assert client.get(pending_slug).status_code == 404


def test_an_unpublished_or_expired_explainer_is_gone_at_once(client):
    """Unpublishing or an expiry passing: 404, the page stored before is not served."""
    explainer = publish(headline="Short lived page")
    url = explainer.get_absolute_url()
    assert client.get(url).status_code == 200
    services.explainer_unpublish(explainer=explainer, user=editor("round9-editor"))
    assert client.get(url).status_code == 404
    other = publish(headline="Expiring page")
    now = timezone.now()
    Explainer.objects.filter(pk=other.pk).update(expires_at=now + timedelta(minutes=5))
    assert client.get(other.get_absolute_url()).status_code == 200
    with time_machine.travel(now + timedelta(minutes=5), tick=False):
        assert client.get(other.get_absolute_url()).status_code == 404


def test_a_topic_rename_shows_on_the_next_miss(client):
    """The page's topic as it is now, after a rename, for readers in the fast path."""
    topic = TopicFactory(name="Old topic name")
    explainer = publish(headline="Topic rename page", topic=topic)
    assert "Old topic name" in client.get(explainer.get_absolute_url()).text
    topic.name = "New topic name"
    topic.save()
    page = client.get(explainer.get_absolute_url()).text
    assert "New topic name" in page and "Old topic name" not in page


# --- Related list with and without a topic -----------------------------------------------------


def test_related_without_topic_takes_any_topic_never_itself_nor_hidden(client, engine):
    """No topic: text matches of any topic or none, once each, never the page or a draft."""
    now = timezone.now()
    quiet = {"whats_happening": "Nothing.", "why_its_important": "-", "whats_next": "-"}
    page = publish(headline="Glacier retreat speeds up", published_at=now, **quiet)
    topical = publish(
        headline="Glacier retreat measured",
        topic=TopicFactory(),
        published_at=now - timedelta(hours=1),
        **quiet,
    )
    plain = publish(
        headline="Glacier retreat mapped", published_at=now - timedelta(hours=2), **quiet
    )
    ExplainerFactory(headline="Glacier retreat draft", **quiet)
    withdrawn = publish(headline="Glacier retreat withdrawn", **quiet)
    Explainer.objects.filter(pk=withdrawn.pk).update(status=Explainer.Status.UNPUBLISHED)
    titles = related_titles(client, page)
    assert len(titles) == len(set(titles))
    assert page.headline not in titles
    assert {topical.headline, plain.headline} <= set(titles)
    assert not any("draft" in t or "withdrawn" in t for t in titles)


def test_related_of_a_topic_never_repeats_a_sibling_through_the_text(client, engine):
    """With a topic, siblings come first and the text adds none of them again."""
    topic = TopicFactory()
    now = timezone.now()
    page = publish(headline="Wildfire smoke alert", topic=topic, published_at=now)
    sibling = publish(
        headline="Wildfire smoke sibling", topic=topic, published_at=now - timedelta(hours=1)
    )
    other = publish(
        headline="Wildfire smoke elsewhere",
        topic=TopicFactory(),
        published_at=now - timedelta(hours=2),
    )
    titles = related_titles(client, page)
    assert titles == [sibling.headline, other.headline]


def test_related_after_a_due_edit_drops_the_topic(client, engine):
    """A scheduled edit that removes the topic, once due, fills by text, never with itself."""
    topic = TopicFactory()
    now = timezone.now().replace(microsecond=0)
    page = publish(
        headline="Harbour strike ends", topic=topic, published_at=now - timedelta(hours=3)
    )
    sibling = publish(headline="Dock workers", topic=topic, published_at=now - timedelta(hours=4))
    alike = publish(headline="Harbour strike talks", published_at=now - timedelta(hours=5))
    at = now + timedelta(minutes=10)
    schedule_edit(page, at=at, topic=None)
    assert related_titles(client, page)[0] == sibling.headline
    with time_machine.travel(at + timedelta(seconds=1), tick=False):
        titles = related_titles(client, page)
    assert page.headline not in titles
    assert alike.headline in titles
    assert sibling.headline not in titles


# --- Jinja2 renders' request state -------------------------------------------------------------


def test_the_request_state_key_cannot_be_spoofed_by_a_context(settings):
    """A context naming _newsroom_request_state does not choose the zone or prefix."""
    settings.TIME_ZONE = "UTC"
    when = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    template = engines["jinja2"].from_string(
        '{{ when|date("H:i T") }}|{{ url("explainers:list") }}'
    )
    fake = RequestState(ZoneInfo("Asia/Tokyo"), "/evil/", "no.such.urlconf")
    html = template.render({"when": when, STATE: fake})
    assert html == template.render({"when": when})
    assert "JST" not in html and "/evil/" not in html


def test_the_admin_preview_shows_dates_in_the_sites_zone(client, settings):
    """The preview renders the same Jinja2 template: dates in the site's zone, its banner."""
    settings.TIME_ZONE = "Asia/Tokyo"
    explainer = ExplainerFactory(
        published=True, published_at=datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    )
    explainer.headline = "Preview round nine headline"
    explainer.save()
    client.force_login(editor("round9-preview"))
    url = reverse("admin:explainers_explainer_preview", args=[explainer.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert "Preview: not published." in response.text
    assert "Preview round nine headline" in response.text
    assert "1 June 2026, 21:00 JST" in response.text
    client.logout()
    client.cookies.clear()
    public = client.get(explainer.get_absolute_url()).text
    assert "1 June 2026, 21:00 JST" in public
    assert "Preview round nine headline" not in public
