from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from explainers import page_cache, selectors
from explainers.models import SlugRedirect, Topic
from explainers.services import explainer_publish, explainer_unpublish
from tests.factories import ExplainerFactory, TopicFactory, editor
from tests.http import max_age
from tests.services import redis_url

pytestmark = pytest.mark.django_db


def test_repeat_visit_is_served_without_queries(
    client, published_explainer, django_assert_num_queries
):
    """A page already rendered is served from the cache without touching the database."""
    first = client.get(published_explainer.get_absolute_url())
    with django_assert_num_queries(0):
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


@pytest.mark.parametrize("method", ["get", "head"])
@pytest.mark.parametrize("query", ["?junk=1", "?page=01", "?page=2&page=3", "?PAGE=2"])
def test_a_redirect_to_the_canonical_address_is_kept_by_no_shared_cache(client, method, query):
    """The 301 a made-up query gets is the browser's alone: a CDN would keep one per query."""
    response = getattr(client, method)("/" + query)
    assert response.status_code == 301
    assert response["Surrogate-Control"] == response["CDN-Cache-Control"] == "no-store"
    directives = [directive.strip() for directive in response["Cache-Control"].split(",")]
    assert "private" in directives and "public" not in directives


@pytest.mark.parametrize("cookie", ["", "sessionid=garbage"], ids=["reader", "session"])
@pytest.mark.parametrize(
    ("query", "location"),
    [
        ("?junk=1", "/"),
        ("?utm_source=x&page=2", "/?page=2"),
        ("?page=2&page=2&junk=", "/?page=2"),
    ],
)
def test_an_unknown_parameter_redirects_to_the_pages_address(
    client, cookie, query, location, django_assert_num_queries
):
    """?junk=<anything> is a 301 to the page without it, worked out without a query or render."""
    ExplainerFactory.create_batch(21, published=True)
    client.cookies.load(cookie)
    with django_assert_num_queries(0):
        response = client.get("/" + query)
    assert response.status_code == 301 and response["Location"] == location
    assert stored_pages() == 0


@pytest.mark.parametrize("cookie", ["", "sessionid=garbage"], ids=["reader", "session"])
def test_an_unknown_parameter_on_an_explainer_keeps_only_the_vote_outcome(client, live, cookie):
    """On an explainer's page the known parameters stay, canonical, and the rest go."""
    client.cookies.load(cookie)
    response = client.get(live.get_absolute_url(), {"voted": "yes", "fbclid": "x"})
    assert response.status_code == 301
    assert response["Location"] == live.get_absolute_url() + "?voted=yes"


def test_an_unknown_parameter_redirects_without_the_middleware(client, live, settings):
    """Without ReaderFastPathMiddleware the view's wrapper redirects the same way."""
    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if m != "explainers.page_cache.ReaderFastPathMiddleware"
    ]
    response = client.get(live.get_absolute_url(), {"junk": "2"})
    assert response.status_code == 301 and response["Location"] == live.get_absolute_url()


@pytest.mark.parametrize(
    ("query", "location"),
    [
        ("?q=talks&junk=1", "/search/?q=talks"),
        ("?q=talks&page=1", "/search/?q=talks"),
        ("?q=talks&page=02", "/search/?q=talks&page=2"),
        ("?q=a&q=talks", "/search/?q=talks"),
        ("?q=&page=2", "/search/"),
        ("?q=+", "/search/"),
    ],
)
def test_a_search_address_written_another_way_redirects(client, query, location):
    """Search words and page numbers have one address, and nothing else rides along."""
    response = client.get("/search/" + query)
    assert response.status_code == 301 and response["Location"] == location


def test_search_results_are_not_stored_as_pages(client, published_explainer):
    """Words anyone may choose make no page cache entry (search keeps its own, bounded)."""
    assert client.get("/search/", {"q": "talks"}).status_code == 200
    assert client.get("/search/").status_code == 200
    assert stored_pages() == 1


def test_a_topic_rename_shows_at_once(client):
    """Renaming a topic refreshes the pages that show it."""
    explainer = ExplainerFactory(published=True, topic=TopicFactory(name="Diplomacy"))
    client.get(explainer.get_absolute_url())
    explainer.topic.name = "Foreign affairs"
    explainer.topic.save()
    assert "Foreign affairs" in client.get(explainer.get_absolute_url()).text


