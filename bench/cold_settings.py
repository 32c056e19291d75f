"""The production settings with a page cache that keeps nothing: every page is a cold render.

Only for ``bench/pages.py``'s cold-render measurement (what a page costs after its explainer
changed); never for serving.
"""

from django.core.cache.backends.dummy import DummyCache

from newsroom.cache import UncheckedKeys
from newsroom.settings import *  # noqa: F403
from newsroom.settings import CACHES


class KeepsNothing(UncheckedKeys, DummyCache):
    """Django's dummy cache, its keys as unchecked as the project's own caches'."""


CACHES = {**CACHES, "default": {"BACKEND": "bench.cold_settings.KeepsNothing"}}
