"""The purge outbox, the worker command and the Fastly and Cloudflare backends."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from cdn.backends import CloudflareBackend, FastlyBackend, PurgeBackend, PurgeError
from cdn.models import PurgeRequest
from cdn.outbox import enqueue, purge_due
from explainers.services import explainer_publish, explainer_unpublish, notice_add
from tests.cdn.fake_api import FakeApi
from tests.factories import ExplainerFactory, TopicFactory

pytestmark = pytest.mark.django_db


class Recorder(PurgeBackend):
    def __init__(self, fail=0):
        self.calls, self.fail = [], fail

    def purge_batch(self, keys):
        if self.fail:
            self.fail -= 1
            raise PurgeError("CDN is down")
        self.calls.append(keys)


@pytest.fixture
def fastly(settings):
    api = FakeApi()
    settings.PURGE_BACKEND = "fastly"
    settings.FASTLY_API_URL, settings.FASTLY_SERVICE_ID = api.url, "svc123"
    settings.FASTLY_API_TOKEN = "fastly-token"
    yield api
    api.close()


@pytest.fixture
def cloudflare(settings):
    api = FakeApi()
    settings.PURGE_BACKEND = "cloudflare"
    settings.CLOUDFLARE_API_URL, settings.CLOUDFLARE_ZONE_ID = api.url, "zone9"
    settings.CLOUDFLARE_API_TOKEN = "cf-token"
    yield api
    api.close()


def queued_keys() -> set[str]:
    return {key for request in PurgeRequest.objects.all() for key in request.keys}


def test_nothing_is_queued_without_a_backend(
    published_explainer, django_capture_on_commit_callbacks
):
    """With NEWSROOM_PURGE_BACKEND unset (the default), changes leave no purge rows."""
    with django_capture_on_commit_callbacks(execute=True):
        explainer_unpublish(explainer=published_explainer, user=None)
    assert not PurgeRequest.objects.exists()


def test_a_change_queues_exactly_its_keys_after_commit(
    settings, published_explainer, superuser, django_capture_on_commit_callbacks
):
    """A notice queues its explainer and the lists showing notices, only once committed."""
    settings.PURGE_BACKEND = "varnish"
    with django_capture_on_commit_callbacks() as callbacks:
        notice_add(explainer=published_explainer, user=superuser, kind="update", text="News.")
        assert not PurgeRequest.objects.exists()
    for callback in callbacks:
        callback()
    explainer = f"explainer-{published_explainer.pk}"
    assert queued_keys() == {explainer, "corrections", "feeds", "sitemaps"}


def test_a_publication_queues_its_page_topic_and_lists(
    settings, django_capture_on_commit_callbacks
):
    """Publishing queues the explainer, its topic and every list it may join."""
    settings.PURGE_BACKEND = "varnish"
    explainer = ExplainerFactory(topic=TopicFactory())
    with django_capture_on_commit_callbacks(execute=True):
        explainer_publish(explainer=explainer, user=None)
    assert queued_keys() == {
        f"explainer-{explainer.pk}",
        f"topic-{explainer.topic_id}",
        *("home", "corrections", "topics", "search", "feeds", "sitemaps", "related"),
    }


def test_a_broken_queue_never_fails_the_save(settings, published_explainer, monkeypatch):
    """If the purge row cannot be written, the committed change still succeeds."""
    from django.db import DatabaseError

    settings.PURGE_BACKEND = "varnish"

    def broken(**kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(PurgeRequest.objects, "create", broken)
    enqueue(keys=["home"])  # logs, does not raise
    assert not PurgeRequest.objects.exists()


def test_the_worker_purges_queued_changes_in_one_batch():
    """Three queued changes are purged with one call holding the union of their keys."""
    for keys in (["home", "explainer-1"], ["home", "explainer-2"], ["corrections"]):
        PurgeRequest.objects.create(keys=keys)
    backend = Recorder()
    assert purge_due(backend) == (3, 0)
    assert backend.calls == [["corrections", "explainer-1", "explainer-2", "home"]]
    assert not PurgeRequest.objects.exists()


def test_a_failed_purge_is_retried_later_with_growing_delays():
    """A failure keeps the keys queued, with the error, and waits longer after each failure."""
    PurgeRequest.objects.create(keys=["home"])
    backend = Recorder(fail=2)
    assert purge_due(backend) == (0, 1)
    first = PurgeRequest.objects.get()
    assert first.attempts == 1 and first.last_error == "CDN is down"
    assert purge_due(backend) == (0, 0)  # not due yet
    PurgeRequest.objects.update(next_attempt_at=timezone.now())
    purge_due(backend)
    second = PurgeRequest.objects.get()
    assert second.attempts == 2
    assert second.next_attempt_at - timezone.now() > timedelta(seconds=0.9)
    PurgeRequest.objects.update(next_attempt_at=timezone.now())
    assert purge_due(backend) == (1, 0)
    assert backend.calls == [["home"]]


def test_run_purger_needs_a_backend(settings):
    """Without NEWSROOM_PURGE_BACKEND the worker says what to set, rather than idling."""
    settings.PURGE_BACKEND = ""
    with pytest.raises(CommandError, match="NEWSROOM_PURGE_BACKEND"):
        call_command("run_purger", "--once")


def test_fastly_purges_by_surrogate_key(fastly):
    """Fastly gets POST /service/<id>/purge with the keys and the API token."""
    PurgeRequest.objects.create(keys=["home", "explainer-7"])
    call_command("run_purger", "--once")
    (request,) = fastly.requests
    assert request["path"] == "/service/svc123/purge"
    assert request["headers"]["Fastly-Key"] == "fastly-token"
    assert request["json"] == {"surrogate_keys": ["explainer-7", "home"]}
    assert not PurgeRequest.objects.exists()


def test_fastly_batches_at_256_keys(fastly):
    """More keys than one call takes go in several calls."""
    FastlyBackend().purge([f"explainer-{n}" for n in range(300)])
    assert [len(r["json"]["surrogate_keys"]) for r in fastly.requests] == [256, 44]


def test_a_fastly_error_keeps_the_keys_queued(fastly):
    """A 5xx from Fastly leaves the request queued with the answer as its error."""
    fastly.answers.append((503, {"msg": "try later"}))
    PurgeRequest.objects.create(keys=["home"])
    call_command("run_purger", "--once")
    request = PurgeRequest.objects.get()
    assert request.attempts == 1 and "503" in request.last_error


def test_cloudflare_purges_by_cache_tag(cloudflare):
    """Cloudflare gets POST /zones/<id>/purge_cache with the tags and a bearer token."""
    PurgeRequest.objects.create(keys=["topic-3", "home"])
    call_command("run_purger", "--once")
    (request,) = cloudflare.requests
    assert request["path"] == "/client/v4/zones/zone9/purge_cache"
    assert request["headers"]["Authorization"] == "Bearer cf-token"
    assert request["json"] == {"tags": ["home", "topic-3"]}


def test_cloudflare_batches_at_30_tags(cloudflare):
    """Cloudflare takes 30 tags a call."""
    CloudflareBackend().purge([f"explainer-{n}" for n in range(61)])
    assert [len(r["json"]["tags"]) for r in cloudflare.requests] == [30, 30, 1]


def test_cloudflare_must_confirm_the_purge(cloudflare):
    """A 200 whose body does not say success is a failure, retried later."""
    cloudflare.answers.append((200, {"success": False, "errors": [{"message": "bad tag"}]}))
    with pytest.raises(PurgeError, match="did not confirm"):
        CloudflareBackend().purge(["home"])


def test_an_unreachable_cdn_is_a_purge_error(settings):
    """A refused connection is a PurgeError, so the keys stay queued."""
    settings.FASTLY_API_URL, settings.FASTLY_SERVICE_ID = "http://127.0.0.1:9", "x"
    settings.FASTLY_API_TOKEN = "t"
    with pytest.raises(PurgeError):
        FastlyBackend().purge(["home"])
