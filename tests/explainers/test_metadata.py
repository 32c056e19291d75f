import json
import unicodedata
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import Truncator

from explainers import services, structured_data
from explainers.models import Notice
from explainers.structured_data import AI_REVIEWED_SOURCE_TYPE
from newsroom.site import absolute_url
from tests.explainers.admin_client import png
from tests.explainers.conftest import SECRET_WORDS
from tests.factories import ExplainerFactory, TopicFactory, UserFactory, editor

pytestmark = pytest.mark.django_db


class Metadata(HTMLParser):
    """What crawlers read from a page: <meta>, <link> and JSON-LD blocks."""

    def __init__(self, html: str):
        super().__init__()
        self.meta: dict[str, list[str]] = {}
        self.links: list[dict] = []
        self.json_ld: list[dict] = []
        self.times: list[str] = []  # the datetime of every <time> element
        self._in_json = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and ("property" in attrs or "name" in attrs):
            key = attrs.get("property") or attrs["name"]
            self.meta.setdefault(key, []).append(attrs.get("content"))
        elif tag == "link":
            self.links.append(attrs)
        elif tag == "script" and attrs.get("type") == "application/ld+json":
            self._in_json = True
        elif tag == "time" and "datetime" in attrs:
            self.times.append(attrs["datetime"])

    def handle_data(self, data):
        if self._in_json:
            self.json_ld.append(json.loads(data))

    def handle_endtag(self, tag):
        self._in_json = False

    def one(self, key: str) -> str:
        (value,) = self.meta[key]
        return value


@pytest.fixture
def article(db):
    """A published, signed-off AI explainer with topic, image and a correction."""
    explainer = ExplainerFactory(
        headline="Leaders agree to meet in Geneva",
        whats_happening="Leaders met in Washington. They agreed to talk.",
        ai_generated=True,
        topic=TopicFactory(name="Diplomacy"),
        image=png("lead.png", "red"),
        image_alt="Two leaders shake hands",
    )
    boss = editor()
    services.explainer_sign_off(explainer=explainer, user=boss)
    services.explainer_publish(explainer=explainer, user=boss)
    services.notice_add(explainer=explainer, user=boss, kind="correction", text="Date fixed.")
    explainer.refresh_from_db()
    return explainer


def test_open_graph_is_complete(client, article):
    """og:type, title, description, url, image (size, alt), times and section are all there."""
    meta = Metadata(client.get(article.get_absolute_url()).text)
    url = absolute_url(article.get_absolute_url())
    assert meta.one("og:type") == "article"
    assert meta.one("og:site_name") == "Newsroom"
    assert meta.one("og:title") == "Leaders agree to meet in Geneva"
    assert meta.one("og:description") == "Leaders met in Washington."
    assert meta.one("og:url") == url
    # The 16:9 crop of the lead image, with its size.
    assert meta.one("og:image").startswith(absolute_url("/media/renditions/"))
    assert meta.one("og:image").endswith(".jpg")
    width, height = int(meta.one("og:image:width")), int(meta.one("og:image:height"))
    assert abs(width / height - 16 / 9) < 0.05
    assert meta.one("og:image:alt") == "Two leaders shake hands"
    assert parse_datetime(meta.one("article:published_time")) == article.published_at
    # Its correction came with publishing (within the grace): no update to show.
    assert parse_datetime(meta.one("article:modified_time")) == article.published_at
    assert meta.one("article:section") == "Diplomacy"


def test_twitter_card(client, article):
    """A page with an image is a summary_large_image card; one without, a summary card."""
    meta = Metadata(client.get(article.get_absolute_url()).text)
    assert meta.one("twitter:card") == "summary_large_image"
    assert meta.one("twitter:image") == meta.one("og:image")
    assert meta.one("twitter:image:alt") == "Two leaders shake hands"
    plain = ExplainerFactory(published=True)
    meta = Metadata(client.get(plain.get_absolute_url()).text)
    assert meta.one("twitter:card") == "summary"
    assert "og:image" not in meta.meta


@pytest.mark.parametrize("name", ["explainers:list", "explainers:topics", "explainers:corrections"])
def test_public_pages_allow_large_image_previews(client, article, name):
    """Public pages carry robots max-image-preview:large."""
    assert Metadata(client.get(reverse(name)).text).one("robots") == "max-image-preview:large"


def test_article_page_allows_large_image_previews(client, article):
    """The explainer page carries it too; a preview says noindex instead."""
    meta = Metadata(client.get(article.get_absolute_url()).text)
    assert meta.one("robots") == "max-image-preview:large"


