"""Third attack on resilience: pages read from a lagging replica, /readyz, and the fast path."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from explainers import page_cache, search
from newsroom import db_router
from newsroom.db_router import DEFAULT, REPLICA
from tests.factories import ExplainerFactory, TopicFactory
from tests.http import max_age
from tests.newsroom.test_replica import queries

replica_db = pytest.mark.django_db(transaction=True, databases=[DEFAULT, REPLICA])


@pytest.fixture
def replica(monkeypatch):
    """Readers read the "replica" alias, a mirror of the test database (test_replica.py)."""
    monkeypatch.setattr(db_router, "replica_configured", lambda: True)


@replica_db
def test_a_page_read_from_the_replica_just_after_a_change_is_read_again_from_the_primary(
    client, replica, settings
):
    """Just after a change, a page read from the replica may be old: the primary's is sent and
    stored, with the CDN's full lifetime."""
    settings.CDN_CACHE_SECONDS = 86400
    explainer = ExplainerFactory(published=True)
    url = explainer.get_absolute_url()
    page_cache.invalidate(f"explainer-{explainer.pk}")  # as an edit's commit does
    with queries() as (primary, replica_queries):
        response = client.get(url)
    assert replica_queries and primary
    assert max_age(response, "Surrogate-Control") == 86400
    with queries() as (primary, replica_queries):
        assert client.get(url).status_code == 200
    assert len(primary) == len(replica_queries) == 0, "the primary's page was not stored"


@replica_db
def test_a_related_list_read_from_the_replica_just_after_a_change_is_not_kept(
    client, replica, renders, monkeypatch
):
    """A sibling changed a moment ago: the list read from the replica is not kept."""
    topic = TopicFactory()
    explainer = ExplainerFactory(published=True, topic=topic)
    sibling = ExplainerFactory(published=True, topic=topic)
    page_cache.invalidate(f"explainer-{sibling.pk}")
    # The page is not read again from the primary: the list's own guard is what is tested.
    monkeypatch.setattr(db_router, "read_primary", lambda: None)
    url = explainer.get_absolute_url()
    client.get(url)
    renders.clear()
    client.get(url)
    assert "includes/related.html" in renders


@replica_db
def test_search_results_read_from_the_replica_just_after_a_change_are_not_kept(
    client, replica, renders, monkeypatch
):
    """A change a moment ago: results read from the replica are not kept in search's cache."""
    ExplainerFactory(published=True, headline="Budget vote")
    search.bump()
    monkeypatch.setattr(db_router, "read_primary", lambda: None)
    client.get("/search/", {"q": "budget"})
    renders.clear()
    client.get("/search/", {"q": "budget"})
    assert "explainers/search.html" in renders


@replica_db
def test_a_page_read_from_the_replica_long_after_changes_is_stored(client, replica):
    """With no change within the replica's allowed lag, its page is kept as any other."""
    explainer = ExplainerFactory(published=True)
    url = explainer.get_absolute_url()
    page_cache.invalidate(f"explainer-{explainer.pk}")
    with time_machine.travel(timezone.now() + timedelta(seconds=20), tick=False):
        client.get(url)
        with queries() as (primary, replica_queries):
            assert client.get(url).status_code == 200
    assert len(primary) == len(replica_queries) == 0


def test_readyz_names_no_address_of_an_unreachable_database(client, primary_down, caplog):
    """Anyone may ask /readyz: it says what is down, the log says where and why."""
    primary_down()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"
    assert "127.0.0.1" not in response.text and "5432" not in response.text
    assert '"127.0.0.1", port 5432' in caplog.text


@pytest.mark.django_db
def test_readyz_names_no_address_of_an_unreachable_redis(client, settings, caplog):
    """A Redis that does not answer: /readyz says so without its address."""
    from tests.newsroom.test_redis_down import free_port, use_redis

    port = free_port()
    use_redis(settings, f"redis://127.0.0.1:{port}/0")
    response = client.get("/readyz")
    assert response.json()["redis"] == "unreachable"
    assert str(port) not in response.text
    assert str(port) in caplog.text
