"""Read replica routing: readers read the replica while it is usable; all else the primary."""

import copy
import json
import socket
from contextlib import ExitStack, contextmanager

import pytest
from django.db import connections
from django.db.utils import load_backend
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from explainers.models import Explainer
from explainers.services import preview_link_create
from newsroom import db_router
from newsroom.db_router import DEFAULT, REPLICA, ROUTING, ReplicaRouter, RequestRouting
from tests.factories import ExplainerFactory, TopicFactory
from tests.newsroom.test_settings import manage

JSON = {"HTTP_ACCEPT": "application/json"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


pytestmark = pytest.mark.django_db(transaction=True, databases=[DEFAULT, REPLICA])


@pytest.fixture
def replica(monkeypatch):
    """Readers read the "replica" alias (tests/conftest.py): a mirror of the test database.

    It sees what a test commits, as a replica does, so these tests commit (transaction=True).
    """
    monkeypatch.setattr(db_router, "replica_configured", lambda: True)


@pytest.fixture
def dead_replica(replica):
    """A PostgreSQL replica at a loopback port nothing listens on."""
    mirror = connections.settings[REPLICA]
    config = copy.deepcopy(mirror)
    config.update(
        {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "newsroom",
            "USER": "newsroom",
            "HOST": "127.0.0.1",
            "PORT": str(free_port()),
            "OPTIONS": {"connect_timeout": 2},
        }
    )
    db_router.close_replica()
    connections.settings[REPLICA] = config
    connections[REPLICA] = load_backend(config["ENGINE"]).DatabaseWrapper(config, REPLICA)
    yield
    db_router.close_replica()
    connections.settings[REPLICA] = mirror
    del connections[REPLICA]


@pytest.fixture
def every_request_checks(monkeypatch):
    """The replica's state is checked on every request instead of once a second."""
    monkeypatch.setattr(db_router, "CHECK_SECONDS", 0)


@contextmanager
def queries():
    """(primary, replica) query logs of what runs inside."""
    with ExitStack() as stack:
        primary = stack.enter_context(CaptureQueriesContext(connections[DEFAULT]))
        replica = stack.enter_context(CaptureQueriesContext(connections[REPLICA]))
        yield primary, replica


def reader_pages(explainer) -> list[str]:
    return [
        explainer.get_absolute_url(),
        reverse("explainers:list"),
        reverse("explainers:topics"),
        reverse("explainers:topic", args=[explainer.topic.slug]),
        reverse("explainers:corrections"),
        reverse("explainers:feed"),
        reverse("explainers:sitemap-index"),
        reverse("explainers:news-sitemap"),
        reverse("explainers:search") + "?q=budget",
    ]


def test_reader_pages_read_the_replica_only(client, replica):
    """Explainer pages, home, topics, corrections, feeds, sitemaps and search read the replica."""
    explainer = ExplainerFactory(published=True, topic=TopicFactory())
    for url in reader_pages(explainer):
        with queries() as (primary, replica_queries):
            assert client.get(url).status_code == 200, url
        assert len(replica_queries) > 0, url
        assert len(primary) == 0, (url, [q["sql"] for q in primary])


def test_votes_use_the_primary(client, replica):
    """A vote reads and writes the primary."""
    explainer = ExplainerFactory(published=True)
    with queries() as (primary, replica_queries):
        response = client.post(
            reverse("feedback:vote", args=[explainer.slug]), {"useful": "yes"}, **JSON
        )
    assert response.status_code == 200
    assert len(replica_queries) == 0
    assert len(primary) > 0


def test_editors_read_the_primary(admin_client, replica):
    """A logged-in editor reads the primary, on reader pages as in the admin."""
    explainer = ExplainerFactory(published=True)
    with queries() as (_, replica_queries):
        assert admin_client.get(explainer.get_absolute_url()).status_code == 200
        assert admin_client.get(reverse("admin:index")).status_code == 200
    assert len(replica_queries) == 0


def test_previews_read_the_primary(client, replica, superuser):
    """A shared preview link reads the primary: a draft may be newer than the replica."""
    draft = ExplainerFactory()
    _, token = preview_link_create(explainer=draft, user=superuser)
    with queries() as (_, replica_queries):
        assert client.get(reverse("explainers:preview", args=[token])).status_code == 200
    assert len(replica_queries) == 0


def test_outside_requests_everything_uses_the_primary(replica):
    """Management commands, workers and shells: no request, so reads and writes use the primary."""
    router = ReplicaRouter()
    assert router.db_for_read(Explainer) == DEFAULT
    assert router.db_for_write(Explainer) == DEFAULT
    assert router.allow_migrate(REPLICA, "explainers") is False


def test_writes_in_a_reader_request_use_the_primary(replica):
    """Even inside a reader's request, a write goes to the primary."""
    token = ROUTING.set(RequestRouting(reader=True))
    try:
        router = ReplicaRouter()
        assert router.db_for_read(Explainer) == REPLICA
        assert router.db_for_write(Explainer, instance=Explainer()) == DEFAULT
    finally:
        ROUTING.reset(token)


def test_a_lagging_replica_sends_readers_to_the_primary_with_one_warning(
    client, replica, monkeypatch, caplog, every_request_checks
):
    """Over NEWSROOM_REPLICA_MAX_LAG_SECONDS behind, readers read the primary; one warning."""
    monkeypatch.setattr(db_router, "replica_lag", lambda: 11.0)
    explainer = ExplainerFactory(published=True)
    with queries() as (primary, replica_queries):
        assert client.get(explainer.get_absolute_url()).status_code == 200
        assert client.get(reverse("explainers:list")).status_code == 200
    assert len(replica_queries) == 0
    assert len(primary) > 0
    assert caplog.text.count("11.0 s behind the primary") == 1


def test_a_replica_that_catches_up_is_read_again(
    client, replica, monkeypatch, caplog, every_request_checks
):
    """Once back under the limit, readers read the replica again by themselves."""
    explainer = ExplainerFactory(published=True)
    monkeypatch.setattr(db_router, "replica_lag", lambda: 30.0)
    client.get(explainer.get_absolute_url())
    monkeypatch.setattr(db_router, "replica_lag", lambda: 0.5)
    with queries() as (primary, replica_queries):
        assert client.get(reverse("explainers:list")).status_code == 200
    assert len(replica_queries) > 0 and len(primary) == 0
    assert "usable again" in caplog.text


def test_the_lag_is_checked_at_most_once_a_second(client, replica, monkeypatch):
    """Many reader requests within a second check the replica's lag once."""
    checks = []
    monkeypatch.setattr(db_router, "replica_lag", lambda: checks.append(1) or 0.0)
    explainer = ExplainerFactory(published=True)
    for _ in range(5):
        client.get(explainer.get_absolute_url() + "?voted=yes")
        client.get(reverse("explainers:list"))
    assert len(checks) == 1


def test_an_unreachable_replica_sends_readers_to_the_primary(client, dead_replica, caplog):
    """A replica that cannot be reached: readers are served from the primary, with a warning."""
    explainer = ExplainerFactory(published=True)
    assert client.get(explainer.get_absolute_url()).status_code == 200
    assert client.get(reverse("explainers:list")).status_code == 200
    assert caplog.text.count("the read replica cannot be reached") == 1


def test_a_replica_failing_mid_request_is_retried_on_the_primary(
    client, dead_replica, monkeypatch, caplog
):
    """A reader's page whose replica query fails is rendered from the primary, not a 500."""
    monkeypatch.setattr(db_router, "replica_lag", lambda: 0.0)  # it answered the check
    explainer = ExplainerFactory(published=True)
    response = client.get(explainer.get_absolute_url())
    assert response.status_code == 200
    assert explainer.headline in response.text
    assert "failed a query" in caplog.text


@pytest.mark.postgresql
def test_the_lag_query_runs_on_postgresql(replica):
    """pg_last_xact_replay_timestamp() and friends answer; a server that replays nothing: 0."""
    if connections[DEFAULT].vendor != "postgresql":
        pytest.skip("the lag query is PostgreSQL's; run with DATABASE_URL=postgres://…")
    assert db_router.replica_lag() == 0.0


def test_replica_url_configures_a_test_mirror_with_short_timeouts(tmp_path):
    """DATABASE_REPLICA_URL adds a "replica" alias: PostgreSQL options, 2 s connect, test mirror."""
    code = (
        "import json; from django.conf import settings; "
        "print(json.dumps(settings.DATABASES['replica']))"
    )
    env = {"DATABASE_REPLICA_URL": "postgres://reader@replica.internal:5432/newsroom"}
    result = manage("shell", "-c", code, env_overrides=env, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    replica = json.loads(result.stdout.strip().splitlines()[-1])
    assert replica["HOST"] == "replica.internal"
    assert replica["OPTIONS"]["connect_timeout"] == 2
    assert replica["OPTIONS"]["server_side_binding"] is True
    assert replica["TEST"]["MIRROR"] == "default"
