import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from explainers import renditions, services
from explainers.models import Explainer, RenditionSet
from newsroom.site import absolute_url
from tests.explainers import image_files as files
from tests.explainers.admin_client import png
from tests.explainers.related_helpers import publish, schedule_edit
from tests.explainers.test_metadata import Metadata
from tests.explainers.test_public_record import json_ld
from tests.factories import ExplainerFactory, SourceFactory, TopicFactory, editor
from tests.http import forget_page

pytestmark = pytest.mark.django_db

HOME = reverse("explainers:list")


def test_home_lists_published_newest_first(client):
    """The home page lists published explainers, newest first."""
    now = timezone.now()
    older = ExplainerFactory(published=True, published_at=now - timedelta(days=2))
    newer = ExplainerFactory(published=True, published_at=now - timedelta(days=1))
    response = client.get(HOME)
    assert response.status_code == 200
    assert list(response.context["explainers"]) == [newer, older]


def test_home_never_shows_drafts(client, draft_explainer):
    """A draft's headline never appears on the home page."""
    response = client.get(HOME)
    assert draft_explainer.headline not in response.text
    assert "No explainers have been published yet." in response.text


def test_home_shows_summary_time_and_topic(client):
    """Each item shows its headline link, first sentence, time and topic."""
    explainer = ExplainerFactory(published=True, topic=TopicFactory(name="Diplomacy"))
    html = client.get(HOME).text
    assert f'href="{explainer.get_absolute_url()}"' in html
    assert "Leaders met in Washington." in html
    assert "They agreed to talk." not in html
    assert "Diplomacy" in html
    assert f'datetime="{explainer.published_at.isoformat()}"' in html


def test_home_pages_by_twenty(client):
    """Twenty explainers a page, with a link to older ones."""
    ExplainerFactory.create_batch(21, published=True)
    first = client.get(HOME)
    assert len(first.context["explainers"]) == 20
    assert 'rel="next"' in first.text
    assert len(client.get(HOME, {"page": 2}).context["explainers"]) == 1


def test_home_page_out_of_range_is_404(client):
    """A page number past the end, or not a number, answers 404."""
    assert client.get(HOME, {"page": 99}).status_code == 404
    assert client.get(HOME, {"page": "x"}).status_code == 404


def test_home_query_count_does_not_grow(client, django_assert_max_num_queries):
    """The home page makes at most 4 queries however many explainers and topics exist."""
    for _ in range(25):
        ExplainerFactory(published=True, topic=TopicFactory())
    with django_assert_max_num_queries(4):
        assert client.get(HOME).status_code == 200


def published_with_image(alt="Envoys at a table", **fields):
    """An explainer an editor published with a small lead image, its renditions made."""
    explainer = ExplainerFactory(image=files.photo_upload((640, 360)), image_alt=alt, **fields)
    services.explainer_publish(explainer=explainer, user=editor())
    return explainer


def section(html: str, start: str, end: str) -> str:
    begin = html.index(start)
    return html[begin : html.index(end, begin)]


def test_home_leads_with_the_newest_and_its_picture(client):
    """The newest explainer leads the home page with its picture: renditions in a srcset,
    its size, the image's description as alt text, fetched first."""
    ExplainerFactory(published=True, headline="Older without a picture")
    lead = published_with_image(headline="Newest with a picture", alt="Delegates in a hall")
    html = client.get(HOME).text
    story = section(html, '<article class="lead-story">', "</article>")
    assert '<h2 class="lead-story-title"><a href="' + lead.get_absolute_url() in story
    img = re.search(r"<img [^>]+>", story).group(0)
    assert re.search(r'srcset="[^"]+/w-640\.jpg 640w"', img)
    assert '<source type="image/webp" srcset="' in story
    assert 'width="640" height="360"' in img
    assert 'alt="Delegates in a hall"' in img
    assert 'fetchpriority="high"' in img and "lazy" not in img
    cards = section(html, '<div class="cards">', "</main>")
    assert "Older without a picture" in cards and "Newest with a picture" not in cards


