import io
import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from explainers import search, services
from tests.explainers.conftest import SECRET_WORDS
from tests.factories import ExplainerFactory, TopicFactory, editor

pytestmark = pytest.mark.django_db

SEARCH = reverse("explainers:search")


def publish(**fields):
    """An explainer written and published through the services, as editors do."""
    explainer = ExplainerFactory(**fields)
    services.explainer_publish(explainer=explainer, user=editor("search-editor"))
    explainer.refresh_from_db()
    return explainer


def headlines(client, q, **params) -> list[str]:
    response = client.get(SEARCH, {"q": q, **params})
    assert response.status_code == 200, response.text
    return re.findall(r'class="card-title"><a href="[^"]+">([^<]+)</a>', response.text)


def test_empty_query_shows_the_form(client, engine):
    """No query, or a blank one (redirected to the page without it), shows the form alone."""
    for params in ({}, {"q": ""}, {"q": "   "}):
        response = client.get(SEARCH, params, follow=True)
        assert response.status_code == 200
        assert response.redirect_chain in ([], [(SEARCH, 301)])
        assert '<form method="get" action="/search/" class="search-form" role="search">' in (
            response.text
        )
        assert 'type="search"' in response.text
        assert "match" not in response.text


def test_result_count_says_one_and_many_in_proper_plural_forms(client, engine):
    """The count reads "1 explainer matches" and "3 explainers match"."""
    publish(headline="Harbour strike ends")
    one = client.get(SEARCH, {"q": "strike"}).text
    assert "1 explainer matches “strike”." in one
    publish(headline="Harbour strike spreads")
    publish(headline="Harbour strike talks")
    assert "3 explainers match “harbour”." in client.get(SEARCH, {"q": "harbour"}).text


def test_search_box_has_one_type(client, engine):
    """The search input says its type once (a repeated attribute is invalid HTML)."""
    html = client.get(SEARCH).text
    assert (
        re.search(r"<input[^>]*>", html[html.index('name="q"') - 200 :]).group(0).count("type=")
        == 1
    )


def test_finds_words_in_any_section(client, engine):
    """A word in the headline or in any of the three sections finds the explainer."""
    publish(headline="Harbour strike ends", whats_happening="Dockers return.")
    publish(headline="Budget vote", whats_next="A vote on the harbour fees comes next week.")
    publish(headline="Unrelated", whats_happening="Nothing here.")
    assert set(headlines(client, "harbour")) == {"Harbour strike ends", "Budget vote"}


def test_headline_match_ranks_first(client, engine):
    """A match in the headline ranks above one in the later sections."""
    if engine == "basic":
        pytest.skip("the basic engine orders by date only")
    now = timezone.now()
    publish(headline="Budget vote", whats_next="Then lighthouse repairs.", published_at=now)
    publish(headline="Lighthouse closes", published_at=now - timedelta(days=3))
    assert headlines(client, "lighthouse") == ["Lighthouse closes", "Budget vote"]


def test_stemming(client, engine):
    """English stemming: "talk" finds "talks" and "talking"."""
    if engine == "basic":
        pytest.skip("the basic engine matches the words as typed")
    publish(headline="Leaders keep talking")
    assert headlines(client, "talk") == ["Leaders keep talking"]


def test_phrases_minus_and_or(client, engine):
    """Quoted phrases, -word and or work as in web search engines."""
    publish(headline="Peace talks resume", whats_happening="Envoys met in Geneva.")
    publish(headline="Talks on peace fail", whats_happening="Envoys met in Oslo.")
    publish(headline="Trade deal signed", whats_happening="Ministers met in Rome.")
    assert headlines(client, '"peace talks"') == ["Peace talks resume"]
    assert headlines(client, "envoys -geneva") == ["Talks on peace fail"]
    assert set(headlines(client, "geneva or rome")) == {"Peace talks resume", "Trade deal signed"}


