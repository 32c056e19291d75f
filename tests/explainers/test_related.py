"""The related list under an explainer: its topic's siblings first, then close text."""

import re
from datetime import timedelta
from html import unescape

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from explainers.models import Explainer
from tests.explainers.related_helpers import publish, related_titles, schedule_edit
from tests.factories import ExplainerFactory, TopicFactory

pytestmark = pytest.mark.django_db


def test_a_new_explainer_close_by_text_joins_a_kept_related_list(client):
    """A list filled by text (no sibling in the topic) takes in a new close explainer at once."""
    explainer = publish(topic=None, headline="Glacier melt speeds up")
    assert related_titles(client, explainer) == []
    publish(topic=TopicFactory(), headline="Glacier melt in the Alps")
    assert related_titles(client, explainer) == ["Glacier melt in the Alps"]


def test_related_ties_break_as_the_search_does(client, engine):
    """Equal text and equal times: the related list is the search's first three, in order."""
    when = timezone.now() - timedelta(hours=1)
    page = publish(headline="Lighthouse keeper retires", published_at=when)
    for n in range(5):
        publish(
            headline=f"Lighthouse keeper retires {'!' * (n + 1)}",
            whats_happening="Lighthouse keeper retires.",
            published_at=when,
        )
    titles = related_titles(client, page)
    response = client.get(reverse("explainers:search"), {"q": "lighthouse or keeper or retires"})
    searched = [
        unescape(t)
        for t in re.findall(r'class="card-title"><a href="[^"]+">([^<]+)</a>', response.text)
    ]
    searched = [t for t in searched if t != page.headline]
    assert len(titles) == 3 == len(set(titles))
    assert titles == searched[:3]


def test_related_by_text_never_takes_what_readers_may_not_see(client, engine):
    """Scheduled, expired, unpublished and pending-only matches stay out; so does the page."""
    now = timezone.now()
    quiet = {"whats_happening": "Nothing.", "why_its_important": "-", "whats_next": "-"}
    page = publish(headline="Volcano plume grounds flights", **quiet)
    later = publish(headline="Volcano plume scheduled", **quiet)
    Explainer.objects.filter(pk=later.pk).update(published_at=now + timedelta(days=1))
    gone = publish(headline="Volcano plume expired", **quiet)
    Explainer.objects.filter(pk=gone.pk).update(
        published_at=now - timedelta(days=2), expires_at=now - timedelta(minutes=1)
    )
    withdrawn = publish(headline="Volcano plume withdrawn", **quiet)
    Explainer.objects.filter(pk=withdrawn.pk).update(status=Explainer.Status.UNPUBLISHED)
    pending = publish(headline="Harbour report", **quiet)
    pending.headline = "Volcano plume pending edit"
    pending.save()
    ExplainerFactory(headline="Volcano plume draft", **quiet)
    shown = publish(headline="Volcano plume visible", **quiet)
    titles = related_titles(client, page)
    assert titles == [shown.headline]


def test_related_by_text_fills_after_the_topic_without_repeats(client, engine):
    """Topic siblings first; text fills the rest with others, none twice, never the page."""
    topic = TopicFactory()
    now = timezone.now()
    page = publish(headline="Drought hits farms", topic=topic, published_at=now)
    sibling = publish(headline="Rain returns", topic=topic, published_at=now - timedelta(hours=1))
    others = [
        publish(
            headline=f"Drought hits farms {n}",
            topic=TopicFactory(),
            published_at=now - timedelta(hours=2 + n),
        )
        for n in range(4)
    ]
    titles = related_titles(client, page)
    assert titles[0] == sibling.headline
    assert len(titles) == 3 == len(set(titles))
    assert page.headline not in titles
    assert set(titles[1:]) <= {o.headline for o in others}


def test_related_text_list_of_a_page_without_topic_still_fills(client, engine):
    """A page with no topic gets text matches that have no topic either."""
    now = timezone.now()
    page = publish(headline="Bridge collapse inquiry", published_at=now)
    alike = publish(headline="Bridge collapse report", published_at=now - timedelta(hours=1))
    assert alike.headline in related_titles(client, page)


def test_related_list_drops_an_explainer_whose_expiry_came(client, engine):
    """An explainer in the related list leaves it when its expiry comes (no stale cache)."""
    now = timezone.now()
    page = publish(headline="Tunnel flooding closes line")
    going = publish(headline="Tunnel flooding continues", published_at=now - timedelta(hours=1))
    Explainer.objects.filter(pk=going.pk).update(expires_at=now + timedelta(minutes=5))
    assert going.headline in related_titles(client, page)
    with time_machine.travel(now + timedelta(minutes=6), tick=False):
        assert going.headline not in related_titles(client, page)


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