def test_home_cards_show_small_pictures_where_they_exist(client):
    """After the lead, each card shows its picture small and lazily, and a card without one
    none; an image whose renditions are not made yet is not shown (never the large original)."""
    published_with_image(headline="Card with a picture", alt="A harbour")
    waiting = published_with_image(headline="Card still waiting")
    RenditionSet.objects.filter(explainer=waiting).delete()
    ExplainerFactory(published=True, headline="Card without a picture")
    published_with_image(headline="The lead")
    cards = section(client.get(HOME).text, '<div class="cards">', "</main>")
    articles = {
        re.search(r'class="card-title"><a [^>]+>([^<]+)<', a).group(1): a
        for a in re.findall(r"<article .*?</article>", cards, re.S)
    }
    assert set(articles) == {"Card with a picture", "Card still waiting", "Card without a picture"}
    picture = articles["Card with a picture"]
    assert 'class="card card-with-image"' in picture
    assert 'alt="A harbour"' in picture and 'loading="lazy"' in picture
    assert re.search(r'<img [^>]*width="640" height="360"', picture)
    for name in ("Card still waiting", "Card without a picture"):
        assert "<img" not in articles[name] and "card-with-image" not in articles[name]
    assert waiting.image.url not in cards


def test_home_pictures_take_one_query_however_many(client, django_assert_max_num_queries):
    """Pictures on the home page are found in one query for the page, not one per card."""
    for n in range(8):
        published_with_image(headline=f"Pictured {n}", topic=TopicFactory())
    with django_assert_max_num_queries(5):
        html = client.get(HOME).text
    assert html.count("<img ") == 8


def test_home_shows_a_picture_once_its_renditions_are_made(client):
    """Renditions made after the home page was stored put the picture on it (its keys change)."""
    explainer = published_with_image(headline="Pictured later")
    RenditionSet.objects.filter(explainer=explainer).delete()
    assert "<img " not in client.get(HOME).text
    explainer.refresh_from_db()
    renditions.ensure(explainer.live_revision)
    assert "<img " in client.get(HOME).text


def test_later_pages_have_no_lead(client):
    """Only the first page has a lead explainer; later pages are cards alone."""
    ExplainerFactory.create_batch(21, published=True)
    assert 'class="lead-story"' in client.get(HOME).text
    second = client.get(HOME, {"page": 2}).text
    assert 'class="lead-story"' not in second and second.count('class="card"') == 1


def test_topic_page_leads_with_its_newest_and_its_picture(client):
    """A topic's page leads with its newest explainer and its picture, as the home page does."""
    topic = TopicFactory(slug="harbours")
    ExplainerFactory(published=True, topic=topic, headline="Older harbour news")
    published_with_image(topic=topic, headline="Newest harbour news", alt="Cranes")
    html = client.get(reverse("explainers:topic", args=["harbours"])).text
    story = section(html, '<article class="lead-story">', "</article>")
    assert "Newest harbour news" in story and 'alt="Cranes"' in story
    assert "Older harbour news" in section(html, '<div class="cards">', "</main>")


def test_detail_structure(client):
    """The page is one article: one h1, three h2 sections in order, the question."""
    explainer = ExplainerFactory(published=True)
    html = client.get(explainer.get_absolute_url()).text
    assert html.count("<article") == 1
    assert html.count("<h1") == 1
    article = unescape(html[html.index("<article") : html.index("</article>")])
    order = [
        f">{explainer.headline}</h1>",
        "What is the story about?",
        "What's Happening?</h2>",
        "Why It's Important?</h2>",
        "What's Next?</h2>",
        "Do you find this article useful?",
    ]
    positions = [article.index(item) for item in order]
    assert positions == sorted(positions)


def test_lead_in_asks_the_question_the_first_section_answers(client):
    """The lead-in "What is the story about?" heads What's Happening, right above its text."""
    explainer = ExplainerFactory(published=True)
    html = client.get(explainer.get_absolute_url()).text
    start = html.index('<header class="explainer-header">')
    header = html[start : html.index("</header>", start)]
    assert "What is the story about?" not in header
    assert re.search(
        r'<section class="section" aria-labelledby="whats_happening">\s*'
        r'<p class="lead-in">What is the story about\?</p>\s*'
        r'<h2 id="whats_happening">What&#39;s Happening\?</h2>\s*<p>Leaders met',
        html,
    )
    assert html.count("What is the story about?") == 1


def test_nav_marks_the_section_each_page_is_in(client):
    """The nav marks the current page's item (aria-current), and its section's on a topic page."""
    explainer = ExplainerFactory(published=True, topic=TopicFactory(slug="science"))
    nav = {
        HOME: ("Latest", "page"),
        reverse("explainers:topics"): ("Topics", "page"),
        reverse("explainers:topic", args=["science"]): ("Topics", "true"),
        reverse("explainers:corrections"): ("Corrections", "page"),
        reverse("explainers:search"): ("Search", "page"),
        reverse("explainers:search") + "?q=leaders": ("Search", "page"),
    }
    for path, (item, current) in nav.items():
        html = client.get(path).text
        marked = re.findall(r'<a href="[^"]+" aria-current="(\w+)">(\w+)</a>', html)
        assert marked == [(current, item)], path
    for path in (explainer.get_absolute_url(), "/no-such-page/"):
        assert "aria-current" not in client.get(path).text, path


