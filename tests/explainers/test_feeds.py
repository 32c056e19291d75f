from datetime import timedelta
from html.parser import HTMLParser

import feedparser
import pytest
from django.urls import reverse
from django.utils import timezone

from explainers import renditions, services
from explainers.feeds import AI_DISCLOSURE
from explainers.models import Notice, RenditionSet
from newsroom.site import absolute_url
from tests.explainers.admin_client import png
from tests.explainers.conftest import SECRET_WORDS
from tests.factories import ExplainerFactory, TopicFactory, editor

pytestmark = pytest.mark.django_db

FEED = reverse("explainers:feed")
ATOM = reverse("explainers:feed-atom")
CORRECTIONS = reverse("explainers:corrections-feed")


def parse(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, url
    feed = feedparser.parse(response.content)
    assert not feed.bozo, f"{url}: {feed.get('bozo_exception')}"
    return feed


class Paragraphs(HTMLParser):
    """What a reader app shows of an item's HTML: the text of each paragraph."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.paragraphs, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "p":
            self.paragraphs.append("")

    def handle_data(self, data):
        if not self.paragraphs:  # text outside any paragraph
            self.paragraphs.append("")
        self.paragraphs[-1] += data


def shown(html: str) -> tuple[list[str], list[str]]:
    """The paragraphs a reader app shows of ``html``, and the elements it holds."""
    parser = Paragraphs()
    parser.feed(html)
    return parser.paragraphs, parser.tags


TRICKY = "Officials said <script>alert(1)</script> & <img src=x> are words, not code."


@pytest.fixture
def rich(db):
    """A published AI explainer with a topic and a lead image, updated after publication."""
    explainer = ExplainerFactory(
        headline="Leaders agree to meet",
        whats_happening="Leaders met in Washington. They agreed to talk.",
        ai_generated=True,
        topic=TopicFactory(name="Diplomacy", slug="diplomacy"),
        image=png("lead.png", "red"),
        image_alt="Two leaders shake hands",
    )
    boss = editor()
    services.explainer_sign_off(explainer=explainer, user=boss)
    services.explainer_publish(explainer=explainer, user=boss)
    explainer.refresh_from_db()
    return explainer


@pytest.mark.parametrize("url", [FEED, ATOM])
def test_feed_item_is_complete(client, rich, url):
    """Each item has headline, absolute link, times, summary, topic, image and AI disclosure."""
    feed = parse(client, url)
    assert feed.feed.title == "Newsroom: latest explainers"
    (item,) = feed.entries
    assert item.title == "Leaders agree to meet"
    assert item.link == absolute_url(rich.get_absolute_url())
    assert item.published_parsed and item.updated_parsed
    assert "Leaders met in Washington. They agreed to talk." in item.summary
    assert "AI Generated Content" in item.summary
    assert [tag.term for tag in item.tags] == ["Diplomacy"]
    assert len(item.enclosures) == 1


@pytest.mark.parametrize("url", [FEED, ATOM])
def test_summary_reads_back_as_typed(client, url):
    """Markup-like words and "&" reach a feed reader as typed, paragraph by paragraph."""
    ExplainerFactory(
        published=True,
        ai_generated=False,
        whats_happening=f"{TRICKY}\n\nA second paragraph & more.",
    )
    (item,) = parse(client, url).entries
    paragraphs, tags = shown(item.summary)
    assert paragraphs == [TRICKY, "A second paragraph & more."]
    assert tags == ["p", "p"]


@pytest.mark.parametrize("url", [FEED, ATOM])
def test_ai_disclosure_is_a_paragraph_of_its_own(client, rich, url):
    """The AI disclosure follows the summary as its own paragraph."""
    paragraphs, _ = shown(parse(client, url).entries[0].summary)
    assert paragraphs == ["Leaders met in Washington. They agreed to talk.", AI_DISCLOSURE]


def test_correction_reads_back_as_typed(client, rich):
    """A correction's text reaches a feed reader as typed."""
    services.notice_add(explainer=rich, user=editor(), kind=Notice.Kind.CORRECTION, text=TRICKY)
    (item,) = parse(client, CORRECTIONS).entries
    assert shown(item.summary) == ([TRICKY], ["p"])


@pytest.mark.parametrize("url", [FEED, ATOM])
def test_enclosure_is_a_rendition_never_the_original(client, rich, url, media_root):
    """The item's image is the 16:9 rendition, with its true length and type."""
    (enclosure,) = parse(client, url).entries[0].enclosures
    crop = next(f for f in RenditionSet.objects.get().files if f["kind"] == "16x9")
    assert enclosure.href == absolute_url(renditions.storage().url(crop["name"]))
    assert enclosure.href != absolute_url(rich.lead_image.url)
    assert enclosure.type == "image/jpeg"
    assert int(enclosure.length) == (media_root / crop["name"]).stat().st_size


def test_enclosure_length_of_a_set_made_before_sizes_were_kept(client, rich, media_root):
    """A rendition set without recorded sizes gives the file's size from storage."""
    rendition_set = RenditionSet.objects.get()
    for item in rendition_set.files:
        del item["bytes"]
    rendition_set.save()
    (enclosure,) = parse(client, FEED).entries[0].enclosures
    crop = next(f for f in rendition_set.files if f["kind"] == "16x9")
    assert int(enclosure.length) == (media_root / crop["name"]).stat().st_size


@pytest.mark.parametrize("url", [FEED, ATOM])
def test_headline_reads_back_as_typed(client, url):
    """A headline with "<", ">" and "&" reaches a feed reader as typed."""
    headline = "Why <script> & <img src=x> still matter to AT&T"
    ExplainerFactory(published=True, headline=headline)
    assert parse(client, url).entries[0].title == headline


def test_enclosure_waits_for_renditions(client, rich):
    """Without renditions an item has no image rather than the original upload."""
    RenditionSet.objects.all().delete()
    assert parse(client, FEED).entries[0].enclosures == []


def test_feed_image_query_is_one_for_all_items(client, rich, django_assert_max_num_queries):
    """The items' images are looked up in one query, however many items have one."""
    for n in range(3):
        explainer = ExplainerFactory(
            image=png(f"more{n}.png", "blue"), image_alt="A blue square", ai_generated=False
        )
        services.explainer_publish(explainer=explainer, user=editor())
    with django_assert_max_num_queries(3):
        assert all(e.enclosures for e in parse(client, FEED).entries)


def test_rss_is_rss2_and_atom_is_atom(client, rich):
    """/feed/ is RSS 2.0 and /feed/atom/ is Atom 1.0."""
    assert parse(client, FEED).version == "rss20"
    assert parse(client, ATOM).version == "atom10"


def test_human_text_has_no_ai_disclosure(client):
    """Text written by people carries no AI disclosure."""
    ExplainerFactory(published=True, ai_generated=False)
    assert "AI Generated" not in parse(client, FEED).entries[0].summary


def test_feed_holds_the_twenty_newest(client):
    """The feed lists the 20 newest explainers, newest first."""
    now = timezone.now()
    made = [
        ExplainerFactory(published=True, published_at=now - timedelta(hours=n)) for n in range(22)
    ]
    titles = [entry.title for entry in parse(client, FEED).entries]
    assert titles == [e.headline for e in made[:20]]


def test_topic_feed_lists_only_that_topic(client, rich):
    """/topics/<slug>/feed/ lists only that topic's explainers; an unknown topic is 404."""
    ExplainerFactory(published=True, headline="Elsewhere", topic=TopicFactory())
    feed = parse(client, reverse("explainers:topic-feed", kwargs={"slug": "diplomacy"}))
    assert [e.title for e in feed.entries] == ["Leaders agree to meet"]
    assert feed.feed.title == "Newsroom: Diplomacy"
    assert client.get(reverse("explainers:topic-feed", kwargs={"slug": "nope"})).status_code == 404


def test_corrections_feed(client, rich):
    """/corrections/feed/ lists visible corrections of published explainers."""
    services.notice_add(
        explainer=rich, user=editor(), kind=Notice.Kind.CORRECTION, text="The date was wrong."
    )
    services.notice_add(
        explainer=rich, user=editor(), kind=Notice.Kind.UPDATE, text="Talks resumed."
    )
    (item,) = parse(client, CORRECTIONS).entries
    assert item.title == "Correction: Leaders agree to meet"
    assert shown(item.summary) == (["The date was wrong."], ["p"])
    assert item.link == absolute_url(rich.get_absolute_url())


def test_feeds_use_the_site_address_not_the_host(client, rich, settings):
    """Every link names NEWSROOM_SITE_URL whatever Host the request sent."""
    settings.ALLOWED_HOSTS = ["*"]
    body = client.get(FEED, HTTP_HOST="evil.example").content.decode()
    assert "evil.example" not in body
    assert absolute_url(FEED) in body


def test_feeds_never_show_what_readers_may_not_see(client, unseen):
    """Drafts, scheduled, expired, archived and pending text never reach a feed."""
    services.notice_add(explainer=unseen, user=editor(), kind="correction", text="Fixed.")
    urls = [FEED, ATOM, CORRECTIONS, reverse("explainers:topic-feed", args=["approved-topic"])]
    for url in urls:
        body = client.get(url).content.decode().lower()
        for word in SECRET_WORDS:
            assert word not in body, (url, word)
    assert {e.title for e in parse(client, FEED).entries} == {
        "Scheduled host security talks",
        "Approved headline security talks",
    }
    assert client.get(reverse("explainers:topic-feed", args=["topic-quokka"])).status_code == 404


def test_every_page_advertises_its_feeds(client, rich):
    """Pages link their feeds with <link rel="alternate">; topic and corrections pages theirs."""
    html = client.get(rich.get_absolute_url()).text
    rss = 'type="application/rss+xml" title="Newsroom: latest explainers"'
    assert f'<link rel="alternate" {rss} href="{FEED}">' in html
    atom = 'type="application/atom+xml" title="Newsroom: latest explainers (Atom)"'
    assert f'<link rel="alternate" {atom} href="{ATOM}">' in html
    topic_html = client.get(reverse("explainers:topic", args=["diplomacy"])).text
    assert 'href="/topics/diplomacy/feed/"' in topic_html
    assert f'href="{CORRECTIONS}"' in client.get(reverse("explainers:corrections")).text


def test_feeds_are_cached_and_tagged(client, rich, django_assert_max_num_queries):
    """Feeds are public, kept in the page cache and tagged "feeds"."""
    first = client.get(FEED)
    assert "public" in first["Cache-Control"]
    assert {"feeds", f"explainer-{rich.pk}"} <= set(first["Surrogate-Key"].split())
    with django_assert_max_num_queries(0):
        assert client.get(FEED).content == first.content


def test_control_characters_in_the_text_never_break_a_feed(client):
    """A vertical tab (a word processor's line break, pasted) or another control character XML
    cannot carry, in a headline, text, topic or notice, is sent as a space: never a 500."""
    topic = TopicFactory(name="Trade\x0bpolicy", slug="trade-policy")
    explainer = ExplainerFactory(
        published=True,
        topic=topic,
        headline="Ports\x0breopen",
        whats_happening="Ships\x0bmove again.\x0c\n\nCranes\x1f are back.",
    )
    services.notice_add(
        explainer=explainer, user=editor(), kind=Notice.Kind.CORRECTION, text="Fixed\x0ba date."
    )
    topic_feed = reverse("explainers:topic-feed", args=[topic.slug])
    for url in (FEED, ATOM, CORRECTIONS, topic_feed):
        feed = parse(client, url)
        assert "\x0b" not in feed.entries[0].title
    assert parse(client, FEED).entries[0].title == "Ports reopen"