def test_a_lost_version_renders_afresh(client):
    """If the cache loses the version of a page's key, the page is rendered again, never stale."""
    explainer = ExplainerFactory(published=True, topic=TopicFactory(name="Diplomacy"))
    client.get(explainer.get_absolute_url())
    Topic.objects.filter(pk=explainer.topic_id).update(name="Renamed quietly")
    cache.delete(page_cache.VERSION_PREFIX + f"topic-{explainer.topic_id}")
    assert "Renamed quietly" in client.get(explainer.get_absolute_url()).text


# What the cache stores: canonical pages only, whatever the request says.


def cache_keys() -> list[str]:
    """Every key the default cache holds, whatever its backend."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        return [k.decode() for k in backend._cache.get_client().keys(backend.make_key("*"))]
    return list(backend._cache)


def entries() -> list[str]:
    """Stored keys other than the versions of surrogate keys (one per explainer, topic, list)."""
    return [key for key in cache_keys() if page_cache.VERSION_PREFIX not in key]


def stored_pages() -> int:
    return sum(":page:" in key for key in cache_keys())


def test_junk_query_values_do_not_fill_the_page_cache(client, live):
    """40 requests with junk values of page, voted and sent make at most a handful of entries."""
    home, page = reverse("explainers:list"), live.get_absolute_url()
    junk = [
        *((home, {"page": value}) for value in ("01", "001", "-1", "1e3", "0", "x", "1.0", "")),
        *((home, {"page": n}) for n in range(2, 10)),
        *((page, {"voted": f"x{n}"}) for n in range(8)),
        *((page, {"voted": "yes", "sent": n}) for n in range(2, 10)),
        *((page, {"voted": v}) for v in ("YES", "yes ", "1", "", "no\n", "nope", "y", "n")),
    ]
    assert len(junk) == 40
    for url, query in junk:
        assert client.get(url, query).status_code in {301, 404}
    assert len(entries()) <= 3


def test_host_ports_do_not_fill_the_page_cache(client, live):
    """20 requests with Host: localhost:<port> make one entry."""
    for port in range(1, 21):
        response = client.get(live.get_absolute_url(), HTTP_HOST=f"localhost:{port}")
        assert response.status_code == 200
        assert f"localhost:{port}/" not in response.text
    assert stored_pages() == 1


@pytest.mark.parametrize(
    ("query", "location"),
    [
        ("?page=1", "/"),
        ("?page=", "/"),
        ("?page=01", "/"),
        ("?page=002", "/?page=2"),
        ("?page=3&page=2", "/?page=2"),
        ("?utm_source=x&page=1", "/"),
    ],
)
def test_a_page_number_written_another_way_redirects_to_its_address(client, query, location):
    """Page 1, leading zeros and repeats answer 301 to the page's one address."""
    ExplainerFactory.create_batch(21, published=True)
    response = client.get("/" + query)
    assert response.status_code == 301 and response["Location"] == location
    assert "private" in response["Cache-Control"]


@pytest.mark.parametrize("value", ["0", "00", "-1", "+2", "1e3", "1.0", " 2", "２", "last", "x"])
def test_a_page_that_is_not_a_whole_number_is_404(client, published_explainer, value):
    """A page value that is not a plain whole number from 1 answers 404, and nothing is kept."""
    assert client.get("/", {"page": value}).status_code == 404
    assert stored_pages() == 0


def test_a_page_past_the_last_is_404_and_not_kept(client, published_explainer):
    """A well-written page number past the last answers 404 and is not stored."""
    assert client.get("/", {"page": 2}).status_code == 404
    assert client.get("/", {"page": "9" * 9}).status_code == 404
    assert client.get("/", {"page": "9" * 5000}).status_code == 404
    assert stored_pages() == 0


def test_later_pages_are_served_from_the_cache(client, django_assert_num_queries):
    """?page=2, a real page, is kept: a repeat visit costs no query."""
    ExplainerFactory.create_batch(21, published=True)
    first = client.get("/", {"page": 2})
    with django_assert_num_queries(0):
        assert client.get("/", {"page": 2}).content == first.content


