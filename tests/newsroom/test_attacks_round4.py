"""Fourth attack on the per-process state of prepared queries, caches and kept fragments."""

import gc
import threading
import weakref

import pytest
from django.db import connections
from django.template import Context, Template
from django.urls import set_script_prefix
from django.utils import timezone

from explainers import page_cache, selectors
from explainers.models import Explainer
from tests.factories import ExplainerFactory

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


def test_a_card_changes_with_its_first_sentence_only(client):
    """Cards are kept under what they show: the first sentence, not the whole text."""
    explainer = ExplainerFactory(published=True, whats_happening="First sentence. Second one.")
    assert "First sentence." in client.get("/").text
    Explainer.objects.filter(pk=explainer.pk).update(whats_happening="First sentence. Other.")
    explainer.live_revision.__class__.objects.filter(pk=explainer.live_revision_id).update(
        whats_happening="Changed sentence. Other."
    )
    page_cache.invalidate("home")
    assert "Changed sentence." in client.get("/").text


def test_the_feedback_widget_follows_the_script_prefix():
    """The kept widget posts under the prefix it is drawn at, whatever it was drawn at first."""
    explainer = ExplainerFactory(published=True)
    widget = Template("{% load feedback %}{% feedback_widget explainer %}")
    action = f'action="/explainers/{explainer.slug}/feedback/"'
    assert action in widget.render(Context({"explainer": explainer}))
    set_script_prefix("/news/")
    try:
        prefixed = widget.render(Context({"explainer": explainer}))
    finally:
        set_script_prefix("/")
    assert action.replace('"/', '"/news/', 1) in prefixed
