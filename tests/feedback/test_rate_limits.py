"""The vote rate limit holds against what an attacker can vary: headers, addresses, cookies."""

import datetime
import importlib.util

import pytest
import time_machine
from django.core import checks
from django.core.cache import caches
from django.test import RequestFactory
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from feedback import guards
from feedback.models import Rating
from tests.services import redis_url

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}
PROXY = "10.0.0.2"  # the proxy in front of the application: every request's REMOTE_ADDR


@pytest.fixture(autouse=True)
def start_of_an_hour():
    """Tests start just after a window opens, so no limit resets half-way through one."""
    now = datetime.datetime.now(tz=datetime.UTC).replace(minute=0, second=1, microsecond=0)
    with time_machine.travel(now, tick=True):
        yield


@pytest.fixture
def behind_a_proxy(settings):
    settings.FEEDBACK_CLIENT_IP_HEADER = "X-Forwarded-For"
    settings.FEEDBACK_RATE_LIMIT = "3/m"


@pytest.fixture
def redis_counters(settings):
    """Both caches in the test Redis database, as NEWSROOM_CACHE_URL=redis://… configures."""
    url = redis_url()
    backend = "django.core.cache.backends.redis.RedisCache"
    settings.CACHES = {
        "default": {"BACKEND": backend, "LOCATION": url},
        "ratelimit": {"BACKEND": backend, "LOCATION": url, "KEY_PREFIX": "ratelimit"},
    }
    return caches["ratelimit"]._cache.get_client(write=True)


def vote(client, explainer, **extra):
    return client.post(
        reverse("feedback:vote", args=[explainer.slug]), {"useful": "yes"}, **JSON, **extra
    ).status_code