def test_json_ld_is_complete(client, article, settings):
    """NewsArticle: headline, images, dates with zone, author, publisher, page, free, AI, fix."""
    settings.PUBLISHER_LOGO_URL = "https://cdn.example/logo.png"
    (data,) = Metadata(client.get(article.get_absolute_url()).text).json_ld
    url = absolute_url(article.get_absolute_url())
    assert data["@type"] == "NewsArticle"
    assert data["headline"] == "Leaders agree to meet in Geneva"
    # The 16:9, 4:3 and 1:1 crops as ImageObjects.
    assert [image["@type"] for image in data["image"]] == ["ImageObject"] * 3
    assert all(image["url"].startswith(absolute_url("/media/")) for image in data["image"])
    for key in ("datePublished", "dateModified"):
        assert parse_datetime(data[key]).tzinfo is not None, key
    published = parse_datetime(data["datePublished"])
    assert abs(published - article.published_at).total_seconds() < 0.001
    publisher = data["publisher"]
    assert publisher["name"] == "Newsroom"
    assert publisher["url"] == settings.SITE_URL
    assert publisher["logo"]["url"] == "https://cdn.example/logo.png"
    assert data["author"]["@type"] == publisher["@type"]
    assert data["author"]["name"] == "Newsroom"
    assert data["mainEntityOfPage"] == url
    assert data["isAccessibleForFree"] is True
    assert data["digitalSourceType"] == AI_REVIEWED_SOURCE_TYPE
    assert [c["text"] for c in data["correction"]] == ["Date fixed."]


def test_json_ld_section_and_subject_are_the_topic(client, article):
    """articleSection names the topic, and about is a Thing of that name."""
    (data,) = Metadata(client.get(article.get_absolute_url()).text).json_ld
    assert data["articleSection"] == "Diplomacy"
    assert data["about"] == {"@type": "Thing", "name": "Diplomacy"}


def test_json_ld_without_topic_has_no_section_or_subject(client):
    """Without a topic there is no articleSection and no about."""
    explainer = ExplainerFactory(published=True, topic=None)
    (data,) = Metadata(client.get(explainer.get_absolute_url()).text).json_ld
    assert "articleSection" not in data and "about" not in data


def to_second(value: str):
    # JSON-LD gives milliseconds, the page's <time> elements microseconds.
    return parse_datetime(value).replace(microsecond=0)


def shown_dates(html: str) -> tuple[set, dict, object]:
    """The page's <time> datetimes, its JSON-LD dates and article:modified_time (None in a
    preview, which has no share tags), each to the second."""
    meta = Metadata(html)
    (data,) = meta.json_ld
    times = {to_second(value) for value in meta.times}
    dates = {key: to_second(data[key]) for key in ("datePublished", "dateModified")}
    share = meta.meta.get("article:modified_time")
    return times, dates, to_second(share[0]) if share else None


@pytest.mark.parametrize(
    ("age", "updated"), [(timedelta(minutes=3), False), (timedelta(days=2), True)]
)
def test_modification_date_is_one_the_page_shows(client, age, updated):
    """dateModified and article:modified_time are dates the page shows: "Updated <time>" once
    the last change came after publishing, the publication date when it came with it."""
    explainer = ExplainerFactory(published=True, published_at=timezone.now() - age)
    services.notice_add(explainer=explainer, user=editor(), kind="update", text="Talks resumed.")
    html = client.get(explainer.get_absolute_url()).text
    times, dates, share_modified = shown_dates(html)
    assert dates["dateModified"] in times and share_modified == dates["dateModified"]
    assert ("Updated <time" in html) == updated
    assert (dates["dateModified"] > dates["datePublished"]) == updated


def test_preview_dates_the_update_as_the_page_does(client):
    """A preview of an updated explainer shows the same Updated date its JSON-LD gives."""
    explainer = ExplainerFactory(published=True, published_at=timezone.now() - timedelta(days=2))
    services.notice_add(explainer=explainer, user=editor(), kind="update", text="Talks resumed.")
    _, token = services.preview_link_create(explainer=explainer, user=editor(), days=7)
    html = client.get(reverse("explainers:preview", args=[token])).text
    times, dates, _ = shown_dates(html)
    assert "Updated <time" in html and dates["dateModified"] in times


def test_json_ld_headline_is_at_most_110_characters(client):
    """A long headline is cut to 110 characters in JSON-LD (the page shows it whole)."""
    explainer = ExplainerFactory(published=True, headline="word " * 39)
    (data,) = Metadata(client.get(explainer.get_absolute_url()).text).json_ld
    assert len(data["headline"]) <= 110


def test_default_publisher_logo_exists(client, article):
    """Without a configured logo, the publisher's logo is the site's own PNG, which exists."""
    (data,) = Metadata(client.get(article.get_absolute_url()).text).json_ld
    logo = data["publisher"]["logo"]["url"]
    assert logo.startswith(absolute_url("/static/"))
    assert finders.find(logo.removeprefix(absolute_url("/static/")))


