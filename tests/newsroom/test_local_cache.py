"""The per-process cache answers as Django's LocMemCache does, with fewer locks and checks."""

import pytest
from django.core.cache.backends.locmem import LocMemCache

from newsroom.cache import LocalCache


@pytest.fixture
def caches(request):
    name = request.node.name
    yield LocalCache(f"{name}-local", {}), LocMemCache(f"{name}-django", {})


def test_get_many_finds_what_django_finds(caches, monkeypatch):
    """Present keys with their values, absent and expired keys left out, versions kept apart."""
    clock = [1000.0]
    monkeypatch.setattr("time.time", lambda: clock[0])
    for cache in caches:
        cache.set("a", {"page": b"x"})
        cache.set("b", 2, timeout=5)
        cache.set("a", "other version", version=2)
    clock[0] += 10
    local, django = caches
    keys = ["a", "b", "missing"]
    assert local.get_many(keys) == django.get_many(keys) == {"a": {"page": b"x"}}
    assert local.get_many(keys, version=2) == {"a": "other version"}
    assert not local.has_key("b")


def test_any_key_is_taken_without_a_warning(caches, recwarn):
    """Keys memcached would refuse (long, with spaces) are stored and found, silently."""
    local, _ = caches
    key = "a key with spaces " + "x" * 300
    local.set(key, 1)
    assert local.get_many([key]) == {key: 1}
    assert not [w for w in recwarn if "memcached" in str(w.message).lower()]