def test_spoofed_forwarded_for_does_not_escape_the_vote_rate_limit(client, live, settings):
    """Votes varying the left-most X-Forwarded-For but not the proxy's entry are one client."""
    settings.FEEDBACK_CLIENT_IP_HEADER = "X-Forwarded-For"
    settings.FEEDBACK_RATE_LIMIT = "3/m"
    # 10 votes, each with a different left-most address but the same proxy-added right-most one
    statuses = [
        vote(client, live, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 203.0.113.7")
        for n in range(10)
    ]
    assert statuses == [200] * 3 + [429] * 7
    assert Rating.objects.count() == 1


def test_readers_behind_one_proxy_keep_their_own_allowance(client, live, behind_a_proxy):
    """The address the proxy appended is the client: two readers behind one proxy are two."""
    for _ in range(3):
        vote(client, live, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert vote(client, live, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.7") == 429
    assert vote(client, live, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.8") == 200


def test_two_proxies_count_the_second_address_from_the_right(
    client, live, behind_a_proxy, settings
):
    """With FEEDBACK_PROXY_COUNT=2 the client is second from the right, whatever the ends say."""
    settings.FEEDBACK_PROXY_COUNT = 2
    statuses = [
        vote(
            client,
            live,
            REMOTE_ADDR=PROXY,
            # client-written, the client as the CDN saw it, the CDN node nginx saw
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 203.0.113.7, 198.51.100.{n}",
        )
        for n in range(6)
    ]
    assert statuses == [200] * 3 + [429] * 3
    other = "192.0.2.1, 203.0.113.8, 198.51.100.1"
    assert vote(client, live, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=other) == 200


def test_a_sender_past_a_bypassed_proxy_cannot_rotate_addresses(
    client, live, behind_a_proxy, settings
):
    """A header shorter than FEEDBACK_PROXY_COUNT may be all the sender's: REMOTE_ADDR counts."""
    settings.FEEDBACK_PROXY_COUNT = 3
    statuses = [
        vote(client, live, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 203.0.113.7")
        for n in range(5)
    ]
    assert statuses == [200] * 3 + [429] * 2


def test_header_is_ignored_unless_configured(client, live, settings):
    """Without FEEDBACK_CLIENT_IP_HEADER a client cannot pick its address with X-Forwarded-For."""
    settings.FEEDBACK_RATE_LIMIT = "3/m"
    statuses = [
        vote(client, live, REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
        for n in range(5)
    ]
    assert statuses == [200] * 3 + [429] * 2


@pytest.mark.parametrize(
    "junk",
    ["unknown", "999.1.1.1", "<script>", "203.0.113.7:port", "[::1", "1.2.3.4/24", "x" * 5000],
)
def test_junk_in_the_header_is_the_proxy_not_a_new_client(client, live, behind_a_proxy, junk):
    """An entry that is no address never crashes and counts as REMOTE_ADDR, however it varies."""
    statuses = [
        vote(client, live, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"{junk}{'x' * n}")
        for n in range(5)
    ]
    assert statuses == [200] * 3 + [429] * 2


def test_ipv6_addresses_in_one_slash_64_are_one_client(client, live, settings):
    """Rotating through the addresses of one /64 gains nothing; another /64 is another client."""
    settings.FEEDBACK_RATE_LIMIT = "3/m"
    statuses = [
        vote(client, live, REMOTE_ADDR=f"2001:db8:1:2:{n:x}:{n * 7:x}:{n * 13:x}:{n + 1:x}")
        for n in range(8)
    ]
    assert statuses == [200] * 3 + [429] * 5
    assert vote(client, live, REMOTE_ADDR="2001:db8:1:3::1") == 200


def test_ipv6_rotation_behind_a_proxy_is_one_client(client, live, behind_a_proxy):
    """The /64 rule applies to the address the proxy reports, too."""
    statuses = [
        vote(client, live, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"2001:db8:1:2::{n:x}")
        for n in range(1, 6)
    ]
    assert statuses == [200] * 3 + [429] * 2


def test_ipv4_mapped_ipv6_is_the_ipv4_client(client, live, settings):
    """::ffff:203.0.113.7 is 203.0.113.7: a dual-stack socket does not double the allowance."""
    settings.FEEDBACK_RATE_LIMIT = "2/m"
    assert vote(client, live, REMOTE_ADDR="203.0.113.7") == 200
    assert vote(client, live, REMOTE_ADDR="::ffff:203.0.113.7") == 200
    assert vote(client, live, REMOTE_ADDR="::ffff:cb00:7107") == 429


def test_junk_requests_do_not_evict_the_counters(client, live, settings):
    """After 1,000 junk GETs to the site's pages the client is still over its limit."""
    settings.FEEDBACK_RATE_LIMIT = "3/m"
    for _ in range(3):
        vote(client, live)
    assert vote(client, live) == 429
    page = live.get_absolute_url()
    # Mostly variants a page cache might keep (a 200 each), the rest cheap 404s.
    junk = [
        *[lambda n: f"/?page={'0' * (n % 50)}1&voted=x{n}"] * 4,
        lambda n: f"{page}?voted=x{n}",
        lambda n: f"{page}?sent={n}",
        lambda n: f"/?page={n}",
        lambda n: f"/corrections/?page={n}",
        lambda n: f"/corrections/?sent={n}",
        lambda n: f"/explainers/no-such-{n}/",
    ]
    for n in range(1000):
        assert client.get(junk[n % len(junk)](n)).status_code < 500
    assert vote(client, live) == 429


def test_cookie_less_votes_share_the_client_limit(client, live, settings):
    """A burst of votes without a reader cookie, each a 'new reader', is limited all the same."""
    settings.FEEDBACK_RATE_LIMIT = "3/m"
    statuses = []
    for _ in range(6):
        client.cookies.clear()
        statuses.append(vote(client, live))
    assert statuses == [200] * 3 + [429] * 3
    assert Rating.objects.count() == 3


def test_forged_reader_cookies_share_the_client_limit(client, live, settings):
    """A fresh, well-formed reader cookie on every vote is no fresh allowance either."""
    settings.FEEDBACK_RATE_LIMIT = "3/m"
    statuses = []
    for n in range(6):
        client.cookies["newsroom_reader"] = f"{n:032x}"
        statuses.append(vote(client, live))
    assert statuses == [200] * 3 + [429] * 3


def test_client_key_is_a_keyed_hash(rf, settings):
    """The key depends on the secret and shows nothing of the address."""
    request = rf.post("/", REMOTE_ADDR="203.0.113.7")
    first = guards.client_key(request)
    assert len(first) == 32 and set(first) <= set("0123456789abcdef")
    settings.SECRET_KEY = "another-secret-" * 4
    assert guards.client_key(request) != first


def test_vote_behind_a_proxy_is_still_one_query(
    client, live, behind_a_proxy, django_assert_num_queries
):
    """Working out the client costs no database query."""
    vote(client, live, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.7")
    with django_assert_num_queries(1):
        vote(client, live, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="192.0.2.1, 203.0.113.7")


@hypothesis_settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(header=st.text(max_size=200), proxies=st.integers(min_value=1, max_value=4))
def test_any_forwarded_for_value_is_below_500(client, live, settings, header, proxies):
    """Whatever the header holds, a vote answers below 500."""
    settings.FEEDBACK_CLIENT_IP_HEADER = "X-Forwarded-For"
    settings.FEEDBACK_PROXY_COUNT = proxies
    settings.FEEDBACK_RATE_LIMIT = "100000/s"
    assert vote(client, live, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=header) < 500


def test_counters_live_apart_from_the_page_cache(settings):
    """The default configuration gives the counters a store of their own, not the pages' one."""
    assert settings.CACHES[guards.RATE_LIMIT_CACHE]["LOCATION"] != settings.CACHES["default"].get(
        "LOCATION", ""
    )
    assert settings.CACHES[guards.RATE_LIMIT_CACHE]["OPTIONS"]["MAX_ENTRIES"] >= 100_000


def test_redis_limit_holds_and_stores_only_keyed_hashes(client, live, settings, redis_counters):
    """With Redis the limit holds; only votes write counters, which hide the address and expire
    once their window is over, not before."""
    settings.FEEDBACK_RATE_LIMIT = "3/m"
    address = "198.51.100.23"
    statuses = [vote(client, live, REMOTE_ADDR=address) for _ in range(5)]
    for n in range(20):
        client.get(f"{live.get_absolute_url()}?voted=x{n}", REMOTE_ADDR=address)
    assert statuses == [200] * 3 + [429] * 2
    counters = [key.decode() for key in redis_counters.scan_iter("ratelimit:*")]
    assert len(counters) == 1
    assert address not in " ".join(key.decode() for key in redis_counters.scan_iter("*"))
    assert 60 <= redis_counters.ttl(counters[0]) <= 61
    assert caches["ratelimit"].get(counters[0].split(":", 2)[2]) == 5


def production_check(settings, backend: str) -> list[str]:
    settings.PRODUCTION = True
    settings.CACHES = {**settings.CACHES, "ratelimit": {"BACKEND": backend}}
    return [message.id for message in checks.run_checks(tags=[checks.Tags.caches])]


@pytest.mark.parametrize(
    "backend", ["newsroom.cache.LocalCache", "django.core.cache.backends.locmem.LocMemCache"]
)
def test_check_warns_when_production_counts_per_process(settings, backend):
    """In production, counters in each process's memory are a feedback.W001 warning."""
    ids = production_check(settings, backend)
    assert "feedback.W001" in ids


def test_check_is_quiet_with_redis(settings):
    """Redis-backed counters in production raise no warning."""
    ids = production_check(settings, "django.core.cache.backends.redis.RedisCache")
    assert "feedback.W001" not in ids


def test_check_is_quiet_in_development(settings):
    """make run's single process may count in memory."""
    assert "feedback.W001" not in [m.id for m in checks.run_checks(tags=[checks.Tags.caches])]


def unreachable_counters(settings, backend="django.core.cache.backends.redis.RedisCache"):
    settings.CACHES = {
        **settings.CACHES,
        "ratelimit": {
            "BACKEND": backend,
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        },
    }


def test_counters_unreachable_fail_open_records_the_vote(client, live, settings, caplog):
    """With Redis down a vote is recorded uncounted by default, and a warning says so."""
    unreachable_counters(settings)
    response = client.post(reverse("feedback:vote", args=[live.slug]), {"useful": "yes"}, **JSON)
    assert response.status_code == 200
    assert Rating.objects.count() == 1
    assert "counters cannot be reached" in caplog.text


def test_counters_unreachable_warns_once_per_outage(client, live, settings, caplog):
    """Ten votes during one outage log one warning, not ten."""
    unreachable_counters(settings, "newsroom.cache.ResilientRedisCache")
    for _ in range(10):
        client.post(reverse("feedback:vote", args=[live.slug]), {"useful": "yes"}, **JSON)
    assert caplog.text.count("counters cannot be reached") == 1


def test_counters_unreachable_fail_closed_is_503_and_stores_nothing(client, live, settings):
    """NEWSROOM_RATELIMIT_FAIL_CLOSED refuses uncounted votes with a retry, not a 500."""
    unreachable_counters(settings)
    settings.RATELIMIT_FAIL_CLOSED = True
    response = client.post(reverse("feedback:vote", args=[live.slug]), {"useful": "yes"}, **JSON)
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert "cannot be counted" in response.json()["error"]
    assert not Rating.objects.exists()


def test_votes_for_made_up_slugs_store_nothing(client, settings):
    """Posting to addresses of explainers that don't exist leaves no cache entries behind."""
    from django.core.cache import cache

    settings.FEEDBACK_RATE_LIMIT = "1000/m"
    before = len(cache._cache)
    for n in range(50):
        client.post(f"/explainers/no-such-{n}/feedback/", {"useful": "yes"})
    assert len(cache._cache) - before <= 2  # at most the versions of "home" and ALL


def test_a_6to4_host_cannot_rotate_its_48_to_escape_the_vote_limit():
    """All addresses of one 6to4 site (2002:V4ADDR::/48, one IPv4 host) count as one client."""
    rf = RequestFactory()
    # 2002:c000:0201::/48 belongs to whoever holds 192.0.2.1; it may use any of its 65,536 /64s.
    keys = {
        guards.client_key(rf.post("/", REMOTE_ADDR=f"2002:c000:201:{subnet:x}::1"))
        for subnet in range(1, 9)
    }
    assert len(keys) == 1


@pytest.mark.parametrize(
    ("rate", "parsed"), [("5/s", (5, 1)), ("30/m", (30, 60)), ("600/h", (600, 3600))]
)
def test_a_rate_is_a_count_per_second_minute_or_hour(rate, parsed):
    """FEEDBACK_RATE_LIMIT reads as so many posts a second, a minute or an hour."""
    assert guards.parse_rate(rate) == parsed


def test_counters_back_after_an_outage_say_so_once(rf, monkeypatch, caplog):
    """When the counters answer again, one warning says votes are limited again, not one a vote."""
    request = rf.post("/", REMOTE_ADDR="203.0.113.7")
    monkeypatch.setattr(guards, "FAILING_OPEN", False)

    def unreachable(key, window):
        raise guards.CountersUnavailable

    monkeypatch.setattr(guards, "count_post", unreachable)
    assert guards.over_rate_limit(request) is False
    monkeypatch.setattr(guards, "count_post", lambda key, window: 1)
    for _ in range(3):
        assert guards.over_rate_limit(request) is False
    assert caplog.text.count("reachable again") == 1


def test_votes_spread_over_a_window_count_together(client, live, settings):
    """Posts seconds apart within one minute share one "/m" allowance."""
    settings.FEEDBACK_RATE_LIMIT = "3/m"
    start = datetime.datetime.now(tz=datetime.UTC).replace(minute=0, second=1, microsecond=0)
    statuses = []
    with time_machine.travel(start, tick=False) as traveller:
        for _ in range(4):
            statuses.append(vote(client, live))
            traveller.shift(datetime.timedelta(seconds=5))
    assert statuses == [200, 200, 200, 429]


def test_redis_counters_are_written_to_the_primary(client, live, settings, redis_counters):
    """With read replicas configured, the counters go to the first (writable) server."""
    replica = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    ratelimit = {**settings.CACHES["ratelimit"], "LOCATION": [redis_url(), replica]}
    settings.CACHES = {**settings.CACHES, "ratelimit": ratelimit}
    settings.FEEDBACK_RATE_LIMIT = "2/m"
    assert [vote(client, live) for _ in range(3)] == [200, 200, 429]


def test_a_per_second_limit_holds_with_redis(client, live, settings, redis_counters):
    """A "/s" limit holds on Redis too: its counter lives out the second it counts."""
    settings.FEEDBACK_RATE_LIMIT = "2/s"
    start = datetime.datetime.now(tz=datetime.UTC).replace(minute=0, second=1, microsecond=0)
    with time_machine.travel(start, tick=False):
        assert [vote(client, live) for _ in range(3)] == [200, 200, 429]


def test_a_per_second_limit_holds_in_memory(client, live, settings):
    """A "/s" limit holds on the in-memory counters too (make run's single process)."""
    settings.FEEDBACK_RATE_LIMIT = "2/s"
    start = datetime.datetime.now(tz=datetime.UTC).replace(minute=0, second=1, microsecond=0)
    with time_machine.travel(start, tick=False):
        assert [vote(client, live) for _ in range(3)] == [200, 200, 429]


def test_a_new_process_is_not_failing_open(rf, caplog):
    """A process starts out counting: its first counted vote logs no "reachable again"."""
    spec = importlib.util.find_spec("feedback.guards")
    fresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fresh)
    fresh.count_post = lambda key, window: 1
    assert fresh.over_rate_limit(rf.post("/", REMOTE_ADDR="203.0.113.7")) is False
    assert "reachable again" not in caplog.text
