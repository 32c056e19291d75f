"""Which cached pages a change invalidates, and how long pages live around scheduled times."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from explainers import page_cache, selectors
from explainers.models import Explainer
from explainers.services import (
    explainer_publish,
    explainer_record_edit,
    explainer_unpublish,
    notice_add,
)
from tests.factories import ExplainerFactory, TopicFactory, UserFactory
from tests.http import max_age

pytestmark = pytest.mark.django_db

HOME = "/"


@pytest.fixture
def two(db):
    """Two live explainers on different topics, both pages and the home page cached."""
    first = ExplainerFactory(published=True, topic=TopicFactory(), headline="First story")
    second = ExplainerFactory(published=True, topic=TopicFactory(), headline="Second story")
    return first, second


def warm(client, *urls):
    for url in urls:
        assert client.get(url).status_code == 200


def test_a_change_to_one_explainer_keeps_the_others_page(client, two, django_assert_num_queries):
    """Unpublishing one explainer leaves another's cached page a hit: no query."""
    first, second = two
    warm(client, first.get_absolute_url(), second.get_absolute_url())
    explainer_unpublish(explainer=first, user=None)
    with django_assert_num_queries(0):
        assert client.get(second.get_absolute_url()).status_code == 200
    assert client.get(first.get_absolute_url()).status_code == 404


def test_a_change_to_an_explainer_refreshes_the_lists_it_joins(client, two):
    """A newly published explainer appears on the cached home page at once."""
    warm(client, HOME)
    third = ExplainerFactory(topic=two[0].topic, headline="Third story")
    explainer_publish(explainer=third, user=None)
    assert "Third story" in client.get(HOME).text


def test_a_notice_refreshes_its_page_and_corrections_only(
    client, two, superuser, django_assert_num_queries
):
    """A correction shows on its page and the corrections list; the other page stays cached."""
    first, second = two
    warm(client, first.get_absolute_url(), second.get_absolute_url(), "/corrections/")
    notice_add(explainer=first, user=superuser, kind="correction", text="We got it wrong.")
    assert "We got it wrong." in client.get(first.get_absolute_url()).text
    assert "We got it wrong." in client.get("/corrections/").text
    with django_assert_num_queries(0):
        client.get(second.get_absolute_url())


def test_a_draft_edit_of_a_live_explainer_invalidates_nothing(
    client, two, django_assert_num_queries
):
    """Saving a pending edit changes nothing readers see, so every cached page stays a hit."""
    first = Explainer.objects.get(pk=two[0].pk)  # as the admin loads it
    warm(client, first.get_absolute_url(), HOME)
    first.headline = "Pending headline"
    first.save()
    explainer_record_edit(explainer=first, user=UserFactory())
    with django_assert_num_queries(0):
        assert "Pending headline" not in client.get(first.get_absolute_url()).text
        assert "Pending headline" not in client.get(HOME).text


def test_a_topic_rename_keeps_other_topics_pages(client, two, django_assert_num_queries):
    """Renaming one topic refreshes its explainers' pages, not those of another topic."""
    first, second = two
    warm(client, first.get_absolute_url(), second.get_absolute_url())
    first.topic.name = "Renamed topic"
    first.topic.save()
    assert "Renamed topic" in client.get(first.get_absolute_url()).text
    with django_assert_num_queries(0):
        client.get(second.get_absolute_url())


def test_a_change_while_a_page_renders_is_not_stored_over(rf, two):
    """A page whose keys changed after its render began may show old data: it is not kept."""
    first, _ = two
    started = page_cache.time.time_ns()
    response = page_cache.tag(page_cache.HttpResponse("old"), f"explainer-{first.pk}")
    page_cache.invalidate(f"explainer-{first.pk}")
    page_cache.store("page:test", response, started_ns=started - 1, changes_at=None)
    assert page_cache.cached_response("page:test") is None


