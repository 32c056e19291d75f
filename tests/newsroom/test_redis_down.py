"""Redis down: pages are served uncached, votes recorded, and caching resumes by itself."""

import shutil
import socket
import subprocess
import time
from contextlib import contextmanager

import pytest
import redis
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.urls import reverse

from explainers import page_cache
from explainers.services import explainer_unpublish, notice_add
from feedback.models import Rating
from newsroom import cache as resilient
from tests.factories import ExplainerFactory, TopicFactory
from tests.services import missing, redis_url

pytestmark = pytest.mark.django_db

BACKEND = "newsroom.cache.ResilientRedisCache"
JSON = {"HTTP_ACCEPT": "application/json"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def use_redis(settings, location: str) -> None:
    """Both cache aliases in the Redis at ``location``, as NEWSROOM_CACHE_URL=redis:// sets."""
    options = {"socket_connect_timeout": 0.5, "socket_timeout": 1.0}
    settings.CACHES = {
        "default": {"BACKEND": BACKEND, "LOCATION": location, "OPTIONS": options},
        "ratelimit": {
            "BACKEND": BACKEND,
            "LOCATION": location,
            "OPTIONS": options,
            "KEY_PREFIX": "ratelimit",
        },
    }


@pytest.fixture
def closed_port(settings):
    """Caches pointed at a loopback port nothing listens on."""
    use_redis(settings, f"redis://127.0.0.1:{free_port()}/0")


@contextmanager
def redis_server(port: int, tmp_path):
    """A redis-server of the test's own on ``port``, stopped on leaving."""
    binary = shutil.which("redis-server")
    if binary is None:
        missing("redis-server is not installed: 'apt-get install redis-server'.")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        + ["--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port, socket_connect_timeout=0.2)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.exceptions.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("redis-server did not start")
                time.sleep(0.05)
        yield
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=10)


def test_an_unreachable_cache_answers_as_an_empty_one(closed_port):
    """Reads miss, writes are dropped, add adds nothing, set_many names every key unstored."""
    assert cache.get("a", "default") == "default"
    assert cache.get_many(["a", "b"]) == {}
    assert cache.set("a", 1) is None
    assert cache.add("a", 1) is False
    assert cache.has_key("a") is False
    assert cache.delete("a") is False
    assert sorted(cache.set_many({"a": 1, "b": 2})) == ["a", "b"]
    assert cache.delete_many(["a"]) is None
    assert cache.get_or_set("a", 5) == 5
    with pytest.raises(ValueError):
        cache.incr("a")


def test_an_outage_is_logged_once(closed_port, caplog):
    """Many failing calls in one outage log one warning."""
    for _ in range(5):
        cache.get("a")
        time.sleep(0.01)
    resilient.OUTAGES[caches["default"].location].retry_at = 0  # the pause is over
    cache.get("a")
    assert caplog.text.count("cannot be reached") == 1


def test_calls_skip_redis_during_the_pause(closed_port, monkeypatch):
    """After a failure, calls do not wait on Redis again until the pause is over."""
    cache.get("a")
    tries = []
    monkeypatch.setattr(RedisCache, "get", lambda *args, **kwargs: tries.append(1))
    cache.get("a")
    assert tries == []


def test_pages_are_served_rendered_while_redis_is_down(client, closed_port, published_explainer):
    """Every reader page is rendered and answered 200 without a cache."""
    for url in (
        published_explainer.get_absolute_url(),
        reverse("explainers:list"),
        reverse("explainers:topics"),
        reverse("explainers:corrections"),
        reverse("explainers:feed"),
        reverse("explainers:sitemap-index"),
        reverse("explainers:search") + "?q=anything",
    ):
        assert client.get(url).status_code == 200, url


def test_votes_are_recorded_while_redis_is_down(client, closed_port, published_explainer):
    """A vote is stored (rate limit failing open) while Redis cannot be reached."""
    url = reverse("feedback:vote", args=[published_explainer.slug])
    response = client.post(url, {"useful": "yes"}, **JSON)
    assert response.status_code == 200
    assert Rating.objects.filter(explainer=published_explainer).count() == 1


def test_sessions_do_not_depend_on_redis(settings, closed_port, admin_client):
    """Sessions live in the database: an editor's admin works while Redis is down."""
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"
    assert admin_client.get(reverse("admin:index")).status_code == 200


def test_caching_resumes_when_redis_returns(client, settings, tmp_path, published_explainer):
    """A Redis killed and started again is used again by itself, with no restart of the site."""
    port = free_port()
    use_redis(settings, f"redis://127.0.0.1:{port}/0")
    url = published_explainer.get_absolute_url()
    with redis_server(port, tmp_path):
        client.get(url)
        assert cache.get(page_cache.cache_key(url, {})) is not None
    assert client.get(url).status_code == 200  # down: rendered, not stored
    resilient.OUTAGES[caches["default"].location].retry_at = 0
    with redis_server(port, tmp_path):
        assert client.get(url).status_code == 200
        assert cache.get(page_cache.cache_key(url, {})) is not None


def test_an_invalidation_lost_in_a_blip_is_made_good(
    client, settings, monkeypatch, superuser, published_explainer
):
    """Writes fail while Redis keeps its data: once they work, no page stored before is served."""
    use_redis(settings, redis_url())
    url = published_explainer.get_absolute_url()
    client.get(url)
    assert "A fix we made." not in client.get(url).text  # stored, and served from the cache

    def unreachable(*args, **kwargs):
        raise redis.exceptions.ConnectionError("blip")

    with monkeypatch.context() as blip:
        blip.setattr(RedisCache, "set_many", unreachable)
        notice_add(
            explainer=published_explainer, user=superuser, kind="correction", text="A fix we made."
        )
    assert page_cache.OWED
    resilient.OUTAGES[caches["default"].location].retry_at = 0
    assert "A fix we made." in client.get(url).text
    assert not page_cache.OWED


def test_a_lost_invalidation_makes_other_pages_stale_too(
    client, settings, monkeypatch, published_explainer
):
    """Pages whose keys were not named are stale as well: what the lost write named is unknown."""
    use_redis(settings, redis_url())
    home = reverse("explainers:list")
    client.get(home)
    stored = cache.get(page_cache.cache_key(home, {}))
    assert page_cache.versions(stored["versions"]) == stored["versions"]
    page_cache.OWED.add("explainer-0")
    page_cache.repay()
    assert page_cache.versions(stored["versions"]) != stored["versions"]


def test_an_invalidation_owed_by_a_process_that_died_is_made_good(
    client, settings, monkeypatch, superuser
):
    """Another process saw the outage too: when Redis answers, it makes every kept list stale."""
    use_redis(settings, redis_url())
    topic = TopicFactory()
    page = ExplainerFactory(published=True, topic=topic)
    sibling = ExplainerFactory(published=True, topic=topic, headline="Soon withdrawn")
    assert "Soon withdrawn" in client.get(page.get_absolute_url()).text

    def unreachable(*args, **kwargs):
        raise redis.exceptions.ConnectionError("blip")

    with monkeypatch.context() as blip:
        blip.setattr(RedisCache, "set_many", unreachable)
        explainer_unpublish(explainer=sibling, user=superuser)
        caches["default"].get("anything")  # this process's own request during the blip
    page_cache.OWED.clear()  # the process that owed the invalidation is gone
    resilient.OUTAGES[caches["default"].location].retry_at = 0
    assert "Soon withdrawn" not in client.get(page.get_absolute_url()).text