def test_detail_paragraphs_are_separate(client):
    """Each paragraph of a section is its own <p>."""
    explainer = ExplainerFactory(published=True, whats_happening="First.\n\nSecond.")
    html = client.get(explainer.get_absolute_url()).text
    assert "<p>First.</p>" in html and "<p>Second.</p>" in html


def test_detail_ai_label_inside_article_only_when_ai_generated(client):
    """The AI label shows inside the article for AI text, and not for human text."""
    ai = ExplainerFactory(published=True, ai_generated=True)
    human = ExplainerFactory(published=True, ai_generated=False)
    html = client.get(ai.get_absolute_url()).text
    article = html[html.index("<article") : html.index("</article>")]
    assert re.search(r'<p class="ai-label">.*AI Generated Content</span>', article)
    assert 'class="ai-label"' not in client.get(human.get_absolute_url()).text


def test_detail_times_are_machine_readable(client):
    """Publish and update times are <time datetime> elements."""
    explainer = ExplainerFactory(published=True, published_at=timezone.now() - timedelta(days=1))
    explainer.public_updated_at = timezone.now()
    explainer.save()
    html = client.get(explainer.get_absolute_url()).text
    assert f'<time datetime="{explainer.published_at.isoformat()}"' in html
    assert f'<time datetime="{explainer.public_updated_at.isoformat()}"' in html


def test_detail_lists_sources(client):
    """Sources are listed as links under their own heading."""
    source = SourceFactory(explainer=ExplainerFactory(published=True), label="Reuters report")
    html = client.get(source.explainer.get_absolute_url()).text
    assert f'<a href="{source.url}" rel="noopener nofollow">Reuters report</a>' in html


def test_detail_escapes_markup(client):
    """Markup typed into any field shows as text, never as HTML."""
    explainer = ExplainerFactory(
        published=True,
        headline="<script>alert(1)</script>",
        whats_happening="<b>bold</b> & <img src=x onerror=alert(1)>",
        why_its_important="</script><script>alert(2)</script>",
    )
    html = client.get(explainer.get_absolute_url()).text
    assert "<script>alert" not in html
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "<img src=x" not in html


def test_detail_json_ld_cannot_break_out_of_its_script(client):
    """A headline with </script> stays inside the JSON-LD block."""
    explainer = ExplainerFactory(published=True, headline="a </script><b>x</b>")
    html = client.get(explainer.get_absolute_url()).text
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert block and "\\u003C/script\\u003E" in block.group(1)


def test_draft_is_404_to_readers(client, draft_explainer):
    """A draft answers 404 at its address."""
    assert client.get(draft_explainer.get_absolute_url()).status_code == 404


def test_unknown_slug_is_404(client):
    """An unknown slug answers 404."""
    assert client.get(reverse("explainers:detail", args=["no-such-story"])).status_code == 404


def test_draft_is_404_even_to_staff_at_the_public_address(admin_client, draft_explainer):
    """Staff preview drafts in the admin; the public address stays 404 for everyone."""
    assert admin_client.get(draft_explainer.get_absolute_url()).status_code == 404


def test_detail_is_publicly_cacheable(client, published_explainer):
    """The page may be cached by shared caches and sets no cookie."""
    response = client.get(published_explainer.get_absolute_url())
    assert "public" in response["Cache-Control"] and "max-age=60" in response["Cache-Control"]
    assert not response.cookies


def test_detail_query_count_does_not_grow(client, django_assert_max_num_queries):
    """The explainer page makes at most 5 queries whatever the number of sources or explainers.

    One for what the page shows (its state), one for the explainer with its revisions (sources
    are in the revision; notices only when the state says it has some) and the next time a
    publication or expiry could change its related list; up to three for its related
    explainers (same topic, closest by text, with SQLite's check for its full-text table).
    """
    explainer = ExplainerFactory(published=True, topic=TopicFactory())
    SourceFactory.create_batch(12, explainer=explainer)
    ExplainerFactory.create_batch(5, published=True)
    url = explainer.get_absolute_url()
    with django_assert_max_num_queries(5):
        assert client.get(url).status_code == 200


