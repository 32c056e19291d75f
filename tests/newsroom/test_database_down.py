"""The primary database down: 503 with Retry-After for what needs it, cached pages still served."""

from django.db import OperationalError
from django.test import RequestFactory
from django.urls import reverse

from explainers.services import preview_link_create
from newsroom import db_router
from tests.factories import ExplainerFactory, TopicFactory
from tests.newsroom.test_replica import reader_pages

JSON = {"HTTP_ACCEPT": "application/json"}


def assert_unavailable(response):
    assert response.status_code == 503
    assert response["Retry-After"] == str(db_router.RETRY_AFTER_SECONDS)
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Cache-Control"] == "no-store"
    assert response.content.decode() == db_router.UNAVAILABLE


def test_a_reader_page_not_cached_is_503_with_retry_after(client, primary_down):
    """A page that needs the database answers a short plain 503, not a 500 page."""
    explainer = ExplainerFactory(published=True)
    primary_down()
    assert_unavailable(client.get(explainer.get_absolute_url()))
    assert_unavailable(client.get(reverse("explainers:list")))


def test_a_cached_reader_page_is_still_served(client, primary_down):
    """A page in the cache costs no query, so readers still get it while the database is down."""
    explainer = ExplainerFactory(published=True)
    first = client.get(explainer.get_absolute_url())
    primary_down()
    response = client.get(explainer.get_absolute_url())
    assert response.status_code == 200
    assert response.content == first.content


def test_a_vote_is_503_with_retry_after(client, primary_down):
    """A vote that cannot be stored is refused with a retry, not a 500."""
    explainer = ExplainerFactory(published=True)
    primary_down()
    response = client.post(
        reverse("feedback:vote", args=[explainer.slug]), {"useful": "yes"}, **JSON
    )
    assert response.status_code == 503
    assert response["Retry-After"]


def test_the_admin_is_503(admin_client, primary_down):
    """An editor in the admin gets the 503 too."""
    primary_down()
    assert_unavailable(admin_client.get(reverse("admin:index")))
    assert_unavailable(admin_client.get(reverse("admin:explainers_explainer_changelist")))


def test_a_preview_is_503(client, primary_down, superuser):
    """A shared preview link needs the database: 503."""
    _, token = preview_link_create(explainer=ExplainerFactory(), user=superuser)
    primary_down()
    assert_unavailable(client.get(reverse("explainers:preview", args=[token])))


def test_failures_outside_views_are_503_too():
    """handler500 answers 503 for a database failure raised by middleware, 500 otherwise."""
    request = RequestFactory().get("/")
    try:
        raise OperationalError("the database system is shutting down")
    except OperationalError:
        assert_unavailable(db_router.server_error(request))
    try:
        raise ValueError("a bug")
    except ValueError:
        assert db_router.server_error(request).status_code == 500


def test_a_page_on_a_connection_the_primary_dropped_is_served_after_one_retry(
    client, monkeypatch, transactional_db
):
    """The first use of a connection a primary restart broke is run again, not a 503."""
    from explainers import selectors

    explainer = ExplainerFactory(published=True)
    real, calls = selectors.page_state, []

    def first_fails(slug):
        calls.append(slug)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(slug)

    monkeypatch.setattr(selectors, "page_state", first_fails)
    monkeypatch.setattr(db_router, "connection_dropped", lambda: len(calls) == 1)
    response = client.get(explainer.get_absolute_url())
    assert response.status_code == 200 and len(calls) == 2


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


def test_a_sessions_503_is_the_readers_503(client, primary_down):
    """With the database down, a miss with a session cookie (whole stack) gets the fast
    path's 503: same status, body and headers, Content-Length included."""
    from importlib import import_module

    from django.conf import settings

    explainer = ExplainerFactory(published=True)
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session["seen"] = True
    session.save()
    primary_down()
    headers = ("Content-Type", "Content-Length", "Cache-Control", "Retry-After", "Vary")
    answers = []
    for cookie in (None, session.session_key):
        client.cookies.clear()
        if cookie:
            client.cookies[settings.SESSION_COOKIE_NAME] = cookie
        response = client.get(explainer.get_absolute_url())
        assert_unavailable(response)
        answers.append((response.content, {name: response.get(name) for name in headers}))
    assert answers[0] == answers[1]
