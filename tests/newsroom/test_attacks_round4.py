"""Fourth attack on the per-process state of prepared queries, caches and kept fragments."""

import gc
import threading
import weakref

import pytest
from django.db import connections
from django.utils import timezone

from explainers import page_cache, selectors

pytestmark = pytest.mark.django_db


def test_a_finished_threads_connection_is_not_kept_alive_by_prepared_queries():
    """Each thread's connection is freed with its thread, not held by the queries it ran."""
    freed = []

    def read():
        # What a threaded (or ASGI) server's request does, on a connection of its own.
        selectors.page_state("no-such-explainer")
        page_cache.next_change(after=timezone.now())
        connection = connections["default"]
        freed.append(weakref.ref(connection))
        connection.close()

    for _ in range(3):
        thread = threading.Thread(target=read)
        thread.start()
        thread.join()
    gc.collect()
    assert [ref() for ref in freed] == [None, None, None]
