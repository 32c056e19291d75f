"""Two real gunicorn servers, one PostgreSQL database, one Redis: they behave as one site.

Nothing another process must see lives in a process's memory: page versions, rate-limit
counters, sessions and preview links are all in Redis or the database.
"""

import http.cookiejar
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.conf import global_settings
from django.conf import settings as django_settings
from django.db import connection
from django.urls import reverse

from explainers.services import (
    explainer_publish,
    explainer_unpublish,
    notice_add,
    preview_link_create,
)
from tests.factories import ExplainerFactory, UserFactory
from tests.feedback.test_shared_limit import free_port, wait_until_answering
from tests.newsroom.test_redis_down import use_redis
from tests.services import redis_url

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "two servers, one site"
RATE_LIMIT = "3/h"


class Browser:
    """A client with one cookie jar for every server (cookies ignore ports), no proxies."""

    def __init__(self):
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),
            urllib.request.HTTPCookieProcessor(self.cookies),
            NoRedirect(),
        )

    def request(self, url: str, data: dict | None = None, headers: dict | None = None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(url, data=body, headers=headers or {})
        try:
            with self.opener.open(request, timeout=15) as response:
                return response.status, response.read().decode(), response.headers
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(), exc.headers


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def database_url() -> str:
    db = connection.settings_dict
    password = f":{urllib.parse.quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture(scope="module")
def servers(django_db_setup, tmp_path_factory):
    """Two gunicorn servers on the test database and the test Redis, for the module's tests."""
    if connection.vendor != "postgresql":
        pytest.skip(
            "Two servers need one database they can both reach: the SQLite test database lives "
            "in this process's memory. Run with DATABASE_URL=postgres://… (.ci/run does)."
        )
    tmp_path = tmp_path_factory.mktemp("servers")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "FEEDBACK_"))}
    env.pop("DATABASE_REPLICA_URL", None)
    env.update(
        {
            "NEWSROOM_VAR_DIR": str(tmp_path),
            "DATABASE_URL": database_url(),
            "NEWSROOM_CACHE_URL": redis_url(),
            # Preview tokens are stored hashed with the key: every server must hold the same.
            "DJANGO_SECRET_KEY": django_settings.SECRET_KEY,
            "FEEDBACK_RATE_LIMIT": RATE_LIMIT,
            "DJANGO_DEBUG": "false",
            "NEWSROOM_REQUIRE_2FA": "false",
            "PYTHONUNBUFFERED": "1",
        }
    )
    started = []
    try:
        for name in ("a", "b"):
            port = free_port()
            log = tmp_path / f"gunicorn-{name}.log"
            process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "newsroom.wsgi:application"]
                + ["--workers", "1", "--bind", f"127.0.0.1:{port}"],
                cwd=ROOT,
                env=env,
                stdout=log.open("w"),
                stderr=subprocess.STDOUT,
            )
            started.append(process)
            wait_until_answering(process, port, log)
            started[-1].url = f"http://127.0.0.1:{port}"
        yield [process.url for process in started]
    finally:
        for process in started:
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(autouse=True)
def same_cache(settings, servers):
    """This process changes things in the servers' Redis (emptied for each test)."""
    use_redis(settings, redis_url())
    settings.FEEDBACK_RATE_LIMIT = RATE_LIMIT


@pytest.fixture
def editor(settings):
    """A superuser whose password the servers can check (their hashers, not the tests' MD5)."""
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    user = UserFactory(username="chief", is_staff=True, is_superuser=True)
    user.set_password(PASSWORD)
    user.save()
    return user


def test_a_change_made_through_one_is_seen_through_the_other_at_once(servers, editor):
    """A notice, a publication and an unpublication show on both servers on the next request."""
    a, b = servers
    reader = Browser()
    explainer = ExplainerFactory(published=True)
    page = explainer.get_absolute_url()
    for url in (a, b):  # both pages stored in the shared cache
        assert reader.request(url + page)[0] == 200
        assert reader.request(url + "/")[0] == 200

    notice_add(explainer=explainer, user=editor, kind="correction", text="Fixed on one server.")
    for url in (a, b):
        assert "Fixed on one server." in reader.request(url + page)[1]

    newer = ExplainerFactory(headline="A story that just broke")
    explainer_publish(explainer=newer, user=editor)
    for url in (a, b):
        assert "A story that just broke" in reader.request(url + "/")[1]

    explainer_unpublish(explainer=newer, user=editor)
    for url in (a, b):
        assert reader.request(url + newer.get_absolute_url())[0] == 404
        assert "A story that just broke" not in reader.request(url + "/")[1]


def test_the_vote_rate_limit_is_shared(servers):
    """Votes alternating between the two servers meet one limit: 3 of 6 pass."""
    a, b = servers
    explainer = ExplainerFactory(published=True)
    vote = reverse("feedback:vote", args=[explainer.slug])
    if 3600 - time.time() % 3600 < 15:  # a window of an hour: not its last seconds
        time.sleep(3600 - time.time() % 3600 + 1)
    statuses = [
        Browser().request(
            (a, b)[n % 2] + vote, {"useful": "yes"}, headers={"Accept": "application/json"}
        )[0]
        for n in range(6)
    ]
    assert statuses == [200] * 3 + [429] * 3


def test_an_admin_session_made_on_one_works_on_the_other(servers, editor):
    """Logging in on one server is logging in on both: sessions are in the database."""
    a, b = servers
    browser = Browser()
    login = reverse("admin:login")
    status, page, _ = browser.request(a + login)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    status, _, headers = browser.request(
        a + login,
        {
            "csrfmiddlewaretoken": token,
            "username": "chief",
            "password": PASSWORD,
            "next": "/admin/",
        },
    )
    assert status == 302 and headers["Location"] == "/admin/"
    status, page, _ = browser.request(b + reverse("admin:index"))
    assert status == 200
    assert "Explainers and ratings" in page


def test_previews_work_on_both(servers, editor):
    """A shared preview link, and the admin's preview, open on either server."""
    a, b = servers
    draft = ExplainerFactory(headline="Not yet published")
    _, token = preview_link_create(explainer=draft, user=editor)
    for url in (a, b):
        status, page, _ = Browser().request(url + reverse("explainers:preview", args=[token]))
        assert status == 200 and "Not yet published" in page

    browser = Browser()
    login = reverse("admin:login")
    page = browser.request(a + login)[1]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    browser.request(
        a + login, {"csrfmiddlewaretoken": token, "username": "chief", "password": PASSWORD}
    )
    preview = reverse("admin:explainers_explainer_preview", args=[draft.pk])
    for url in (a, b):
        status, page, _ = browser.request(url + preview)
        assert status == 200 and "Not yet published" in page
