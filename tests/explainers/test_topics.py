from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from explainers import services
from explainers.models import Explainer, Topic
from tests.explainers.admin_client import logged_in, writer_edits
from tests.explainers.conftest import SECRET_WORDS
from tests.factories import ExplainerFactory, TopicFactory, UserFactory, editor

pytestmark = pytest.mark.django_db

TOPICS = reverse("explainers:topics")


def topic_url(slug: str) -> str:
    return reverse("explainers:topic", kwargs={"slug": slug})


def test_topics_lists_topics_with_published_explainers_and_counts(client):
    """/topics/ lists each topic with a published explainer and how many it has."""
    diplomacy = TopicFactory(name="Diplomacy", slug="diplomacy")
    ExplainerFactory.create_batch(2, published=True, topic=diplomacy)
    TopicFactory(name="Empty topic")
    response = client.get(TOPICS)
    assert response.status_code == 200
    assert [(t.name, t.explainer_count) for t in response.context["topics"]] == [("Diplomacy", 2)]
    assert f'href="{topic_url("diplomacy")}"' in response.text
    assert "2 explainers" in response.text
    assert "Empty topic" not in response.text


def test_topic_page_lists_newest_first(client):
    """A topic's page lists its published explainers, newest first."""
    topic = TopicFactory(slug="economy")
    now = timezone.now()
    older = ExplainerFactory(published=True, topic=topic, published_at=now - timedelta(days=2))
    newer = ExplainerFactory(published=True, topic=topic, published_at=now - timedelta(days=1))
    ExplainerFactory(published=True)  # another topic
    response = client.get(topic_url("economy"))
    assert list(response.context["explainers"]) == [newer, older]
    assert f'<h1 class="page-title">{topic.name}</h1>' in response.text


def test_topic_page_pages_by_twenty(client):
    """Twenty explainers a page; past the last page is 404."""
    topic = TopicFactory(slug="many")
    ExplainerFactory.create_batch(21, published=True, topic=topic)
    assert len(client.get(topic_url("many")).context["explainers"]) == 20
    assert len(client.get(topic_url("many"), {"page": 2}).context["explainers"]) == 1
    assert client.get(topic_url("many"), {"page": 3}).status_code == 404
    assert client.get(topic_url("many"), {"page": "x"}).status_code == 404


def test_unknown_or_unpublished_topic_is_404(client):
    """An unknown topic, or one with no published explainer, answers 404."""
    TopicFactory(slug="drafts-only")
    ExplainerFactory(topic=TopicFactory(slug="drafts-only-2"))
    assert client.get(topic_url("nope")).status_code == 404
    assert client.get(topic_url("drafts-only")).status_code == 404
    assert client.get(topic_url("drafts-only-2")).status_code == 404


def test_card_and_explainer_page_link_to_the_topic(client):
    """The topic on a card and on an explainer page links to the topic's page."""
    explainer = ExplainerFactory(published=True, topic=TopicFactory(slug="science"))
    link = f'href="{topic_url("science")}"'
    assert link in client.get(reverse("explainers:list")).text
    assert link in client.get(explainer.get_absolute_url()).text


def test_topics_never_show_what_readers_may_not_see(client, unseen):
    """Drafts, scheduled, expired, archived and pending edits never reach topic pages."""
    pages = [client.get(TOPICS).text, client.get(topic_url("approved-topic")).text]
    for word in SECRET_WORDS:
        assert client.get(topic_url(f"topic-{word}")).status_code == 404, word
        for html in pages:
            assert word not in html.lower(), word
    assert "Approved headline security talks" in pages[1]
    assert pages[0].count('class="count"') == 1 and "2 explainers" in pages[0]


def test_topic_follows_the_published_version(client):
    """Moving an explainer to another topic shows only once the change is published."""
    old, new = TopicFactory(slug="old-topic"), TopicFactory(slug="new-topic")
    explainer = ExplainerFactory(topic=old)
    services.explainer_publish(explainer=explainer, user=editor())
    explainer.topic = new
    explainer.save()
    assert client.get(topic_url("new-topic")).status_code == 404
    services.explainer_publish(explainer=explainer, user=editor())
    assert client.get(topic_url("old-topic")).status_code == 404
    assert client.get(topic_url("new-topic")).status_code == 200


def test_topic_pages_are_cached_and_tagged(client, django_assert_max_num_queries):
    """Topic pages are served from the page cache and name what they show."""
    topic = TopicFactory(slug="cached")
    explainer = ExplainerFactory(published=True, topic=topic)
    first = client.get(topic_url("cached"))
    assert f"topic-{topic.pk}" in first["Surrogate-Key"].split()
    assert f"explainer-{explainer.pk}" in first["Surrogate-Key"].split()
    assert "topics" in client.get(TOPICS)["Surrogate-Key"].split()
    with django_assert_max_num_queries(0):
        assert client.get(topic_url("cached")).content == first.content


def test_topic_queries_do_not_grow(client, django_assert_max_num_queries):
    """/topics/ and a topic page make a fixed number of queries however many explainers."""
    topics = TopicFactory.create_batch(5)
    for n in range(25):
        ExplainerFactory(published=True, topic=topics[n % 5])
    with django_assert_max_num_queries(2):
        assert client.get(TOPICS).status_code == 200
    # With the next scheduled change, which the page's lifetime must not outlast.
    with django_assert_max_num_queries(5):
        assert client.get(topic_url(topics[0].slug)).status_code == 200


def test_a_topic_a_published_version_shows_cannot_be_deleted(client, live):
    """Deleting a topic only the live revision still uses is refused; the page stays up."""
    approved_topic = live.topic
    writer_edits(live, topic=TopicFactory(name="Pending topic").pk)
    root = logged_in(UserFactory(username="root", is_staff=True, is_superuser=True))
    response = root.post(f"/admin/explainers/topic/{approved_topic.pk}/delete/", {"post": "yes"})
    assert "its published version shows this topic" in response.text
    bulk = {"action": "delete_selected", "_selected_action": [approved_topic.pk], "post": "yes"}
    root.post("/admin/explainers/topic/", bulk)

    assert Topic.objects.filter(pk=approved_topic.pk).exists()
    page = client.get("/explainers/approved-slug/")
    assert page.status_code == 200 and "Approved topic" in page.text


def test_a_vanished_topic_does_not_break_the_page(client, live):
    """Should a revision's topic be gone anyway, the page drops it instead of failing."""
    Explainer.objects.filter(pk=live.pk).update(topic=None)
    Topic.objects.filter(name="Approved topic").delete()
    page = client.get("/explainers/approved-slug/")
    assert page.status_code == 200 and "Approved topic" not in page.text
