"""Read replica routing: readers read the replica while it is usable; all else the primary."""

import copy
import json
import socket
import time
from contextlib import ExitStack, contextmanager
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.db import OperationalError, connections
from django.db.utils import load_backend
from django.http import HttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from explainers import page_cache, search
from explainers.models import Explainer
from explainers.services import preview_link_create
from newsroom import db_router
from newsroom.db_router import (
    DEFAULT,
    REPLICA,
    ROUTING,
    PrimaryPosition,
    ReplicaPosition,
    ReplicaRouter,
    RequestRouting,
)
from tests.factories import ExplainerFactory, TopicFactory
from tests.http import max_age
from tests.newsroom.test_redis_down import use_redis
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


def long_ago():
    """What the test set up was changed long ago, for the page cache: it forgets its versions.

    A page read from the replica within its allowed lag of a change to what it shows is read
    again from the primary (page_cache.public_page); these tests are about the routing.
    """
    cache.clear()
    # As a cache that has held versions since long ago (see page_cache.cache_began).
    cache.set(page_cache.VERSION_PREFIX + page_cache.ALL, "0-0-long-ago", timeout=None)


def primary_at(written, *, started="primary", system=1, timeline=1, clock_ahead=0.0):
    """A fake ``db_router.primary_position()``: the primary at ``written`` bytes of WAL."""
    return lambda: PrimaryPosition(
        written=written,
        server_started=started,
        system=system,
        timeline=timeline,
        clock=time.time() + clock_ahead,
    )


def proven(monkeypatch, *, written=100, replayed=100, last_commit=None, primary=None, **position):
    """The primary has written ``written`` bytes of WAL; the replica has replayed ``replayed``."""
    monkeypatch.setattr(db_router, "primary_position", primary or primary_at(written))
    found = {
        "in_recovery": True,
        "replayed": replayed,
        "last_commit": last_commit,
        "server_started": "replica",
        "receiving": True,
        "system": 1,
        "timeline": 1,
        **position,
    }
    monkeypatch.setattr(db_router, "replica_position", lambda: ReplicaPosition(**found))
    # As a PostgreSQL replica (the tests' mirror is the primary itself, or SQLite).
    monkeypatch.setattr(connections[REPLICA], "vendor", "postgresql")


def check() -> bool:
    """Whether readers may read the replica, checked now."""
    db_router.HEALTH.checked_at = -float("inf")
    return db_router.replica_ready()


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
    long_ago()
    for url in reader_pages(explainer):
        with queries() as (primary, replica_queries):
            assert client.get(url).status_code == 200, url
        assert len(replica_queries) > 0, url
        # The once-a-second check reads the primary's WAL position: no page is read there.
        reads = [q["sql"] for q in primary if q["sql"] != db_router.PRIMARY_SQL]
        assert reads == [], url


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
    long_ago()
    with queries() as (primary, replica_queries):
        assert client.get(explainer.get_absolute_url()).status_code == 200
        assert client.get(reverse("explainers:list")).status_code == 200
    assert len(replica_queries) == 0
    assert len(primary) > 0
    assert caplog.text.count("what the primary had committed 11.0 s ago") == 1


def test_a_replica_that_catches_up_is_read_again(
    client, replica, monkeypatch, caplog, every_request_checks
):
    """Once back under the limit, readers read the replica again by themselves."""
    explainer = ExplainerFactory(published=True)
    monkeypatch.setattr(db_router, "replica_lag", lambda: 30.0)
    client.get(explainer.get_absolute_url())
    monkeypatch.setattr(db_router, "replica_lag", lambda: 0.5)
    long_ago()
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


def test_while_a_check_is_slow_readers_leave_a_replica_once_its_proof_runs_out(
    replica, monkeypatch
):
    """A check stuck on a connect timeout: other threads go by the last result only while its
    proof covers them (the page cache's margin), not for as long as the check takes."""
    proven(monkeypatch, written=900, replayed=500, last_commit=time.time() - 9)
    assert check() is True  # 9 s behind at most: within the 10 s allowed
    checked = time.monotonic()
    with db_router.HEALTH.lock:  # a check is due, and under way in another thread
        monkeypatch.setattr(time, "monotonic", lambda: checked + 1.5)
        assert db_router.replica_ready() is True  # 10.5 s: within the margin (10 + 1 s)
        monkeypatch.setattr(time, "monotonic", lambda: checked + 2.5)
        assert db_router.replica_ready() is False  # 11.5 s


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
def test_the_position_queries_run_on_postgresql(replica):
    """Both positions are read on PostgreSQL; a "replica" that is the primary itself: 0 s behind."""
    if connections[DEFAULT].vendor != "postgresql":
        pytest.skip("the position queries are PostgreSQL's; run with DATABASE_URL=postgres://…")
    primary = db_router.primary_position()
    position = db_router.replica_position()
    assert primary.written > 0 and primary.timeline >= 1
    assert abs(primary.clock - time.time()) < 60
    assert position.in_recovery is False and position.replayed is None
    assert position.server_started == primary.server_started
    assert position.system == primary.system
    assert db_router.replica_lag() == 0.0