def test_static_css_is_served(client):
    """The stylesheet is served by the application itself."""
    response = client.get("/static/css/site.css")
    assert response.status_code == 200


def test_pages_name_an_icon_that_exists(client):
    """Every page links its icon, so browsers don't ask for a missing /favicon.ico."""
    from django.contrib.staticfiles import finders

    html = client.get("/").text
    href = re.search(r'<link rel="icon" href="/static/([^"]+)"', html).group(1)
    assert finders.find(href)


# Absolute links name the site's configured address.


def test_links_name_the_site_url_not_the_host(client, live, settings):
    """Canonical link and JSON-LD url, mainEntityOfPage and image start with NEWSROOM_SITE_URL."""
    settings.SITE_URL = "https://news.example.com"
    html = client.get(live.get_absolute_url(), HTTP_HOST="localhost:4444").text
    page = "https://news.example.com/explainers/approved-slug/"
    assert f'<link rel="canonical" href="{page}">' in html
    data = json_ld(html)
    assert data["url"] == data["mainEntityOfPage"] == page
    assert all(image["url"].startswith("https://news.example.com/") for image in data["image"])
    assert "localhost" not in html


def test_links_are_unchanged_when_the_host_is_the_site(client, live, settings):
    """Asked for at the site's own address, a page carries the links it always did."""
    settings.SITE_URL = "http://testserver"
    html = client.get(live.get_absolute_url()).text
    assert '<link rel="canonical" href="http://testserver/explainers/approved-slug/">' in html
    assert json_ld(html)["image"][0]["url"].startswith("http://testserver/media/")


def test_a_storage_address_for_the_image_is_kept(settings):
    """An image a storage serves from its own address keeps that address."""
    settings.SITE_URL = "https://news.example.com"
    assert absolute_url("https://cdn.example/a.png") == "https://cdn.example/a.png"
    assert absolute_url("/media/é.png") == "https://news.example.com/media/%C3%A9.png"


def test_preview_links_name_the_site_url(admin_client, draft_explainer, settings):
    """The staff preview's JSON-LD names the site too, not the Host it was opened on."""
    settings.SITE_URL = "https://news.example.com"
    url = reverse("admin:explainers_explainer_preview", args=[draft_explainer.pk])
    html = admin_client.get(url, HTTP_HOST="localhost:4444").text
    assert json_ld(html)["url"] == "https://news.example.com" + draft_explainer.get_absolute_url()


# What an editor or importer might type into any field readers see.
EVIL = "<script>alert(1)</script>\"'&<img src=x onerror=alert(2)>{{ 7*7 }}{% if 1 %}J{% endif %}"


RAW_MARKERS = ("<script>alert(1)", "<img src=x", "onerror=alert(2)>")


def hostile_explainer(**extra) -> Explainer:
    """An explainer whose every reader-visible field carries markup and template syntax."""
    explainer = ExplainerFactory(
        headline=f"Headline {EVIL}",
        whats_happening=f"Happening {EVIL}. More.\n\nSecond {EVIL}",
        why_its_important=f"Important {EVIL}",
        whats_next=f"Next {EVIL}",
        topic=TopicFactory(name=f"Topic {EVIL}"[:80]),
        image=png("evil.png", "red"),
        image_alt=f"Alt {EVIL}",
        image_credit=f"Credit {EVIL}",
        ai_generated=True,
        **extra,
    )
    SourceFactory(
        explainer=explainer,
        label=f"Label {EVIL}",
        url='https://example.com/?q="><script>alert(3)</script>',
    )
    explainer.refresh_from_db()
    return explainer


def sign_off_and_publish(explainer: Explainer, **kwargs):
    boss = editor()
    explainer.refresh_from_db()
    if explainer.ai_generated:
        services.explainer_sign_off(explainer=explainer, user=boss)
        explainer.refresh_from_db()
    services.explainer_publish(explainer=explainer, user=boss, **kwargs)
    explainer.refresh_from_db()


def assert_no_raw_markup(html: str):
    for marker in (*RAW_MARKERS, "<script>alert(3)"):
        assert marker not in html
    # Template syntax is text: never evaluated by Jinja2.
    assert "{{ 7*7 }}" in unescape(html)
    assert "J{% endif %}" in unescape(html)


