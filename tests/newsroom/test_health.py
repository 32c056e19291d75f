"""/healthz and /readyz: cheap, never cached, no cookies, and /readyz names what is not ready."""

import pytest
from django.db.migrations.executor import MigrationExecutor

from tests.newsroom.test_redis_down import use_redis


def assert_never_cached(response):
    assert response["Cache-Control"] == "no-store"
    assert not response.cookies


def test_healthz_says_ok_without_the_database(client):
    """The process is up: 200 "ok", no cookie, never cached; no database (the test has none)."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert_never_cached(response)


def test_healthz_answers_any_host_over_plain_http(client, settings):
    """A load balancer checks by address over HTTP: no host check, no HTTPS redirect."""
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/healthz", HTTP_HOST="10.0.0.7:8000")
    assert response.status_code == 200


def test_health_checks_take_get_and_head_only(client):
    """A POST is 405 with Allow."""
    response = client.post("/readyz")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


@pytest.mark.django_db
def test_readyz_is_200_when_everything_answers(client):
    """Database reachable, migrations applied, no Redis configured: ready."""
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"ready": True, "database": "ok", "migrations": "ok", "redis": "ok"}
    assert_never_cached(response)


@pytest.mark.django_db
def test_readyz_checks_migrations_until_they_pass(client, monkeypatch):
    """Unapplied migrations: 503; once applied, the check is not made again."""
    with monkeypatch.context() as patch:
        patch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [("m", False)])
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["migrations"] == "1 not applied"
    assert client.get("/readyz").status_code == 200

    def must_not_run(*args, **kwargs):
        raise AssertionError("checked again")

    monkeypatch.setattr(MigrationExecutor, "__init__", must_not_run)
    assert client.get("/readyz").status_code == 200


def test_readyz_is_503_when_the_database_is_down(client, primary_down):
    """An unreachable database: 503 naming it, not a 500."""
    primary_down()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["ready"] is False
    assert response.json()["database"].startswith("unreachable")


@pytest.mark.django_db
def test_readyz_is_503_when_redis_is_down(client, settings):
    """NEWSROOM_CACHE_URL=redis:// and Redis not answering: 503 naming Redis."""
    from tests.newsroom.test_redis_down import free_port

    use_redis(settings, f"redis://127.0.0.1:{free_port()}/0")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["redis"].startswith("unreachable")
    assert response.json()["database"] == "ok"


@pytest.mark.django_db
def test_readyz_checks_a_redis_that_answers(client, settings):
    """A Redis that answers is ready."""
    from tests.services import redis_url

    use_redis(settings, redis_url())
    assert client.get("/readyz").json()["redis"] == "ok"


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