def test_metadata_never_shows_a_pending_edit(client, unseen):
    """Head metadata and JSON-LD describe the approved version, never the pending edit."""
    html = client.get(unseen.get_absolute_url()).text.lower()
    for word in SECRET_WORDS:
        assert word not in html, word
    meta = Metadata(client.get(unseen.get_absolute_url()).text)
    assert meta.one("og:title") == "Approved headline security talks"
    assert meta.one("article:section") == "Approved topic"


def test_manifest_names_the_site_and_its_icons_exist(client, settings):
    """Pages link a web app manifest with the site's name; every icon it names exists."""
    settings.SITE_NAME = "Daily Explainer"
    html = client.get("/").text
    links = {link["rel"]: link["href"] for link in Metadata(html).links}
    response = client.get(links["manifest"])
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = response.json()
    assert manifest["name"] == "Daily Explainer"
    assert manifest["start_url"] == "/"
    for icon in manifest["icons"]:
        assert finders.find(icon["src"].removeprefix("/static/")), icon
    assert finders.find(links["icon"].removeprefix("/static/"))


def test_correction_is_in_json_ld_only_once_visible(client, article):
    """A hidden correction leaves the JSON-LD."""
    notice = Notice.objects.get(explainer=article)
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    services.notice_hide(notice=notice, user=root, reason="Duplicate")
    (data,) = Metadata(client.get(article.get_absolute_url()).text).json_ld
    assert "correction" not in data


def test_json_ld_headline_of_a_short_decomposed_headline_is_as_before(client):
    """The JSON-LD headline is Truncator's NFC text as before, not the raw decomposed one."""
    headline = "Cafe\u0301 owners protest the new rules"
    explainer = ExplainerFactory(published=True, headline=headline)
    (data,) = Metadata(client.get(explainer.get_absolute_url()).text).json_ld
    assert (
        data["headline"]
        == unicodedata.normalize("NFC", headline)
        == "Café owners protest the new rules"
    )


@pytest.mark.parametrize("length", [109, 110, 111, 150])
def test_json_ld_headline_near_the_limit_is_as_before(client, length):
    """Around 110 characters, the JSON-LD headline is what Truncator always gave."""
    headline = ("Glacier melt " * 20)[: length - 1] + "x"
    explainer = ExplainerFactory(published=True, headline=headline)
    (data,) = Metadata(client.get(explainer.get_absolute_url()).text).json_ld
    assert data["headline"] == Truncator(headline).chars(structured_data.HEADLINE_MAX)
    assert len(data["headline"]) <= structured_data.HEADLINE_MAX


def test_a_preview_shows_the_working_copy_sections_and_summary(client):
    """render_preview gets its sections and JSON-LD description from the working copy."""
    explainer = ExplainerFactory(
        whats_happening="Draft news first. Then more.\n\nDraft second paragraph.",
        whats_next="Draft outlook.",
    )
    _, token = services.preview_link_create(explainer=explainer, user=editor(), days=7)
    html = client.get(reverse("explainers:preview", args=[token])).text
    assert "<p>Draft second paragraph.</p>" in html and "<p>Draft outlook.</p>" in html
    (data,) = Metadata(html).json_ld
    assert data["description"] == "Draft news first."
    assert "articleSection" not in data  # the draft has no topic


def test_the_publisher_follows_a_settings_change(settings):
    """The publisher worked out once per process is worked out again when settings change."""
    assert structured_data.publisher()["name"] == settings.SITE_NAME
    settings.SITE_NAME = "Daily Explainer"
    settings.PUBLISHER_LOGO_URL = "https://cdn.example/other-logo.png"
    organization = structured_data.publisher()
    assert organization["name"] == "Daily Explainer"
    assert organization["logo"]["url"] == "https://cdn.example/other-logo.png"


def test_a_caller_changing_its_publisher_changes_no_other_page():
    """publisher() gives each caller a dict of its own: the kept values cannot be changed."""
    structured_data.publisher()["logo"]["url"] = "https://evil.example/logo.png"
    assert structured_data.publisher()["logo"]["url"] != "https://evil.example/logo.png"


def test_json_ld_cannot_close_its_script_element(client):
    """A headline with </script> and <!-- stays inside the JSON-LD string."""
    explainer = ExplainerFactory(
        published=True, headline="Talks </script><script>alert(1)</script><!-- end"
    )
    html = client.get(explainer.get_absolute_url()).text
    script = html[html.index('<script type="application/ld+json">') :]
    script = script[: script.index("</script>")]
    assert "<" not in script[len('<script type="application/ld+json">') :]
    (data,) = Metadata(html).json_ld
    assert data["headline"] == "Talks </script><script>alert(1)</script><!-- end"
