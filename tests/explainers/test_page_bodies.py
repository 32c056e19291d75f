"""A page-cache miss for an explainer whose page has not changed: one query, no rendering."""

import pytest
from django.test.signals import template_rendered

from explainers import page_cache
from explainers.services import notice_add
from tests.factories import ExplainerFactory, TopicFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def renders():
    """The templates rendered while the test runs, by name."""
    names = []

    def seen(sender, template, **kwargs):
        names.append(template.name)

    template_rendered.connect(seen)
    yield names
    template_rendered.disconnect(seen)


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
