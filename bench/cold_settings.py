"""The production settings with a page cache that keeps nothing: every page is a cold render.

Only for ``bench/pages.py``'s cold-render measurement (what a page costs after its explainer
changed); never for serving.
"""

from newsroom.settings import *  # noqa: F403
from newsroom.settings import CACHES

CACHES = {**CACHES, "default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