def test_the_newer_link_on_page_two_is_the_home_page(client):
    """Page 2 links back to /, not to ?page=1, which would only redirect."""
    ExplainerFactory.create_batch(21, published=True)
    assert '<a rel="prev" href="/">' in client.get("/", {"page": 2}).text


def test_corrections_pages_are_canonical_too(client, published_explainer):
    """The corrections list redirects ?page=1 to its address and answers 404 to junk."""
    corrections = reverse("explainers:corrections")
    assert client.get(corrections, {"page": 1})["Location"] == corrections
    assert client.get(corrections, {"page": "01x"}).status_code == 404


@pytest.mark.parametrize(
    ("query", "location"),
    [
        ("?voted=x1", ""),
        ("?voted=YES", ""),
        ("?voted=yes&voted=maybe", ""),
        ("?sent=1", ""),
        ("?voted=x1&sent=1", ""),
        ("?voted=no&sent=2", "?voted=no"),
        ("?voted=yes&sent=1&sent=1", "?voted=yes&sent=1"),
        ("?voted=no&voted=no", "?voted=no"),
    ],
)
def test_a_vote_outcome_the_page_does_not_show_redirects(client, live, query, location):
    """Unknown voted or sent values answer 301 to the page without them."""
    response = client.get(live.get_absolute_url() + query)
    assert response.status_code == 301
    assert response["Location"] == live.get_absolute_url() + location


@pytest.mark.parametrize("query", ["?voted=yes", "?voted=no", "?voted=no&sent=1"])
def test_a_vote_outcome_is_served_from_the_cache(client, live, query, django_assert_num_queries):
    """The pages a reader lands on after voting are real pages: a repeat costs no query."""
    first = client.get(live.get_absolute_url() + query)
    assert first.status_code == 200 and "Thank" in first.text
    with django_assert_num_queries(0):
        assert client.get(live.get_absolute_url() + query).content == first.content


def test_parameter_order_makes_no_new_entry(client, live, django_assert_num_queries):
    """?sent=1&voted=yes is the same page, and the same entry, as ?voted=yes&sent=1."""
    client.get(live.get_absolute_url() + "?voted=yes&sent=1")
    with django_assert_num_queries(0):
        assert client.get(live.get_absolute_url() + "?sent=1&voted=yes").status_code == 200
    assert stored_pages() == 1


def test_page_is_not_a_parameter_of_an_explainer(client, live):
    """?page=2 on an explainer is an unknown parameter: a 301 to the page, nothing stored."""
    response = client.get(live.get_absolute_url(), {"page": "2"})
    assert response.status_code == 301 and response["Location"] == live.get_absolute_url()
    assert stored_pages() == 0


def test_scheme_makes_no_new_entry(client, live, django_assert_num_queries):
    """A page asked for over HTTPS and over HTTP is the same page and the same entry."""
    client.get(live.get_absolute_url())
    with django_assert_num_queries(0):
        client.get(live.get_absolute_url(), secure=True)
    assert stored_pages() == 1


def test_a_path_written_another_way_makes_no_new_entry(client, live, django_assert_num_queries):
    """A percent-encoded path names the same page, and the same entry."""
    client.get("/explainers/approved-slug/")
    with django_assert_num_queries(0):
        assert client.get("/explainers/approved%2Dslug/").status_code == 200
    assert stored_pages() == 1


def test_head_requests_are_held_to_the_same_values(client, live):
    """HEAD with junk values is redirected or refused like GET, and stores nothing."""
    assert client.head(live.get_absolute_url(), {"voted": "x1"}).status_code == 301
    assert client.head("/", {"page": "01"}).status_code == 301
    assert client.head("/", {"page": "x"}).status_code == 404
    assert stored_pages() == 0


# 10,000 junk requests, on the default per-process cache and on Redis.

JUNK_PAGES = ("0{n}", "00{n}", "-{n}", "{n}e3", "x{n}", "{n}.0", "{big}")