@pytest.mark.postgresql
def test_a_server_that_is_not_the_primary_nor_in_recovery_is_not_used(replica, monkeypatch, caplog):
    """A promoted replica (not in recovery, another postmaster) is no copy of the primary."""
    if connections[DEFAULT].vendor != "postgresql":
        pytest.skip("the position queries are PostgreSQL's; run with DATABASE_URL=postgres://…")
    monkeypatch.setattr(db_router, "primary_position", primary_at(100, started="another"))
    assert check() is False
    assert db_router.HEALTH.status == "not a replica"
    assert "is not in recovery" in caplog.text


def test_a_replica_that_receives_nothing_is_not_used_once_the_primary_writes(
    replica, monkeypatch, caplog
):
    """Replication cut: replayed all it received, the primary wrote on; not fresh, one warning."""
    an_hour_ago = time.time() - 3600
    proven(monkeypatch, written=100, replayed=100, last_commit=an_hour_ago, receiving=False)
    assert check() is True  # nothing was written since: it holds all the primary does
    proven(monkeypatch, written=180, replayed=100, last_commit=an_hour_ago, receiving=False)
    assert check() is True  # what it holds was proven current a moment ago
    db_router.HEALTH.fresh_as_of -= 11  # eleven seconds later
    assert check() is False
    assert check() is False
    assert db_router.HEALTH.status == "behind"
    assert caplog.text.count("Readers are served from the primary") == 1
    assert "no WAL receiver runs on it" in caplog.text


def test_an_idle_primarys_replica_is_fresh_however_old_its_last_commit(replica, monkeypatch):
    """Replayed up to the primary's position just read: fresh, whatever its last commit's time."""
    proven(monkeypatch, written=500, replayed=500, last_commit=time.time() - 86400)
    assert check() is True
    assert db_router.HEALTH.status == "ok"


def test_a_busy_primarys_replica_is_fresh_by_its_last_replayed_commit(replica, monkeypatch):
    """Behind the primary's position, but its last replayed commit is recent: fresh."""
    proven(monkeypatch, written=500, replayed=400, last_commit=time.time() - 0.5)
    assert check() is True
    proven(monkeypatch, written=900, replayed=400, last_commit=time.time() - 12)
    db_router.HEALTH.fresh_as_of = -float("inf")
    assert check() is False


def test_a_replica_that_replays_the_position_just_read_a_moment_later_is_fresh(
    replica, monkeypatch, caplog
):
    """Replay trails each commit a little: given SETTLE_SECONDS, no warning and no primary reads."""
    proven(monkeypatch, written=500, replayed=400, last_commit=time.time() - 3600)
    positions = iter([400, 500])
    monkeypatch.setattr(
        db_router,
        "replica_position",
        lambda: ReplicaPosition(True, next(positions), time.time() - 3600, "replica", True, 1, 1),
    )
    assert check() is True
    assert caplog.text == ""


def test_a_proof_stands_while_the_primary_does_not_answer(replica, monkeypatch):
    """A primary restarting: the last proof holds for NEWSROOM_REPLICA_MAX_LAG_SECONDS, no more."""
    proven(monkeypatch, written=500, replayed=500)
    assert check() is True
    monkeypatch.setattr(db_router, "primary_position", lambda: None)
    assert check() is True
    db_router.HEALTH.fresh_as_of = time.time() - 11
    assert check() is False


def test_a_replica_whose_position_moves_back_loses_its_proof(replica, monkeypatch):
    """Another server at the replica's address (rebuilt, swapped): earlier proofs are dropped."""
    proven(monkeypatch, written=500, replayed=500)
    assert check() is True
    monkeypatch.setattr(db_router, "primary_position", lambda: None)
    proven(monkeypatch, written=500, replayed=300)
    monkeypatch.setattr(db_router, "primary_position", lambda: None)
    assert check() is False


def test_a_replica_of_another_cluster_is_not_used_however_far_it_has_replayed(
    replica, monkeypatch, caplog
):
    """Another cluster's server at the replica's address (a staging replica, a restored backup)
    further along its own WAL: not a copy of the primary, whatever its positions say."""
    proven(monkeypatch, written=500, replayed=900, last_commit=time.time(), system=2)
    assert check() is False
    assert db_router.HEALTH.status == "not a replica"
    assert "another database cluster" in caplog.text
    monkeypatch.setattr(db_router, "primary_position", lambda: None)  # nor while it is down
    assert check() is False


