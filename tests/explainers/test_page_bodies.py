"""A page-cache miss for an explainer whose page has not changed: one query, no rendering."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from explainers import page_cache
from explainers.models import Explainer
from explainers.services import explainer_publish, explainer_unpublish, notice_add
from tests.factories import ExplainerFactory, TopicFactory, editor
from tests.http import max_age

pytestmark = pytest.mark.django_db


def test_a_miss_for_an_unchanged_explainer_costs_one_query_and_no_render(
    client, published_explainer, renders, django_assert_num_queries
):
    """With its keys invalidated but its page unchanged, the page is served from its body."""
    url = published_explainer.get_absolute_url()
    first = client.get(url)
    page_cache.invalidate(f"explainer-{published_explainer.pk}")
    renders.clear()
    with django_assert_num_queries(1):
        again = client.get(url)
    assert renders == []
    assert again.content == first.content
    assert again["Surrogate-Key"] == first["Surrogate-Key"]


def test_a_cold_render_costs_the_page_query_and_the_related_list(
    client, published_explainer, django_assert_num_queries
):
    """Rendered anew, a page without notices asks for itself and its related list, no more."""
    url = published_explainer.get_absolute_url()
    with django_assert_num_queries(2):
        response = client.get(url)
    assert published_explainer.headline in response.text


def test_a_cold_render_with_notices_asks_for_them_too(client, published_explainer, superuser):
    """Notices are read only for a page whose state says it has some: one query more."""
    notice_add(
        explainer=published_explainer,
        user=superuser,
        kind="correction",
        text="An earlier version misnamed the summit.",
    )
    with CaptureQueriesContext(connection) as queries:
        response = client.get(published_explainer.get_absolute_url())
    assert "An earlier version misnamed the summit." in response.text
    assert len(queries) == 3


def test_a_new_notice_renders_the_page_again(client, published_explainer, superuser, renders):
    """A notice changes what the page shows, so its body is rendered afresh."""
    client.get(published_explainer.get_absolute_url())
    notice_add(explainer=published_explainer, user=superuser, kind="update", text="Now updated.")
    renders.clear()
    assert "Now updated." in client.get(published_explainer.get_absolute_url()).text
    assert "explainers/explainer_detail.html" in renders


def test_a_topic_rename_renders_the_page_again(client):
    """The topic's name is part of what the body is filed under."""
    explainer = ExplainerFactory(published=True, topic=TopicFactory(name="Before"))
    client.get(explainer.get_absolute_url())
    type(explainer.topic).objects.filter(pk=explainer.topic_id).update(name="After")
    page_cache.invalidate(f"topic-{explainer.topic_id}")
    assert "After" in client.get(explainer.get_absolute_url()).text


def test_a_vote_outcome_has_a_body_of_its_own(client, published_explainer):
    """The thanks after a vote without JavaScript is never served as the plain page, or back."""
    url = published_explainer.get_absolute_url()
    plain = client.get(url).text
    page_cache.invalidate(f"explainer-{published_explainer.pk}")
    thanked = client.get(url, {"voted": "yes", "sent": "1"}).text
    assert "Thanks for telling us more." in thanked
    assert "Thanks for telling us more." not in plain
    page_cache.invalidate(f"explainer-{published_explainer.pk}")
    assert "Thanks for telling us more." not in client.get(url).text


def test_bodies_are_filed_under_the_site_address(client, published_explainer, settings):
    """A body rendered for one NEWSROOM_SITE_URL is never served under another."""
    url = published_explainer.get_absolute_url()
    client.get(url)
    settings.SITE_URL = "https://news.example.org"
    page_cache.invalidate(f"explainer-{published_explainer.pk}")
    assert "https://news.example.org/" in client.get(url).text


def test_a_publication_elsewhere_renders_no_page_again(client, superuser, renders):
    """An explainer of another topic published: other pages keep their bodies and full lists.

    A list its topic fills has no room for an explainer of another topic; one filled by text
    has, so only such lists are worked out again (test_related.py).
    """
    topic = TopicFactory()
    explainer = ExplainerFactory(published=True, topic=topic)
    ExplainerFactory.create_batch(3, published=True, topic=topic)
    url = explainer.get_absolute_url()
    client.get(url)
    ExplainerFactory(published=True, topic=TopicFactory(), headline="Unrelated matters")
    renders.clear()
    assert client.get(url).status_code == 200
    assert renders == []


