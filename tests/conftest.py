import copy

import pytest
from django.core.cache import caches
from django.test.signals import template_rendered

from tests.factories import ExplainerFactory, UserFactory


def pytest_configure(config):
    """A "replica" database alias in every test run, a test mirror of the default database.

    As DATABASE_REPLICA_URL would configure it (and replacing the one it configured: tests
    read the test database only). Readers read it only in tests that ask for it (the
    ``replica`` fixture): elsewhere it could not see what a test has not committed.
    """
    from django.conf import settings

    replica = copy.deepcopy(settings.DATABASES["default"])
    replica["TEST"] = {**replica.get("TEST", {}), "MIRROR": "default"}
    settings.DATABASES["replica"] = replica


@pytest.fixture(autouse=True)
def readers_read_the_primary(monkeypatch):
    """Outside the replica's own tests, readers' pages read the primary as everything does."""
    from newsroom import db_router

    monkeypatch.setattr(db_router, "replica_configured", lambda: False)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploads made by tests land in a temporary folder, never in var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Test users' passwords are hashed with MD5: PBKDF2 costs a quarter second a user."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with no cached pages and no rate-limit counters."""
    for cache in caches.all():
        cache.clear()
    yield
    for cache in caches.all():
        cache.clear()


@pytest.fixture(autouse=True)
def no_outage_remembered():
    """Each test starts with no outage (Redis, replica) and no lost invalidation remembered."""
    from explainers import page_cache
    from feedback import guards
    from newsroom import cache, db_router, health

    def forget():
        cache.OUTAGES.clear()
        page_cache.OWED.clear()
        guards.FAILING_OPEN = False
        db_router.HEALTH = db_router.ReplicaHealth()
        health.MIGRATIONS_APPLIED = False

    forget()
    yield
    forget()


@pytest.fixture
def published_explainer(db):
    return ExplainerFactory(published=True)


@pytest.fixture
def draft_explainer(db):
    return ExplainerFactory()


@pytest.fixture
def superuser(db):
    return UserFactory(username="chief", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def renders():
    """The templates rendered while the test runs, by name."""
    names = []

    def seen(sender, template, **kwargs):
        names.append(template.name)

    template_rendered.connect(seen)
    yield names
    template_rendered.disconnect(seen)
