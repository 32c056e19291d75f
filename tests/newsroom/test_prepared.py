"""Queries compiled once and run again with new values answer as the ORM does."""

import gc
import threading
import weakref
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from explainers import page_cache, selectors
from explainers.models import Explainer
from newsroom.prepared import PLACEHOLDER_INT, PLACEHOLDER_TEXT, PLACEHOLDER_TIME, PreparedQuery
from tests.factories import ExplainerFactory

pytestmark = pytest.mark.django_db


def by_slug(*, slug, now):
    return Explainer.objects.published(now=now).filter(slug=slug).values_list("pk", "published_at")


def test_answers_as_the_orm_does():
    """Rows, with datetimes converted as the ORM converts them, for each run's own values."""
    first = ExplainerFactory(published=True, slug="first")
    ExplainerFactory(published=True, slug="second")
    query = PreparedQuery(Explainer, by_slug, slug=PLACEHOLDER_TEXT, now=PLACEHOLDER_TIME)
    now = timezone.now()
    assert query.rows(slug="first", now=now) == list(by_slug(slug="first", now=now))
    assert query.rows(slug="first", now=now)[0][1] == first.published_at
    assert query.rows(slug="first", now=first.published_at - timedelta(seconds=1)) == []
    assert query.rows(slug="nothing", now=now) == []


def test_runs_one_query_and_compiles_once(monkeypatch):
    """After its first run the queryset is not built again."""
    ExplainerFactory(published=True, slug="first")
    built = []

    def build(**values):
        built.append(1)
        return by_slug(**values)

    query = PreparedQuery(Explainer, build, slug=PLACEHOLDER_TEXT, now=PLACEHOLDER_TIME)
    query.rows(slug="first", now=timezone.now())
    with CaptureQueriesContext(connection) as queries:
        query.rows(slug="first", now=timezone.now())
    assert len(built) == 1 and len(queries) == 1


def test_a_placeholder_that_never_reaches_the_sql_is_refused():
    """A value the queryset transforms cannot be found among the parameters: said at once."""
    query = PreparedQuery(
        Explainer,
        lambda *, slug: Explainer.objects.filter(slug__iexact=slug + "x").values_list("pk"),
        slug=PLACEHOLDER_TEXT,
    )
    with pytest.raises(ImproperlyConfigured, match="slug"):
        query.rows(slug="a")


def with_revisions(*, pk, now):
    return Explainer.objects.published(now=now).with_public_revision().filter(pk=pk)


def test_objects_are_the_orms_instances_with_their_related_rows():
    """Model instances, select_related rows attached: no query to reach the revision."""
    explainer = ExplainerFactory(published=True, slug="first")
    query = PreparedQuery(
        "explainers.Explainer", with_revisions, pk=PLACEHOLDER_INT, now=PLACEHOLDER_TIME
    )
    (found,) = query.objects(pk=explainer.pk, now=timezone.now())
    (expected,) = with_revisions(pk=explainer.pk, now=timezone.now())
    with CaptureQueriesContext(connection) as queries:
        assert found == expected and found.published_at == expected.published_at
        assert found.public_revision.history_id == expected.public_revision.history_id
        assert found.public_revision.headline == expected.public_revision.headline
    assert len(queries) == 0
    assert query.objects(pk=explainer.pk + 1, now=timezone.now()) == []


def test_positions_read_a_row_as_its_instance_would_say():
    """Each loaded value, through the relations followed, is where ``positions`` says."""
    explainer = ExplainerFactory(published=True, slug="first")
    query = PreparedQuery(
        "explainers.Explainer", with_revisions, pk=PLACEHOLDER_INT, now=PLACEHOLDER_TIME
    )
    compiled = query.compiled_instances()
    (row,) = compiled.rows({"pk": explainer.pk, "now": timezone.now()})
    at = compiled.positions
    built = compiled.instance(row)
    assert row[at["id"]] == built.pk == explainer.pk
    assert row[at["published_at"]] == built.published_at
    assert row[at["live_revision__history_id"]] == built.live_revision.history_id
    assert row[at["live_revision__headline"]] == explainer.headline
    assert row[at["scheduled_revision__history_id"]] is None


def test_the_page_query_is_converted_once_by_psycopg():
    """psycopg keeps the conversion of statements as long as the page's one query."""
    psycopg_queries = pytest.importorskip("psycopg._queries")
    if connection.vendor != "postgresql":
        pytest.skip("the page's SQL is PostgreSQL's only with DATABASE_URL=postgres://…")
    sql = selectors._page_query.compiled_instances().sql
    assert len(sql.encode()) <= psycopg_queries.MAX_CACHED_STATEMENT_LENGTH


def test_objects_of_a_values_query_are_refused():
    """Rows of a values_list() query are no model instances: said rather than guessed."""
    query = PreparedQuery(Explainer, by_slug, slug=PLACEHOLDER_TEXT, now=PLACEHOLDER_TIME)
    with pytest.raises(ImproperlyConfigured, match="instances"):
        query.objects(slug="a", now=timezone.now())


class PageStateAgreesWithTheModel(TestCase):
    """The page's one query finds what ``published()`` and ``public_revision`` say."""

    @settings(max_examples=25, deadline=None)
    @given(
        published_ago=st.integers(-3, 3),
        expires_in=st.one_of(st.none(), st.integers(-3, 3)),
        scheduled_in=st.one_of(st.none(), st.integers(-3, 3)),
        status=st.sampled_from(Explainer.Status.values),
    )
    def test_state_matches(self, published_ago, expires_in, scheduled_in, status):
        """For any times and status, the state names the revision readers get, or nothing."""
        # An explainer never expires before its publication (a database constraint).
        assume(expires_in is None or expires_in > -published_ago)
        now = timezone.now()
        hours = timedelta(hours=1)
        explainer = ExplainerFactory(published=True, slug="talks")
        if scheduled_in is not None:
            explainer.headline = "Scheduled headline"
            explainer.slug = "scheduled-talks"
            explainer.save()
            revision = explainer.history.latest()
            Explainer.objects.filter(pk=explainer.pk).update(
                scheduled_revision=revision, scheduled_at=now + scheduled_in * hours
            )
        Explainer.objects.filter(pk=explainer.pk).update(
            status=status,
            published_at=now - published_ago * hours,
            expires_at=None if expires_in is None else now + expires_in * hours,
        )
        explainer = Explainer.objects.with_public_revision().get(pk=explainer.pk)
        public = Explainer.objects.published().filter(pk=explainer.pk).exists()
        for slug in ("talks", "scheduled-talks"):
            state = selectors.page_state(slug)
            if public and explainer.public_slug == slug:
                assert state is not None and state.pk == explainer.pk
                assert state.revision_id == explainer.public_revision.history_id
            else:
                assert state is None


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