def junk_requests(explainer, count: int):
    """``count`` requests that vary page, voted, sent and the Host port, naming no new page."""
    page, corrections = explainer.get_absolute_url(), reverse("explainers:corrections")
    for n in range(count):
        host = {"HTTP_HOST": f"localhost:{n % 65535 + 1}"}
        value = JUNK_PAGES[n % len(JUNK_PAGES)].format(n=n, big=n + 2)
        yield [
            ("/", {"page": value}, host),
            (corrections, {"page": value}, host),
            (page, {"voted": f"x{n}"}, host),
            (page, {"voted": ("yes", "no")[n % 2], "sent": n + 2}, host),
            ((page, "/")[n % 2], {}, host),
        ][n % 5]


@pytest.fixture
def redis_cache(settings):
    """The default cache in Redis, under a prefix of its own, for counting what is stored."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url(),
            "KEY_PREFIX": "page-cache-fill",
        }
    }
    yield
    caches["default"].clear()


@pytest.fixture
def locmem_cache(settings):
    """The default per-process cache, big enough that evictions cannot hide what is stored."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "page-cache-fill",
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }
    yield
    caches["default"].clear()


@pytest.mark.parametrize("backend", ["locmem_cache", "redis_cache"])
def test_ten_thousand_junk_requests_add_a_handful_of_entries(client, live, backend, request):
    """10,000 junk values of page, voted, sent and Host port store the two real pages only."""
    request.getfixturevalue(backend)
    statuses = set()
    for path, query, headers in junk_requests(live, 10_000):
        statuses.add(client.get(path, query, **headers).status_code)
    assert statuses == {200, 301, 404}
    assert stored_pages() == 2
    assert len(entries()) <= 5


def test_pages_name_what_they_show_in_surrogate_keys(client, live):
    """Each public page lists the explainers, topic and list it shows, for CDN purges."""
    keys = f"explainer-{live.pk}"
    detail = client.get(live.get_absolute_url())
    assert keys in detail["Surrogate-Key"].split()
    assert f"topic-{live.topic_id}" in detail["Cache-Tag"].split(",")
    home = client.get("/")
    assert {"home", keys} <= set(home["Surrogate-Key"].split())
    again = client.get("/")  # from the cache, with the same keys
    assert again["Surrogate-Key"] == home["Surrogate-Key"]
    assert "corrections" in client.get("/corrections/")["Surrogate-Key"].split()


def test_a_hit_is_answered_before_the_session_layer(client, published_explainer, monkeypatch):
    """Stored pages skip sessions, CSRF and authentication, and keep the site-wide headers."""
    from django.contrib.sessions.middleware import SessionMiddleware

    url = published_explainer.get_absolute_url()
    first = client.get(url)

    def refused(self, request):
        raise AssertionError("a stored page went through the session layer")

    monkeypatch.setattr(SessionMiddleware, "process_request", refused)
    hit = client.get(url)
    assert hit.content == first.content
    assert hit["Content-Length"] == str(len(first.content))
    for header in ("Content-Security-Policy", "X-Frame-Options", "Permissions-Policy"):
        assert hit[header] == first[header]


def refuse_layers(monkeypatch):
    """Make the session, CSRF, user and routing middleware fail if a request reaches them."""
    from django.contrib.auth.middleware import AuthenticationMiddleware
    from django.contrib.sessions.middleware import SessionMiddleware
    from django.middleware.csrf import CsrfViewMiddleware

    from newsroom.db_router import DatabaseRoutingMiddleware

    def routed(self, request):
        raise AssertionError("a reader's page went through DatabaseRoutingMiddleware")

    def refused(self, request, *args):
        # Error pages' own decorator (requires_csrf_token) subclasses the CSRF middleware.
        if type(self) in {SessionMiddleware, CsrfViewMiddleware, AuthenticationMiddleware}:
            raise AssertionError(f"a reader's page went through {type(self).__name__}")
        return None

    monkeypatch.setattr(SessionMiddleware, "process_request", refused)
    monkeypatch.setattr(CsrfViewMiddleware, "process_view", refused)
    monkeypatch.setattr(AuthenticationMiddleware, "process_request", refused)
    monkeypatch.setattr(DatabaseRoutingMiddleware, "__call__", routed)


