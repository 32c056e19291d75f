"""The ratings export copied in parts at once, on connections sharing one snapshot."""

import time
from io import StringIO

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from feedback import export, parallel_copy
from feedback.export import export_csv
from feedback.models import Rating
from tests.factories import ExplainerFactory, TopicFactory
from tests.feedback import csv_payloads
from tests.feedback.exports import spy_on_parts
from tests.feedback.factories import RatingFactory
from tests.feedback.test_export import export_options

pytestmark = [
    pytest.mark.postgresql,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY needs PostgreSQL"),
    # The parts run on connections of their own, which see only committed rows.
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def split_small_exports(monkeypatch):
    """Split an export of any size, so that a few ratings make several parts."""
    monkeypatch.setattr(export, "PARALLEL_MIN_IDS", 0)


@pytest.fixture
def ratings():
    """Ratings over two explainers, their comments the CSV-injection corpus."""
    topic = TopicFactory(slug="diplomacy")
    explainers = [
        ExplainerFactory(published=True, slug="talks", headline="=HYPERLINK(1)", topic=topic),
        ExplainerFactory(published=True, slug="other", headline='Quotes "and"; more'),
    ]
    payloads = csv_payloads.INJECTIONS + csv_payloads.SAFE_WHEN_QUOTED
    return [
        RatingFactory(explainer=explainers[index % 2], useful=index % 3 != 0, comment=payload)
        for index, payload in enumerate(payloads)
    ]


def body(**kwargs) -> bytes:
    return b"".join(export_csv(kind="ratings", **kwargs))


def backends() -> int:
    """Server processes connected to the test database, this test's own included."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend'"
        )
        return cursor.fetchone()[0]


@pytest.mark.parametrize("jobs", [2, 3, 7])
def test_parts_together_are_byte_identical_to_one_copy(ratings, jobs, monkeypatch):
    """However many parts, the export is the single COPY's bytes, and the Python path's."""
    calls = spy_on_parts(monkeypatch)
    single = body(jobs=1)
    assert body(jobs=jobs) == single
    assert [len(statements) for statements in calls] == [jobs]
    monkeypatch.setattr(export, "_use_copy", lambda: False)
    assert body() == single
    assert single.count(b"\n") > len(ratings)


@pytest.mark.parametrize(
    "filters",
    [
        {"explainers": ["talks"]},
        {"topic": "diplomacy"},
        {"since": "2000-01-01", "until": "2999-12-31"},
    ],
)
def test_filtered_parts_match_the_single_copy(ratings, filters):
    """Filters narrow every part alike."""
    options = export_options(**filters)
    assert body(options=options, jobs=3) == body(options=options, jobs=1)


def test_selected_ratings_are_split_too(ratings):
    """An export of chosen ratings (the admin's action) comes out whole and in order."""
    chosen = Rating.objects.filter(pk__in=[r.pk for r in ratings[::3]])
    assert body(rating_ids=chosen, jobs=3) == body(rating_ids=chosen, jobs=1)


def test_progress_counts_every_row(ratings):
    """Progress ends at the number of ratings, though comments hold line breaks."""
    seen = []
    body(jobs=3, progress=seen.append)
    assert seen[-1] == len(ratings)
    assert seen == sorted(seen)


def test_the_parts_read_one_snapshot(ratings, monkeypatch):
    """Ratings added or removed once the export has begun change none of its parts."""
    expected = body(jobs=1)
    real = parallel_copy._share_snapshot

    def then_change(connections, setup):
        real(connections, setup)
        # Django's connection is not one of the export's: these commit at once, before any
        # part's COPY has begun.
        RatingFactory(explainer=ratings[0].explainer, comment="Added meanwhile")
        Rating.objects.filter(pk__in=[ratings[0].pk, ratings[-1].pk]).delete()

    monkeypatch.setattr(parallel_copy, "_share_snapshot", then_change)
    assert body(jobs=3) == expected
    assert Rating.objects.count() == len(ratings) - 1


def test_inside_a_transaction_the_export_uses_its_connection_alone(ratings, monkeypatch):
    """Within a transaction the export sees that transaction's own rows, so it is not split."""
    calls = spy_on_parts(monkeypatch)
    with transaction.atomic():
        uncommitted = RatingFactory(comment="Not committed yet")
        exported = body(jobs=3)
        transaction.set_rollback(True)
    assert b"Not committed yet" in exported
    assert f"\n{uncommitted.pk},".encode() in exported
    assert calls == []


def test_a_small_export_is_not_split(ratings, monkeypatch):
    """Below PARALLEL_MIN_IDS one connection does it all: new ones would cost more."""
    monkeypatch.setattr(export, "PARALLEL_MIN_IDS", 10**9)
    calls = spy_on_parts(monkeypatch)
    assert body(jobs=3) == body(jobs=1)
    assert calls == []


def test_an_empty_export_is_the_header():
    """With no ratings there is nothing to split."""
    assert body(jobs=3) == export._header(export.HEADERS["ratings"]).encode()


def test_stopping_early_closes_the_parts_connections(ratings, monkeypatch):
    """A consumer that stops (a client gone) leaves no connection or query behind."""
    monkeypatch.setattr(parallel_copy, "CHUNK_BYTES", 1)
    before = backends()
    chunks = export_csv(kind="ratings", jobs=3)
    next(chunks)
    assert backends() == before + 3
    chunks.close()
    wait_for_backends(before)


def test_a_failing_part_raises_a_database_error_and_closes_every_part(ratings, monkeypatch):
    """One part failing on the server fails the export, with nothing left running."""
    real = export._ratings_copy_sql

    def failing_last(ratings_queryset):
        statement = real(ratings_queryset)
        if 'feedback_rating"."id" >= ' in statement and '"id" <' not in statement:
            return statement.replace("SELECT r.id,", "SELECT 1 / (r.id - r.id) AS id,", 1)
        return statement

    monkeypatch.setattr(export, "_ratings_copy_sql", failing_last)
    before = backends()
    with pytest.raises(DatabaseError, match="division by zero"):
        body(jobs=2)
    wait_for_backends(before)


def test_the_command_splits_with_jobs(ratings, tmp_path, monkeypatch):
    """``export_feedback --jobs 3`` writes the same file as ``--jobs 1``."""
    calls = spy_on_parts(monkeypatch)
    one, three = tmp_path / "one.csv", tmp_path / "three.csv"
    call_command("export_feedback", "--kind", "ratings", "--jobs", "1", "-o", str(one))
    call_command("export_feedback", "--kind", "ratings", "-j", "3", "-o", str(three))
    assert one.read_bytes() == three.read_bytes()
    assert [len(statements) for statements in calls] == [3]


@pytest.mark.parametrize("value", ["0", "-1", "17", "two", "1.5", "", " 3", "1_0", "\u0663"])
def test_the_command_refuses_a_bad_jobs_value(value):
    """--jobs takes a whole number from 1 to 16, and says so."""
    with pytest.raises(CommandError, match="--jobs: give a whole number from 1 to 16"):
        call_command("export_feedback", "--kind", "ratings", "--jobs", value, stdout=StringIO())


def test_without_connections_for_the_parts_one_connection_does_it(ratings, monkeypatch, caplog):
    """A server out of connection slots gets the export on Django's connection, logged."""
    calls = {"count": 0}
    real = parallel_copy._connection

    def refused_second():
        calls["count"] += 1
        if calls["count"] == 2:
            raise psycopg.OperationalError("FATAL:  sorry, too many clients already")
        return real()

    monkeypatch.setattr(parallel_copy, "_connection", refused_second)
    expected = body(jobs=1)
    before = backends()
    assert body(jobs=3) == expected
    assert "Exporting on one connection: FATAL:  sorry, too many clients already" in caplog.text
    wait_for_backends(before)


def test_a_part_whose_connection_dies_fails_the_export_as_a_database_error(ratings, monkeypatch):
    """A part's server process killed mid-export is Django's DatabaseError, not psycopg's."""
    real = parallel_copy._share_snapshot

    def then_kill_the_last(connections, setup):
        real(connections, setup)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [connections[-1].info.backend_pid])

    monkeypatch.setattr(parallel_copy, "_share_snapshot", then_kill_the_last)
    before = backends()
    with pytest.raises(DatabaseError) as raised:
        body(jobs=2)
    assert not isinstance(raised.value, psycopg.Error)
    wait_for_backends(before)


def wait_for_backends(count: int) -> None:
    """Wait up to five seconds for the server to count ``count`` client backends again."""
    deadline = time.monotonic() + 5
    while backends() > count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert backends() == count
