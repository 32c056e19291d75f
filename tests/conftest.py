import pytest
from django.core.cache import caches

from tests.factories import ExplainerFactory, UserFactory


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
    from newsroom import cache, db_router

    def forget():
        cache.OUTAGES.clear()
        page_cache.OWED.clear()
        guards.FAILING_OPEN = False
        db_router.HEALTH = db_router.ReplicaHealth()

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