def test_a_readers_miss_is_rendered_before_the_session_layer(
    client, published_explainer, monkeypatch
):
    """A page rendered for a reader skips sessions, CSRF and users, and says its length."""
    url = published_explainer.get_absolute_url()
    refuse_layers(monkeypatch)
    miss = client.get(url)
    assert miss.status_code == 200
    assert published_explainer.headline in miss.text
    assert miss["Content-Length"] == str(len(miss.content))
    assert "Cookie" not in miss.get("Vary", "")
    assert "public" in miss["Cache-Control"]
    for header in ("Content-Security-Policy", "X-Frame-Options", "Permissions-Policy"):
        assert miss.has_header(header)


def test_every_public_page_renders_before_the_session_layer(client, monkeypatch):
    """Lists, feeds, sitemaps, search and robots.txt render for readers without those layers."""
    topic = ExplainerFactory(published=True, topic=TopicFactory(name="Diplomacy")).topic.slug
    refuse_layers(monkeypatch)
    for name, kwargs, query in [
        ("explainers:list", {}, {}),
        ("explainers:corrections", {}, {}),
        ("explainers:feed", {}, {}),
        ("explainers:search", {}, {}),
        ("explainers:search", {}, {"q": "story"}),
        ("explainers:topics", {}, {}),
        ("explainers:topic", {"slug": topic}, {}),
        ("explainers:topic-feed", {"slug": topic}, {}),
        ("explainers:sitemap-index", {}, {}),
        ("explainers:news-sitemap", {}, {}),
        ("robots", {}, {}),
        ("manifest", {}, {}),
    ]:
        response = client.get(reverse(name, kwargs=kwargs), query)
        assert response.status_code == 200, name


def test_a_missing_page_for_a_reader_is_a_404_page(client, monkeypatch):
    """An unknown explainer, asked for without a session, is the site's 404 page, not a 500."""
    refuse_layers(monkeypatch)
    response = client.get(reverse("explainers:detail", kwargs={"slug": "no-such-story"}))
    assert response.status_code == 404
    assert "<html" in response.text


def test_an_editors_miss_goes_down_the_stack(admin_client, published_explainer, monkeypatch):
    """With a session cookie the page is rendered below the session and user layers."""
    from django.contrib.auth.middleware import AuthenticationMiddleware

    seen = []
    original = AuthenticationMiddleware.process_request

    def counted(self, request):
        seen.append(request.path)
        return original(self, request)

    monkeypatch.setattr(AuthenticationMiddleware, "process_request", counted)
    response = admin_client.get(published_explainer.get_absolute_url())
    assert response.status_code == 200
    assert seen == [published_explainer.get_absolute_url()]


def test_a_stored_page_still_checks_the_host(client, published_explainer):
    """A Host the site does not serve gets 400, stored page or not."""
    url = published_explainer.get_absolute_url()
    client.get(url)
    assert client.get(url, HTTP_HOST="evil.example.org").status_code == 400


def test_pages_are_stored_without_the_middleware(
    client, published_explainer, settings, django_assert_num_queries
):
    """Without ReaderFastPathMiddleware the view's wrapper looks pages up itself."""
    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if m != "explainers.page_cache.ReaderFastPathMiddleware"
    ]
    url = published_explainer.get_absolute_url()
    first = client.get(url)
    with django_assert_num_queries(0):
        assert client.get(url).content == first.content


def test_a_redirect_worked_out_while_its_explainer_changed_is_kept_by_no_shared_cache(
    client, monkeypatch
):
    """An old slug's 301 worked out while its explainer changed goes out with max-age=0."""
    explainer = ExplainerFactory(published=True, topic=TopicFactory())
    SlugRedirect.objects.create(old_slug="old-address", explainer=explainer)
    read_state = selectors.page_state

    def state_then_change(slug):
        state = read_state(slug)
        page_cache.invalidate(f"explainer-{explainer.pk}")  # e.g. its slug changes now
        return state

    monkeypatch.setattr(selectors, "page_state", state_then_change)
    during = client.get("/explainers/old-address/")
    assert during.status_code == 301
    assert max_age(during) == 0 == max_age(during, "Surrogate-Control")
    assert max_age(during, "CDN-Cache-Control") == 0