def test_results_show_date_topic_and_highlighted_excerpt(client, engine):
    """Each result has headline, date, topic and an excerpt with the words in <mark>."""
    explainer = publish(
        headline="Harbour strike ends",
        whats_happening="Dockers return to work at the harbour on Monday.",
        topic=TopicFactory(name="Labour", slug="labour"),
    )
    html = client.get(SEARCH, {"q": "dockers"}).text
    assert re.search(r"<mark>Dockers</mark> return to work", html)
    assert f'datetime="{explainer.published_at.isoformat()}"' in html
    assert 'href="/topics/labour/">Labour</a>' in html
    assert "1 explainer matches “dockers”" in html


def test_excerpt_escapes_markup(client, engine):
    """Markup in the text shows as text in the excerpt; only <mark> is markup."""
    publish(headline="Escaping", whats_happening="<b>zebra</b> & <script>x</script> crossing")
    html = client.get(SEARCH, {"q": "zebra"}).text
    assert "<b>" not in html and "<script>x" not in html
    assert "<mark>zebra</mark>" in html


def test_pages_by_twenty(client, engine):
    """Twenty results a page; past the last page is 404; page links keep the query."""
    for n in range(21):
        publish(headline=f"Glacier report {n}")
    first = client.get(SEARCH, {"q": "glacier"})
    assert len(headlines(client, "glacier")) == 20
    assert 'href="?q=glacier&amp;page=2"' in first.text
    assert len(headlines(client, "glacier", page=2)) == 1
    assert client.get(SEARCH, {"q": "glacier", "page": 3}).status_code == 404
    assert client.get(SEARCH, {"q": "glacier", "page": "x"}).status_code == 404
    assert client.get(SEARCH, {"q": "glacier", "page": "02"}).status_code == 301


def test_no_results_suggests_a_close_spelling(client, engine):
    """A misspelt word gets "Did you mean" with the closest word of published text."""
    publish(headline="Parliament passes budget")
    html = client.get(SEARCH, {"q": "parliment"}).text
    assert "No explainers match “parliment”." in html
    assert 'Did you mean <a href="?q=parliament">parliament</a>?' in html


def test_no_suggestion_from_unpublished_text(client, engine, unseen):
    """A suggestion never names a word that only unpublished or pending text contains."""
    for word in SECRET_WORDS:
        misspelt = word[:-1] + ("x" if word[-1] != "x" else "y")
        html = client.get(SEARCH, {"q": misspelt}).text.lower()
        assert "did you mean" not in html, word
        # With an alternative that a public word fixes, the secret word still stays out.
        html = client.get(SEARCH, {"q": f"{misspelt} or securty"}).text.lower()
        assert word not in html, word


@pytest.mark.parametrize(
    "q, message",
    [
        ("x" * 201, "at most 200 characters"),
        ("peace\x00talks", "Remove the control characters"),
        ('"" - or -- !!! ', "at least one word"),
        ("-peace", "at least one word"),
        ("***", "at least one word"),
    ],
)
def test_bad_queries_get_the_form_with_a_message(client, engine, q, message):
    """Too long, NUL bytes, only operators or punctuation: 400 with a message, never 500."""
    response = client.get(SEARCH, {"q": q})
    assert response.status_code == 400
    assert message in response.text
    assert 'class="error-summary' in response.text or "error" in response.text


def test_search_syntax_cannot_break_the_engine(client, engine):
    """Characters that mean something to a search engine are words or nothing, never a 500."""
    publish(headline="Harbour strike ends")
    for q in [
        'harbour"',
        "harbour AND NOT",
        "harbour*",
        "harbour:",
        "(harbour",
        "NEAR(a b)",
        "harbour' OR 1=1 --",
        "héllo wörld",
        "中文 harbour",
        "a & b | c",
        "\\harbour",
    ]:
        response = client.get(SEARCH, {"q": q})
        assert response.status_code in {200, 400}, q


def test_search_never_shows_what_readers_may_not_see(client, engine, unseen):
    """Drafts, scheduled, expired, archived and pending text never match or show."""
    for word in SECRET_WORDS:
        html = client.get(SEARCH, {"q": word}).text
        assert f"No explainers match “{word}”." in html, word
    found = client.get(SEARCH, {"q": "security talks"}).text
    assert "Approved headline security talks" in found
    assert "Scheduled host security talks" in found
    for word in SECRET_WORDS:
        assert word not in found.lower(), word


