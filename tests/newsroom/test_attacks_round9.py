"""Round 9 attacks on readers' misses served by ReaderFastPathMiddleware through
db_router.serve_reader_page(): a database down, a replica failing, HEAD and odd cookies."""

import pytest
from django.db import OperationalError
from django.urls import reverse

from explainers import search
from newsroom import db_router
from newsroom.db_router import DEFAULT, REPLICA, ROUTING
from tests.factories import ExplainerFactory, TopicFactory
from tests.newsroom.test_database_down import assert_unavailable
from tests.newsroom.test_replica import reader_pages, replica  # noqa: F401 - a fixture


def test_a_head_miss_with_the_database_down_is_503(client, primary_down):
    """HEAD of a page not stored, database down: the plain 503, not a 500."""
    explainer = ExplainerFactory(published=True)
    primary_down()
    response = client.head(explainer.get_absolute_url())
    assert response.status_code == 503
    assert response["Cache-Control"] == "no-store"


def test_every_public_page_missed_with_the_database_down_is_503(client, primary_down):
    """Lists, feeds, sitemaps, topics and search, rendered in the fast path: 503 each."""
    explainer = ExplainerFactory(published=True, topic=TopicFactory())
    primary_down()
    for url in [*reader_pages(explainer), reverse("explainers:list") + "?page=2"]:
        assert_unavailable(client.get(url))


def test_a_malformed_session_cookie_with_the_database_down_is_503(client, primary_down):
    """Down the stack (a session cookie, even a broken one), the database down is a 503 too."""
    explainer = ExplainerFactory(published=True)
    primary_down()
    client.cookies["sessionid"] = "garbage"
    assert_unavailable(client.get(explainer.get_absolute_url()))


@pytest.mark.django_db(transaction=True, databases=[DEFAULT, REPLICA])
def test_a_replica_failing_after_the_page_query_is_retried_on_the_primary(
    client,
    replica,  # noqa: F811
    monkeypatch,
):
    """The page's one query read the replica, the related list failed there: a page, no 500."""
    explainer = ExplainerFactory(published=True, headline="Replica failure page")
    real = search.related
    failed = []

    def flaky(found):
        routing = ROUTING.get()
        if routing is not None and routing.used_replica and not failed:
            failed.append(found.pk)
            raise OperationalError("replica connection lost")
        return real(found)

    monkeypatch.setattr(search, "related", flaky)
    response = client.get(explainer.get_absolute_url())
    assert failed == [explainer.pk]
    assert response.status_code == 200
    assert "Replica failure page" in response.text
    assert db_router.HEALTH.usable is False