def test_an_old_slugs_redirect_keeps_its_lifetime_when_nothing_changed(client):
    """A 301 from an old slug that nothing changed under is still kept by shared caches."""
    explainer = ExplainerFactory(published=True, topic=TopicFactory())
    SlugRedirect.objects.create(old_slug="old-address", explainer=explainer)
    response = client.get("/explainers/old-address/")
    assert response.status_code == 301
    assert max_age(response) > 0 and max_age(response, "Surrogate-Control") > 0


@pytest.mark.parametrize("change", ["publication", "expiry", "scheduled change"])
def test_a_change_elsewhere_bounds_a_page_whose_body_is_kept(client, renders, change):
    """Body from the cache, related list redone: the next change anywhere still bounds it."""
    explainer = ExplainerFactory(published=True, topic=TopicFactory())
    url = explainer.get_absolute_url()
    client.get(url)  # body and related list kept
    at = timezone.now() + timedelta(minutes=10)
    if change == "publication":
        ExplainerFactory(published=True, published_at=at, topic=TopicFactory())
    elif change == "expiry":
        ExplainerFactory(published=True, expires_at=at, topic=TopicFactory())
    else:
        other = ExplainerFactory(published=True, topic=TopicFactory())
        other.headline = "A headline scheduled for later"
        other.save()
        explainer_publish(explainer=other, user=None, at=at)
    renders.clear()
    with time_machine.travel(at - timedelta(seconds=5), tick=False):
        response = client.get(url)
    assert "explainers/explainer_detail.html" not in renders
    assert "includes/related.html" in renders
    assert 0 <= max_age(response) <= 5
    assert 0 <= max_age(response, "Surrogate-Control") <= 5


def test_nothing_of_a_logged_in_request_reaches_the_shared_page(client):
    """A staff member's visit neither writes their name, a CSRF token nor Vary: Cookie."""
    explainer = ExplainerFactory(published=True)
    staff = editor("page-cache-staff")
    client.force_login(staff)
    response = client.get(explainer.get_absolute_url())
    html = response.text
    assert "page-cache-staff" not in html
    assert "csrfmiddlewaretoken" not in html
    assert "Cookie" not in response.get("Vary", "")
    assert "csrftoken" not in response.cookies
    client.logout()
    assert client.get(explainer.get_absolute_url()).text == html


class _Unreachable:
    def get_many(self, keys):
        return {}

    def add(self, *args, **kwargs):
        return False


def test_an_unreachable_cache_gives_each_key_a_version_nothing_has(monkeypatch):
    """Without the cache, each key gets its own "0-unavailable-…" version, never shared."""
    monkeypatch.setattr(page_cache, "cache", _Unreachable())
    first = page_cache.settle_versions(["a", "b", "a"])
    second = page_cache.settle_versions(["a", "b"])
    assert set(first) == {"a", "b"}
    assert all(v.startswith("0-unavailable-") for v in (*first.values(), *second.values()))
    assert first["a"] != first["b"] and first["a"] != second["a"]


@pytest.mark.parametrize(
    ("query", "canonical"),
    [
        ("", {}),
        ("page=", {}),
        ("page=1", {}),
        ("page=01", {}),
        ("page=007", {"page": "7"}),
        ("page=3&page=", {}),
    ],
)
def test_the_canonical_page_number_is_the_last_value_without_zeros(query, canonical):
    """page_number reads the last value as Django does: empty or 1 is the first page."""
    assert page_cache.page_number(QueryDict(query)) == canonical
    assert page_cache.sitemap_page_number(QueryDict(query.replace("page", "p"))) == {
        "p" if name == "page" else name: value for name, value in canonical.items()
    }


@pytest.mark.parametrize(
    ("query", "canonical"),
    [
        ("voted=yes&sent=0&sent=1", {"voted": "yes", "sent": "1"}),
        ("voted=yes&sent=1&sent=0", {"voted": "yes"}),
        ("voted=maybe&voted=no", {"voted": "no"}),
    ],
)
def test_the_canonical_vote_outcome_reads_the_last_values(query, canonical):
    """vote_outcome reads the last voted and sent values, as the page does."""
    assert page_cache.vote_outcome(QueryDict(query)) == canonical