def test_vector_follows_publication_not_draft_saves(client, engine):
    """An edit is searchable once published; until then the approved text answers."""
    explainer = publish(headline="Volcano erupts")
    explainer.headline = "Earthquake strikes"
    explainer.save()
    assert headlines(client, "volcano") == ["Volcano erupts"]
    assert headlines(client, "earthquake") == []
    services.explainer_publish(explainer=explainer, user=editor("search-editor"))
    assert headlines(client, "earthquake") == ["Earthquake strikes"]
    assert headlines(client, "volcano") == []


def test_unpublished_explainer_leaves_the_results(client, engine):
    """Unpublishing takes an explainer out of search at once."""
    explainer = publish(headline="Volcano erupts")
    assert headlines(client, "volcano") == ["Volcano erupts"]
    services.explainer_unpublish(explainer=explainer, user=editor("search-editor"))
    assert headlines(client, "volcano") == []


def test_search_cache_keeps_at_most_the_configured_slots(client, engine, settings):
    """Results are cached, but a flood of queries never holds more than SEARCH_CACHE_SLOTS."""
    from django.core.cache import cache

    settings.SEARCH_CACHE_SLOTS = 4
    publish(headline="Harbour strike ends")
    for n in range(30):
        client.get(SEARCH, {"q": f"harbour word{n}"})
    keys = [k for k in cache._cache if "search-slot" in k]  # locmem's own store
    assert len(keys) <= 4


def test_cached_results_are_served_without_queries(client, engine, django_assert_max_num_queries):
    """A repeated search is served from the cache; a publication refreshes it.

    The one query left finds the next scheduled change, which the page must not outlive.
    """
    publish(headline="Harbour strike ends")
    first = client.get(SEARCH, {"q": "harbour"})
    with django_assert_max_num_queries(1):
        assert client.get(SEARCH, {"q": "harbour"}).content == first.content
    publish(headline="Harbour reopens")
    assert len(headlines(client, "harbour")) == 2


def test_search_queries_do_not_grow(client, engine, django_assert_max_num_queries):
    """A search page makes a fixed number of queries however many results."""
    for n in range(25):
        publish(headline=f"Glacier report {n}", topic=TopicFactory())
    with django_assert_max_num_queries(5):
        assert client.get(SEARCH, {"q": "glacier"}).status_code == 200


def test_search_page_is_public_and_tagged(client, engine):
    """Search pages are shared-cacheable, tagged "search", and not indexed by robots."""
    explainer = publish(headline="Harbour strike ends")
    response = client.get(SEARCH, {"q": "harbour"})
    assert "public" in response["Cache-Control"]
    assert {"search", f"explainer-{explainer.pk}"} <= set(response["Surrogate-Key"].split())
    assert '<meta name="robots" content="noindex, follow">' in response.text


# Related explainers


def test_related_same_topic_first_then_text(client, engine):
    """Up to three related: same topic (newest first), then closest by text; never itself."""
    now = timezone.now()
    topic = TopicFactory()
    page = publish(headline="Glacier melt speeds up", topic=topic, published_at=now)
    same = publish(headline="Budget passes", topic=topic, published_at=now - timedelta(hours=1))
    text = publish(headline="Glacier tours cancelled", published_at=now - timedelta(hours=2))
    publish(headline="Football final", published_at=now - timedelta(hours=3))
    html = client.get(page.get_absolute_url()).text
    related = html[html.index('id="related-heading"') :]
    titles = re.findall(r'class="card-title"><a href="[^"]+">([^<]+)</a>', related)
    assert titles[:2] == [same.headline, text.headline]
    assert page.headline not in titles and len(titles) <= 3
    article_end = html.index("</article>")
    assert html.index('id="feedback-question"') < article_end < html.index('id="related-heading"')


