"""The production settings with a page cache that keeps no page: every page is a cold render.

Only for ``bench/pages.py``'s cold-render measurement (what a page costs after its explainer
changed); never for serving.

The cache keeps the surrogate keys' versions and nothing else: no rendered body, no related
list, nothing a view stores. That is the state production's cache is in after a change: the
changed explainer's key has just been given a new version (and every other key has had one
since it was first used, kept without expiry), while what was rendered under the old ones is
no longer found. A cache that keeps nothing at all would also hand out a first version to every
key on every request, which production does once per key.
"""

from django.core.cache.backends.base import DEFAULT_TIMEOUT

from newsroom.cache import LocalCache
from newsroom.settings import *  # noqa: F403
from newsroom.settings import CACHES


def kept(key: str) -> bool:
    # Imported here: the settings are read before the apps are loaded.
    from explainers.page_cache import VERSION_PREFIX

    return key.startswith(VERSION_PREFIX)


class KeepsVersionsOnly(LocalCache):
    """The project's per-process cache, dropping every write but the keys' versions."""

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return kept(key) and super().add(key, value, timeout, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        if kept(key):
            super().set(key, value, timeout, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return super().set_many(
            {key: value for key, value in data.items() if kept(key)}, timeout, version
        )


CACHES = {**CACHES, "default": {"BACKEND": "bench.cold_settings.KeepsVersionsOnly"}}