def test_every_editor_field_is_escaped_on_the_public_page(client):
    """Headline, sections, topic, image alt/credit, sources and notices are escaped for readers."""
    explainer = hostile_explainer()
    sign_off_and_publish(explainer)
    services.notice_add(
        explainer=explainer, user=editor(), kind="correction", text=f"Correction {EVIL}"
    )
    services.notice_add(explainer=explainer, user=editor(), kind="update", text=f"Update {EVIL}")
    explainer.refresh_from_db()
    html = client.get(explainer.get_absolute_url()).text
    assert_no_raw_markup(html)
    page = unescape(html)
    for field in ("Headline", "Happening", "Second", "Important", "Next", "Alt", "Credit"):
        assert f"{field} {EVIL}" in page
    assert f"Label {EVIL}" in page and f"Correction {EVIL}" in page and f"Update {EVIL}" in page
    # The source's quote cannot close the href attribute.
    assert 'href="https://example.com/?q=&#34;&gt;&lt;script&gt;' in html
    (data,) = Metadata(html).json_ld
    assert data["headline"].startswith("Headline <script>")


def test_every_working_copy_field_is_escaped_in_the_admin_preview(client):
    """The admin preview and a shared preview link escape every field of the working copy."""
    explainer = hostile_explainer()
    client.force_login(editor())
    admin_html = client.get(reverse("admin:explainers_explainer_preview", args=[explainer.pk])).text
    _, token = services.preview_link_create(explainer=explainer, user=editor(), days=7)
    link_html = client.get(reverse("explainers:preview", args=[token])).text
    for html in (admin_html, link_html):
        assert "Preview: not published." in html
        assert_no_raw_markup(html)
        assert f"Headline {EVIL}" in unescape(html)


def test_a_javascript_url_already_in_a_revision_is_written_as_is(client):
    """The template does not filter schemes itself: a stored javascript: address is a live link.

    Only the model's validator stands between an editor and this (defence in depth missing).
    """
    explainer = ExplainerFactory(published=True)
    Explainer.objects.filter(pk=explainer.pk).update(
        source_list=[{"label": "x", "url": "javascript:alert(1)"}]
    )
    explainer.live_revision.__class__.objects.filter(history_id=explainer.live_revision_id).update(
        source_list=[{"label": "x", "url": "javascript:alert(1)"}]
    )
    html = client.get(explainer.get_absolute_url()).text
    assert 'href="javascript:alert(1)"' in html


def test_the_page_never_shows_or_loads_the_working_copy(client):
    """A pending edit's text is neither shown nor even selected on a cold render."""
    explainer = ExplainerFactory(published=True, headline="Approved words here")
    explainer.headline = "Pending narwhal headline"
    explainer.whats_happening = "Pending narwhal text. More."
    explainer.image_alt = "Pending narwhal alt"
    explainer.save()
    with CaptureQueriesContext(connection) as queries:
        html = client.get(explainer.get_absolute_url()).text
    assert "narwhal" not in html.lower()
    assert "Approved words here" in html
    table = Explainer._meta.db_table
    for query in queries.captured_queries:
        for column in ("headline", "whats_happening", "image_alt", "source_list"):
            assert f'"{table}"."{column}"' not in query["sql"], query["sql"]


def _deferred_loads(queries) -> list[str]:
    """Queries Django runs to fetch one deferred field of one row."""
    found = []
    for query in queries.captured_queries:
        sql = query["sql"]
        selected = sql[: sql.upper().find(" FROM ")]
        if re.fullmatch(r'SELECT "([a-z_]+)"\."(id|history_id)", "\1"\."[a-z_]+"', selected):
            found.append(sql)
    return found


@pytest.mark.parametrize("scheduled", [False, True], ids=["live", "scheduled-due"])
def test_a_cold_render_fetches_no_deferred_field(client, scheduled):
    """.only() on the page's explainer costs no extra query, scheduled changes or not."""
    topic = TopicFactory()
    explainer = ExplainerFactory(
        topic=topic, ai_generated=True, image=png("a.png", "blue"), image_alt="A lake"
    )
    SourceFactory(explainer=explainer)
    sign_off_and_publish(explainer)
    services.notice_add(explainer=explainer, user=editor(), kind="correction", text="Fixed.")
    ExplainerFactory(published=True, topic=topic)
    if scheduled:
        explainer.refresh_from_db()
        explainer.headline = "Scheduled headline"
        explainer.save()
        sign_off_and_publish(explainer, at=timezone.now() + timedelta(minutes=1))
    travel = timezone.now() + timedelta(minutes=2 if scheduled else 0)
    with time_machine.travel(travel, tick=False), CaptureQueriesContext(connection) as queries:
        slug = Explainer.objects.get(pk=explainer.pk).public_slug
        response = client.get(reverse("explainers:detail", kwargs={"slug": slug}))
    assert response.status_code == 200
    assert _deferred_loads(queries) == []