def test_a_related_explainer_unpublished_leaves_the_list_not_the_page(client, superuser, renders):
    """The related list is worked out again without it; the page around it is not rendered."""
    topic = TopicFactory()
    explainer = ExplainerFactory(published=True, topic=topic)
    sibling = ExplainerFactory(published=True, topic=topic, headline="The sibling explainer")
    url = explainer.get_absolute_url()
    assert "The sibling explainer" in client.get(url).text
    explainer_unpublish(explainer=sibling, user=superuser)
    renders.clear()
    response = client.get(url)
    assert "The sibling explainer" not in response.text
    assert "explainers/explainer_detail.html" not in renders
    assert "includes/related.html" in renders


def test_a_new_sibling_joins_the_related_list(client):
    """A newly published explainer of the same topic appears in its siblings' lists at once."""
    topic = TopicFactory()
    explainer = ExplainerFactory(published=True, topic=topic)
    url = explainer.get_absolute_url()
    client.get(url)
    ExplainerFactory(published=True, topic=topic, headline="A brand new sibling")
    assert "A brand new sibling" in client.get(url).text


def test_a_related_explainer_expiring_bounds_the_page_lifetime(client):
    """A page keeps no longer than the next time a related explainer could leave its list."""
    topic = TopicFactory()
    explainer = ExplainerFactory(published=True, topic=topic)
    ExplainerFactory(published=True, topic=topic, expires_at=timezone.now() + timedelta(seconds=30))
    response = client.get(explainer.get_absolute_url())
    assert 0 < max_age(response) <= 30


def test_the_next_publication_anywhere_comes_with_the_explainer(client):
    """A cold render learns when a scheduled publication could change its related list from
    the query that loads the explainer, not from a query of its own."""
    explainer = ExplainerFactory(published=True, headline="Glacier melt speeds up")
    ExplainerFactory(published=True, published_at=timezone.now() + timedelta(seconds=45))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(explainer.get_absolute_url())
    assert 0 < max_age(response) <= 45
    asking = [q["sql"] for q in queries.captured_queries if "upcoming_publication" in q["sql"]]
    assert len(asking) == 1
    assert "whats_happening" in asking[0]


def test_a_topic_of_a_related_card_renamed_shows_in_the_list(client):
    """The cards' topic names are part of what the related list is kept under."""
    explainer = publish(topic=TopicFactory(), headline="Glacier melt speeds up")
    other = publish(topic=TopicFactory(name="Old name"), headline="Glacier melt in the Alps")
    url = explainer.get_absolute_url()
    assert "Old name" in client.get(url).text
    other.topic.name = "New name"
    other.topic.save()
    assert "New name" in client.get(url).text


def publish(**fields):
    """Published through the services, so that search (and the related list) finds it."""
    explainer = ExplainerFactory(**fields)
    explainer_publish(explainer=explainer, user=editor("bodies-editor"))
    explainer.refresh_from_db()
    return explainer


def test_related_lists_are_redone_when_lost_invalidations_are_made_good(client, renders):
    """Invalidations owed after a cache outage make stored related lists stale too."""
    explainer = ExplainerFactory(published=True, topic=TopicFactory())
    url = explainer.get_absolute_url()
    client.get(url)
    page_cache.invalidate(f"explainer-{explainer.pk}")
    renders.clear()
    client.get(url)
    assert "includes/related.html" not in renders
    page_cache.invalidate(page_cache.ALL)
    renders.clear()
    response = client.get(url)
    assert "includes/related.html" in renders
    assert " all" not in " " + response["Surrogate-Key"]


def test_a_new_headline_works_the_related_list_out_again(client, renders):
    """Text matches come from the headline's words: a new headline redoes the list."""
    explainer = publish(headline="Glacier melt speeds up")
    publish(headline="Harbour strike ends")
    url = explainer.get_absolute_url()
    assert "Harbour strike ends" not in client.get(url).text
    explainer.headline = "Harbour strike talks"
    explainer.save()
    explainer_publish(explainer=explainer, user=editor("bodies-editor"))
    renders.clear()
    assert "Harbour strike ends" in client.get(url).text
    assert "includes/related.html" in renders


def test_a_card_changes_with_its_first_sentence_only(client):
    """Cards are kept under what they show: the first sentence, not the whole text."""
    explainer = ExplainerFactory(published=True, whats_happening="First sentence. Second one.")
    assert "First sentence." in client.get("/").text
    Explainer.objects.filter(pk=explainer.pk).update(whats_happening="First sentence. Other.")
    explainer.live_revision.__class__.objects.filter(pk=explainer.live_revision_id).update(
        whats_happening="Changed sentence. Other."
    )
    page_cache.invalidate("home")
    assert "Changed sentence." in client.get("/").text
