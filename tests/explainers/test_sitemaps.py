import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from explainers import services
from newsroom.site import absolute_url
from tests.explainers.conftest import SECRET_WORDS
from tests.factories import ExplainerFactory, TopicFactory, editor

pytestmark = pytest.mark.django_db

NS = {
    "sm": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "news": "http://www.google.com/schemas/sitemap-news/0.9",
}


def xml(client, url: str) -> ET.Element:
    response = client.get(url)
    assert response.status_code == 200, url
    assert response["Content-Type"].startswith("application/xml")
    return ET.fromstring(response.content)


def urls(root: ET.Element) -> dict[str, str | None]:
    return {
        u.findtext("sm:loc", namespaces=NS): u.findtext("sm:lastmod", namespaces=NS)
        for u in root.findall("sm:url", NS)
    }


def all_sitemap_urls(client) -> dict[str, str | None]:
    index = xml(client, "/sitemap.xml")
    found = {}
    for loc in index.findall("sm:sitemap/sm:loc", NS):
        path = loc.text.removeprefix(absolute_url(""))
        found.update(urls(xml(client, "/" + path.lstrip("/"))))
    return found


def test_index_lists_explainers_topics_and_pages(client):
    """/sitemap.xml is an index of the explainers', topics' and pages' sitemaps."""
    explainer = ExplainerFactory(published=True, topic=TopicFactory(slug="diplomacy"))
    index = xml(client, "/sitemap.xml")
    locs = [loc.text for loc in index.findall("sm:sitemap/sm:loc", NS)]
    assert locs == [
        absolute_url("/sitemap-explainers.xml"),
        absolute_url("/sitemap-topics.xml"),
        absolute_url("/sitemap-pages.xml"),
    ]
    found = all_sitemap_urls(client)
    assert absolute_url(explainer.get_absolute_url()) in found
    assert absolute_url("/topics/diplomacy/") in found
    assert absolute_url("/") in found


def test_explainer_lastmod_is_the_last_public_change(client):
    """An explainer's lastmod moves with a published edit, not with a pending one."""
    explainer = ExplainerFactory()
    boss = editor()
    services.explainer_publish(explainer=explainer, user=boss)
    explainer.refresh_from_db()
    url = absolute_url(explainer.get_absolute_url())
    first = parse_datetime(urls(xml(client, "/sitemap-explainers.xml"))[url])
    assert abs(first - explainer.reader_updated_at) < timedelta(seconds=1)
    explainer.headline = "Edited"
    explainer.save()
    assert parse_datetime(urls(xml(client, "/sitemap-explainers.xml"))[url]) == first
    later = timezone.now() + timedelta(minutes=10)
    with time_machine.travel(later):
        services.explainer_publish(explainer=explainer, user=boss)
        newer = parse_datetime(urls(xml(client, "/sitemap-explainers.xml"))[url])
    assert newer > first


def test_news_sitemap_lists_the_last_48_hours(client, settings):
    """/news-sitemap.xml lists explainers first published in the last 48 hours, with news tags."""
    settings.SITE_NAME = "Daily Explainer"
    settings.SITE_LANGUAGE = "en"
    fresh = ExplainerFactory(published=True, headline="Fresh & new")
    ExplainerFactory(published=True, published_at=timezone.now() - timedelta(hours=49))
    root = xml(client, reverse("explainers:news-sitemap"))
    (url,) = root.findall("sm:url", NS)
    assert url.findtext("sm:loc", namespaces=NS) == absolute_url(fresh.get_absolute_url())
    news = url.find("news:news", NS)
    assert news.findtext("news:publication/news:name", namespaces=NS) == "Daily Explainer"
    assert news.findtext("news:publication/news:language", namespaces=NS) == "en"
    assert news.findtext("news:title", namespaces=NS) == "Fresh & new"
    published = parse_datetime(news.findtext("news:publication_date", namespaces=NS))
    assert published.tzinfo is not None
    assert abs(published - fresh.published_at) < timedelta(seconds=1)


def test_robots_txt(client):
    """robots.txt allows the site, keeps crawlers out of admin and previews, names sitemaps."""
    response = client.get("/robots.txt")
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.text.splitlines()
    assert "Allow: /" in lines
    assert {"Disallow: /admin/", "Disallow: /preview/"} <= set(lines)
    assert f"Sitemap: {absolute_url('/sitemap.xml')}" in lines
    assert f"Sitemap: {absolute_url('/news-sitemap.xml')}" in lines


def test_sitemaps_use_the_site_address_not_the_host(client, settings):
    """Every address in the sitemaps names NEWSROOM_SITE_URL, whatever Host was sent."""
    settings.ALLOWED_HOSTS = ["*"]
    settings.SITE_URL = "https://news.example.com"
    ExplainerFactory(published=True, topic=TopicFactory())
    for url in ["/sitemap.xml", "/sitemap-explainers.xml", "/sitemap-topics.xml", "/robots.txt"]:
        body = client.get(url, HTTP_HOST="evil.example:8080").content.decode()
        assert "evil.example" not in body and "https://news.example.com/" in body, url


def test_sitemaps_never_show_what_readers_may_not_see(client, unseen):
    """Drafts, scheduled, expired, archived and pending slugs or topics are in no sitemap."""
    bodies = [
        client.get(url).content.decode().lower()
        for url in [
            "/sitemap.xml",
            "/sitemap-explainers.xml",
            "/sitemap-topics.xml",
            "/sitemap-pages.xml",
            "/news-sitemap.xml",
        ]
    ]
    for word in SECRET_WORDS:
        for body in bodies:
            assert word not in body, word
    assert "approved-security-talks" in bodies[1]


def test_bad_sitemap_requests_are_404(client):
    """An unknown section or page answers 404, never 500."""
    ExplainerFactory(published=True)
    assert client.get("/sitemap-nope.xml").status_code == 404
    assert client.get("/sitemap-explainers.xml", {"p": 9}).status_code == 404
    assert client.get("/sitemap-explainers.xml", {"p": "x"}).status_code == 404
    assert client.get("/sitemap-explainers.xml", {"p": "02"}).status_code == 301


def test_sitemap_queries_do_not_grow(client, django_assert_max_num_queries):
    """The explainers' sitemap makes a fixed number of queries however many explainers."""
    for _n in range(30):
        ExplainerFactory(published=True, topic=TopicFactory())
    with django_assert_max_num_queries(3):
        assert client.get("/sitemap-explainers.xml").status_code == 200
    with django_assert_max_num_queries(6):
        assert client.get("/sitemap.xml").status_code == 200


def test_a_control_character_in_a_headline_leaves_the_news_sitemap_valid_xml(client):
    """A vertical tab pasted into a headline is sent as a space: the sitemap still parses."""
    ExplainerFactory(published=True, headline="Ports\x0breopen")
    root = xml(client, reverse("explainers:news-sitemap"))
    assert root.findtext("sm:url/news:news/news:title", namespaces=NS) == "Ports reopen"
