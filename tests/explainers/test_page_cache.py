import pytest
from django.core.cache import cache
from django.urls import reverse

from explainers import page_cache
from explainers.models import Topic
from explainers.services import explainer_publish, explainer_unpublish
from tests.factories import ExplainerFactory, TopicFactory

pytestmark = pytest.mark.django_db


def test_repeat_visit_is_served_without_queries(
    client, published_explainer, django_assert_num_queries
):
    """A page already rendered is served from the cache without touching the database."""
    first = client.get(published_explainer.get_absolute_url())
    with django_assert_num_queries(0):
        second = client.get(published_explainer.get_absolute_url())
    assert second.content == first.content
    assert "public" in second["Cache-Control"]


def test_a_published_edit_shows_at_once(client, published_explainer):
    """Publishing an edit replaces the cached page on the next visit."""
    client.get(published_explainer.get_absolute_url())
    published_explainer.whats_next = "A brand new outlook."
    published_explainer.save()
    explainer_publish(explainer=published_explainer, user=None)
    assert "A brand new outlook." in client.get(published_explainer.get_absolute_url()).text


def test_unpublishing_removes_the_page_at_once(client, published_explainer):
    """An unpublished explainer answers 404 straight away, cached or not."""
    client.get(published_explainer.get_absolute_url())
    client.get(reverse("explainers:list"))
    explainer_unpublish(explainer=published_explainer, user=None)
    assert client.get(published_explainer.get_absolute_url()).status_code == 404
    assert published_explainer.headline not in client.get(reverse("explainers:list")).text


def test_a_new_explainer_reaches_the_home_page_at_once(client, published_explainer):
    """Publishing another explainer refreshes the cached home page."""
    client.get(reverse("explainers:list"))
    newer = ExplainerFactory(published=True)
    assert newer.headline in client.get(reverse("explainers:list")).text


def test_unknown_query_parameters_skip_the_cache(
    client, published_explainer, django_assert_num_queries
):
    """Junk query parameters are rendered afresh and never stored."""
    url = published_explainer.get_absolute_url()
    client.get(url, {"utm_source": "x"})
    with django_assert_num_queries(2):
        client.get(url, {"utm_source": "x"})


def test_a_topic_rename_shows_at_once(client):
    """Renaming a topic refreshes the pages that show it."""
    explainer = ExplainerFactory(published=True, topic=TopicFactory(name="Diplomacy"))
    client.get(explainer.get_absolute_url())
    explainer.topic.name = "Foreign affairs"
    explainer.topic.save()
    assert "Foreign affairs" in client.get(explainer.get_absolute_url()).text


def test_a_lost_generation_renders_afresh(client):
    """If the cache loses its generation marker, pages are rendered again, never stale."""
    explainer = ExplainerFactory(published=True, topic=TopicFactory(name="Diplomacy"))
    client.get(explainer.get_absolute_url())
    Topic.objects.filter(pk=explainer.topic_id).update(name="Renamed quietly")
    cache.delete(page_cache.GENERATION_KEY)
    assert "Renamed quietly" in client.get(explainer.get_absolute_url()).text