def test_a_page_rendered_while_its_explainer_changed_is_kept_by_no_shared_cache(
    client, two, monkeypatch
):
    """Its purge may reach a CDN before it does: it goes out with max-age=0, the next does not."""
    first, _ = two
    read_state = selectors.page_state

    def state_then_change(slug):
        state = read_state(slug)
        page_cache.invalidate(f"explainer-{first.pk}")  # an editor's change commits now
        return state

    monkeypatch.setattr(selectors, "page_state", state_then_change)
    during = client.get(first.get_absolute_url())
    assert max_age(during) == 0 == max_age(during, "Surrogate-Control")
    monkeypatch.setattr(selectors, "page_state", read_state)
    after = client.get(first.get_absolute_url())
    assert max_age(after) > 0 and max_age(after, "Surrogate-Control") > 0


# Lifetimes: a scheduled time that changes a page ends its life, with no write and no job.


def test_a_scheduled_explainer_reaches_the_cached_home_page_on_time(client, two):
    """An explainer scheduled for T is on the home page from T on; before T, max-age ends at T."""
    at = timezone.now() + timedelta(minutes=30)
    ExplainerFactory(published=True, published_at=at, headline="Scheduled story")
    with time_machine.travel(at - timedelta(seconds=10), tick=False):
        before = client.get(HOME)
        assert "Scheduled story" not in before.text
        assert max_age(before) <= 10
        assert max_age(before, "Surrogate-Control") <= 10
        again = client.get(HOME)  # a hit counts down too
        assert max_age(again) <= 10
    with time_machine.travel(at + timedelta(milliseconds=500), tick=False):
        assert "Scheduled story" in client.get(HOME).text


def test_a_hit_counts_its_lifetime_down(client, two):
    """A cached page's max-age is what is left until the next scheduled time, not a fixed 60."""
    at = timezone.now() + timedelta(seconds=40)
    ExplainerFactory(published=True, published_at=at)
    with time_machine.travel(at - timedelta(seconds=30), tick=False):
        client.get(HOME)
    with time_machine.travel(at - timedelta(seconds=12), tick=False):
        assert max_age(client.get(HOME)) == 12


def test_an_expiring_explainer_leaves_its_page_and_the_lists_on_time(client, settings):
    """An explainer expiring at T answers 404 and leaves the home page from T on."""
    settings.CDN_CACHE_SECONDS = 86400
    at = timezone.now() + timedelta(minutes=5)
    explainer = ExplainerFactory(published=True, expires_at=at, headline="Expiring story")
    with time_machine.travel(at - timedelta(seconds=3), tick=False):
        page = client.get(explainer.get_absolute_url())
        assert max_age(page, "Surrogate-Control") <= 3
        assert "Expiring story" in client.get(HOME).text
    with time_machine.travel(at + timedelta(milliseconds=100), tick=False):
        assert client.get(explainer.get_absolute_url()).status_code == 404
        assert "Expiring story" not in client.get(HOME).text


def test_scheduled_changes_reach_the_cached_page_on_time(client, two):
    """Changes scheduled for T replace the cached page at T, with no write at T."""
    first, _ = two
    at = timezone.now() + timedelta(minutes=10)
    first.headline = "Scheduled headline"
    first.save()
    explainer_publish(explainer=first, user=None, at=at)
    with time_machine.travel(at - timedelta(seconds=1), tick=False):
        assert "Scheduled headline" not in client.get(first.get_absolute_url()).text
        assert "Scheduled headline" not in client.get(HOME).text
    with time_machine.travel(at + timedelta(milliseconds=1), tick=False):
        assert "Scheduled headline" in client.get(first.get_absolute_url()).text
        assert "Scheduled headline" in client.get(HOME).text


def test_pages_without_scheduled_times_keep_the_configured_lifetimes(client, two, settings):
    """With nothing scheduled, browsers get PUBLIC_CACHE_SECONDS and a CDN CDN_CACHE_SECONDS."""
    settings.CDN_CACHE_SECONDS = 86400
    response = client.get(two[0].get_absolute_url())
    assert max_age(response) == settings.PUBLIC_CACHE_SECONDS
    assert max_age(response, "Surrogate-Control") == 86400
    assert response["CDN-Cache-Control"] == "max-age=86400"