def test_a_replica_left_on_the_timeline_before_a_failover_is_not_proven_by_its_position(
    replica, monkeypatch
):
    """After a failover, a server still on the old timeline (the old primary demoted, unrewound)
    may have replayed further than the new primary has written, on a history the new primary
    never had: its position proves nothing, only its last commit's time."""
    proven(monkeypatch, written=500, replayed=900, last_commit=time.time() - 3600, timeline=1)
    monkeypatch.setattr(db_router, "primary_position", primary_at(500, timeline=2))
    assert check() is False
    assert db_router.HEALTH.status == "behind"


def test_a_primary_whose_clock_runs_ahead_proves_nothing_more(replica, monkeypatch):
    """Commit times are the primary's clock: the last commit's age is read on that clock, so a
    primary a minute ahead of the app does not make a replica cut off half a minute ago fresh."""
    ahead = primary_at(900, clock_ahead=60)
    proven(monkeypatch, written=900, replayed=500, last_commit=time.time() + 30, primary=ahead)
    assert check() is False
    behind = primary_at(900, clock_ahead=-60)
    proven(monkeypatch, written=900, replayed=500, last_commit=time.time() - 61, primary=behind)
    assert check() is True  # a commit a second ago by the primary's clock


def test_readyz_says_whether_readers_read_the_replica(client, replica, monkeypatch):
    """/readyz names the replica's state and stays 200: the primary serves readers meanwhile."""
    proven(monkeypatch, written=500, replayed=500)
    assert client.get("/readyz").json()["replica"] == "ok"
    proven(monkeypatch, written=900, replayed=500, last_commit=time.time() - 60)
    db_router.HEALTH.fresh_as_of = -float("inf")
    db_router.HEALTH.checked_at = -float("inf")
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["ready"] is True and response.json()["replica"] == "behind"


def test_readyz_says_nothing_of_a_replica_not_configured(client):
    """Without DATABASE_REPLICA_URL, /readyz has no "replica" entry."""
    assert "replica" not in client.get("/readyz").json()


def database_read(explainer):
    """A public page that says which database it read, tagged with ``explainer``."""

    def view(request):
        database = ReplicaRouter().db_for_read(Explainer)
        Explainer.objects.using(database).filter(pk=explainer.pk).exists()
        return page_cache.tag(HttpResponse(f"read {database}"), f"explainer-{explainer.pk}")

    return page_cache.public_page(view)


def test_a_page_read_from_the_replica_just_after_its_change_is_read_from_the_primary(
    rf, replica, every_request_checks
):
    """Within the replica's allowed lag of a change to what it shows, a page reads the primary."""
    explainer = ExplainerFactory(published=True)
    page = database_read(explainer)
    page_cache.invalidate(f"explainer-{explainer.pk}")
    response = db_router.serve_reader_page(rf.get("/page/"), page, (), {})
    assert response.content == b"read default"


def test_a_page_read_from_the_replica_just_after_the_cache_lost_its_versions_reads_the_primary(
    rf, replica, every_request_checks
):
    """Redis restarted empty between two requests (nobody saw it down): the versions of recent
    changes are gone with it, so a reader's page reads the primary within the replica's lag."""
    explainer = ExplainerFactory(published=True)
    long_ago()
    page = database_read(explainer)
    page_cache.invalidate(f"explainer-{explainer.pk}")  # an unpublish, its CDN purge sent
    cache.clear()
    response = db_router.serve_reader_page(rf.get("/page/"), page, (), {})
    assert response.content == b"read default"


def test_a_page_whose_keys_changed_long_ago_is_read_from_the_replica(
    rf, replica, every_request_checks
):
    """Nothing it shows changed lately: the page reads the replica, and a CDN may keep it."""
    explainer = ExplainerFactory(published=True)
    long_ago()
    page = database_read(explainer)
    response = db_router.serve_reader_page(rf.get("/page/"), page, (), {})
    assert response.content == b"read replica"


def test_a_page_read_from_the_replica_while_the_cache_is_down_is_read_from_the_primary(
    rf, replica, every_request_checks, settings
):
    """Redis down, no version tells what changed lately (an unpublish a second ago, its CDN purge
    sent): a reader's page reads the primary rather than a replica that may not have it."""
    explainer = ExplainerFactory(published=True)
    long_ago()
    use_redis(settings, f"redis://127.0.0.1:{free_port()}/0")
    page = database_read(explainer)
    response = db_router.serve_reader_page(rf.get("/page/"), page, (), {})
    assert response.content == b"read default"


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


def test_a_replica_failing_after_the_page_query_is_retried_on_the_primary(
    client, replica, monkeypatch
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
