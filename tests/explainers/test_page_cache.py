import pytest
from django.urls import reverse

from explainers.services import explainer_publish, explainer_unpublish
from tests.factories import ExplainerFactory

pytestmark = pytest.mark.django_db


def test_repeat_visit_is_served_with_one_query(
    client, published_explainer, django_assert_num_queries
):
    """A page already rendered costs one query: the check that nothing changed."""
    first = client.get(published_explainer.get_absolute_url())
    with django_assert_num_queries(1):
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
    with django_assert_num_queries(3):
        client.get(url, {"utm_source": "x"})