def test_the_deferred_load_detector_sees_one(db):
    """A deferred field read on an explainer loaded with .only() is what _deferred_loads finds."""
    explainer = ExplainerFactory(published=True)
    loaded = Explainer.objects.only("status").get(pk=explainer.pk)
    with CaptureQueriesContext(connection) as queries:
        assert loaded.headline == explainer.headline
    assert len(_deferred_loads(queries)) == 1


def test_a_warm_body_with_a_cold_related_list_fetches_no_deferred_field(client):
    """Only the related list redone (the body kept): still no deferred-field query."""
    topic = TopicFactory()
    explainer = ExplainerFactory(published=True, topic=topic)
    url = explainer.get_absolute_url()
    client.get(url)
    ExplainerFactory(published=True, topic=topic)  # the topic's list changes
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    assert _deferred_loads(queries) == []


@pytest.mark.parametrize(
    "query",
    [
        "?voted=yes&sent=1",
        "?voted=no",
        "?voted=maybe",
        "?voted=yes&voted=no",
        "?voted=%00",
        "?sent=1",
        "?voted[]=yes",
    ],
)
def test_odd_vote_outcomes_are_pages_not_errors(client, query):
    """Any ?voted / ?sent is a page (the widget thanks only for yes/no), never a 500."""
    explainer = ExplainerFactory(published=True)
    response = client.get(explainer.get_absolute_url() + query, follow=True)
    assert response.status_code == 200
    assert "Do you find this article useful?" in response.text


@pytest.mark.parametrize(
    "slug", ["%00", "a" * 300, "%E9t%C3%A9", "..%2F..%2Fetc", "x%0d%0aSet-Cookie:a=b"]
)
def test_odd_slugs_are_404s(client, slug):
    """An odd address under /explainers/ is a 404, not a 500."""
    prefix = ExplainerFactory(published=True).get_absolute_url().rsplit("/", 2)[0]
    response = client.get(f"{prefix}/{slug}/")
    assert response.status_code in (404, 301)


@pytest.mark.parametrize(
    "published_at",
    [
        datetime(2026, 3, 29, 0, 30, tzinfo=UTC),  # 00:30 GMT, the hour before the change
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),  # 02:30 BST
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # 01:30 BST, the first of two 01:30s
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # 01:30 GMT, the second
    ],
)
def test_dateline_in_a_summer_time_zone_as_djangos_date_filter(client, settings, published_at):
    """With TIME_ZONE Europe/London, each 01:30 on the night the clocks go back reads apart."""
    from django.template.defaultfilters import date as django_date

    settings.TIME_ZONE = "Europe/London"
    with time_machine.travel(published_at + timedelta(days=1), tick=False):
        explainer = ExplainerFactory(published=True, published_at=published_at)
        html = client.get(explainer.get_absolute_url()).text
    local = timezone.localtime(published_at)
    expected = django_date(local, "j F Y, H:i T")
    assert f'Published <time datetime="{django_date(local, "c")}">{expected}</time>' in html
    assert Metadata(html).one("article:published_time") == django_date(local, "c")


def test_both_01_30s_of_one_night_show_their_own_offset(client, settings):
    """01:30 BST and 01:30 GMT of one night keep their own offsets (no cached string shared);
    the ambiguous hour has no abbreviation, as Django's date filter always wrote it."""
    settings.TIME_ZONE = "Europe/London"
    first = ExplainerFactory(published=True, published_at=datetime(2026, 10, 25, 0, 30, tzinfo=UTC))
    second = ExplainerFactory(
        published=True, published_at=datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    )
    with time_machine.travel(datetime(2026, 10, 26, tzinfo=UTC), tick=False):
        a = client.get(first.get_absolute_url()).text
        b = client.get(second.get_absolute_url()).text
    assert '<time datetime="2026-10-25T01:30:00+01:00">25 October 2026, 01:30 </time>' in a
    assert '<time datetime="2026-10-25T01:30:00+00:00">25 October 2026, 01:30 </time>' in b


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
    services.explainer_record_edit(explainer=explainer, user=editor("pages-editor"))
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
    services.explainer_unpublish(explainer=explainer, user=editor("pages-editor"))
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