def test_related_takes_each_explainer_once_and_fills_three(client, engine):
    """A sibling that also matches by text is listed once; text matches fill up to three."""
    now = timezone.now()
    topic = TopicFactory()
    page = publish(headline="Glacier melt speeds up", topic=topic, published_at=now)
    sibling = publish(
        headline="Glacier melt study", topic=topic, published_at=now - timedelta(hours=1)
    )
    matches = [
        publish(headline=f"Glacier report {n}", published_at=now - timedelta(hours=2 + n))
        for n in range(4)
    ]
    html = client.get(page.get_absolute_url()).text
    related = html[html.index('id="related-heading"') :]
    titles = re.findall(r'class="card-title"><a href="[^"]+">([^<]+)</a>', related)
    assert titles[0] == sibling.headline and len(titles) == 3 == len(set(titles))
    assert set(titles[1:]) <= {m.headline for m in matches}


def test_related_by_text_are_the_best_three_of_the_search_in_its_order(client, engine):
    """The text-filled list is the search's first three for its headline, in the same order."""
    now = timezone.now()
    page = publish(headline="Glacier melt speeds up", published_at=now)
    texts = [
        ("Glacier melt speeds up again", "Glacier melt, glacier melt."),
        ("Glacier tours cancelled", "Melt water floods the valley."),
        ("Ski season opens", "A glacier nearby."),
        ("Glacier melt", "Speeds up, scientists say; the glacier melt speeds up."),
        ("Harbour strike", "No ice here."),
        ("Melting prices", "Speeds of sale."),
    ]
    for n, (headline, body) in enumerate(texts):
        publish(headline=headline, whats_happening=body, published_at=now - timedelta(hours=n + 1))
    html = client.get(page.get_absolute_url()).text
    related = html[html.index('id="related-heading"') :]
    titles = re.findall(r'class="card-title"><a href="[^"]+">([^<]+)</a>', related)
    query = " or ".join(["glacier", "melt", "speeds"])
    searched = [title for title in headlines(client, query) if title != page.headline]
    assert len(titles) == 3
    assert titles == searched[:3]


def test_related_never_shows_what_readers_may_not_see(client, engine, unseen):
    """Related lists take no draft, scheduled, expired, archived or pending explainer."""
    html = client.get(unseen.get_absolute_url()).text.lower()
    for word in SECRET_WORDS:
        assert word not in html, word
    assert "scheduled host security talks" in html


def test_reindex_command_rebuilds_the_index(client, engine):
    """reindex_search makes every approved revision searchable again, and nothing else."""
    from django.core.management import call_command

    from explainers.models import SearchEntry

    publish(headline="Volcano erupts")
    ExplainerFactory(headline="Volcano draft")
    SearchEntry.objects.all().delete()
    assert headlines(client, "volcano") == []
    call_command("reindex_search", stdout=io.StringIO())
    assert headlines(client, "volcano") == ["Volcano erupts"]


def test_a_search_run_while_a_change_commits_is_not_kept_past_it(
    engine, django_capture_on_commit_callbacks
):
    """Results read before the change committed are under a generation its commit ends."""
    explainer = publish(headline="Harbour strike ends")
    with django_capture_on_commit_callbacks(execute=True):
        explainer.headline = "Harbour strike goes on"
        explainer.save()
        during = search.generation()  # a search that began before the commit
    assert search.generation() != during


def test_a_scheduled_explainer_reaches_a_kept_search_page_on_time(client):
    """Search results kept in search's own cache show an explainer scheduled for T from T on."""
    publish(headline="Harbour strike ends")
    at = timezone.now() + timedelta(minutes=10)
    later = ExplainerFactory(headline="Harbour fees rise")
    services.explainer_publish(explainer=later, user=editor("search-editor"), at=at)
    with time_machine.travel(at - timedelta(seconds=5), tick=False):
        assert "Harbour fees rise" not in client.get("/search/", {"q": "harbour"}).text
    with time_machine.travel(at + timedelta(milliseconds=500), tick=False):
        assert "Harbour fees rise" in client.get("/search/", {"q": "harbour"}).text
