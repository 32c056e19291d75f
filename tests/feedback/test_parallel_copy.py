"""The ratings export copied in parts at once, on connections sharing one snapshot."""

import os
import random
import time
from contextlib import contextmanager
from io import StringIO

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction
from django.urls import reverse

from audit.models import AuditEvent
from feedback import export, export_audit, parallel_copy
from feedback.export import CHUNK_BYTES, export_csv
from feedback.models import Rating
from tests.factories import ExplainerFactory, TopicFactory
from tests.feedback import csv_payloads
from tests.feedback.exports import body, bulk_ratings, python_body, run_command, spy_on_parts
from tests.feedback.factories import RatingFactory
from tests.feedback.test_export import export_options

pytestmark = [
    pytest.mark.postgresql,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY needs PostgreSQL"),
    # The parts run on connections of their own, which see only committed rows.
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("split_small_exports"),
]


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


def slow_first_part(monkeypatch, seconds: float) -> None:
    """The first part's COPY waits ``seconds`` (one InitPlan); the other parts run at once."""
    real = export._ratings_copy_sql

    def slowed(ratings):
        statement = real(ratings)
        if '"id" >= ' not in statement:
            statement = statement.replace(
                "ORDER BY r.id)",
                f"WHERE (SELECT pg_sleep({seconds})::text) IS NOT NULL ORDER BY r.id)",
                1,
            )
        return statement

    monkeypatch.setattr(export, "_ratings_copy_sql", slowed)


def fail_every_part(monkeypatch) -> None:
    """Every COPY, single or part, fails on the server with a division by zero."""
    real = export._ratings_copy_sql

    def failing(ratings):
        return real(ratings).replace("SELECT r.id,", "SELECT 1 / (r.id - r.id) AS id,", 1)

    monkeypatch.setattr(export, "_ratings_copy_sql", failing)


@contextmanager
def other_connection():
    """A connection of the test's own, outside Django's (which a running COPY holds)."""
    raw = connection.get_new_connection(connection.get_connection_params())
    raw.autocommit = True
    try:
        yield raw
    finally:
        raw.close()


def other_backends() -> list[tuple]:
    """Other server processes on the test database: (pid, user, state, query)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, usename, state, left(query, 40) FROM pg_stat_activity "
            "WHERE datname = current_database() AND backend_type = 'client backend' "
            "AND pid <> pg_backend_pid()"
        )
        return cursor.fetchall()


def settle(before: list[tuple]) -> list[tuple]:
    """Backends once closed connections have gone (the server notices within moments)."""
    deadline = time.monotonic() + 5
    while len(other_backends()) > len(before) and time.monotonic() < deadline:
        time.sleep(0.05)
    return other_backends()


def open_descriptors() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


@contextmanager
def role(name_prefix: str, options: str):
    """A role made for one test, dropped afterwards (roles belong to the whole cluster)."""
    name = f"{name_prefix}_{os.getpid()}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{name}" {options}')
    try:
        yield name
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP OWNED BY "{name}"')
            cursor.execute(f'DROP ROLE "{name}"')


@pytest.mark.parametrize("entry", ["command", "export_csv"])
def test_a_refused_extra_connection_fails_clearly_or_falls_back(entry, monkeypatch):
    """A role at its CONNECTION LIMIT: fall back, or a Django DatabaseError / CommandError."""
    bulk_ratings(5)
    expected = body(jobs=1)
    before = other_backends()
    with role("export_limited", "LOGIN CONNECTION LIMIT 1") as limited:
        # The parts' new connections log in as a role that may hold only one: the first
        # part's is accepted, the second's refused ("too many connections for role").
        real = connection.get_connection_params
        try:
            with monkeypatch.context() as patched:
                patched.setattr(
                    connections["default"],
                    "get_connection_params",
                    lambda: {**real(), "user": limited},
                )
                if entry == "command":
                    run_command("--jobs", "2")
                else:
                    assert body(jobs=2) == expected
        except (CommandError, DatabaseError):
            pass
        assert [row for row in settle(before) if row[1] == limited] == []


@pytest.mark.parametrize("failure", ["division by zero", "statement timeout"])
def test_a_failing_single_connection_copy_is_a_one_line_command_error(
    failure, monkeypatch, tmp_path
):
    """Exports below PARALLEL_MIN_IDS: a server error is a CommandError, the file untouched."""
    bulk_ratings(5)
    target = tmp_path / "out.csv"
    target.write_text("previous export")
    if failure == "division by zero":
        fail_every_part(monkeypatch)
    else:
        slow_first_part(monkeypatch, 2)
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 200")
    try:
        with pytest.raises(CommandError, match=failure):
            run_command("--jobs", "1", "-o", str(target))
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET statement_timeout")
    assert target.read_text() == "previous export"


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_connection_lost_mid_export_is_a_one_line_command_error(jobs, monkeypatch, tmp_path):
    """A COPY's server process killed mid-export (failover): a CommandError, nothing left."""
    bulk_ratings(40_000, comment="x" * 600)
    before = other_backends()
    parts = []
    real_share = parallel_copy._share_snapshot

    def recording(connections, setup):
        parts.extend(connections)
        real_share(connections, setup)

    monkeypatch.setattr(parallel_copy, "_share_snapshot", recording)
    real = export_audit.export_csv

    def terminated_after_the_first_chunk(**kwargs):
        chunks = real(**kwargs)
        try:
            yield next(chunks)
            # The single COPY runs on Django's connection. With parts, the spooled one if it
            # is still sending (on a busy machine it may have finished before the first
            # chunk), else the first, whose rows wait for this consumer.
            raws = parts[::-1] if parts else [connection.connection]
            pids = [raw.info.backend_pid for raw in raws]
            with other_connection() as other:
                deadline = time.monotonic() + 10
                blocked = None
                while blocked is None and time.monotonic() < deadline:
                    waits = dict(
                        other.execute(
                            "SELECT pid, wait_event FROM pg_stat_activity WHERE pid = ANY(%s)",
                            [pids],
                        ).fetchall()
                    )
                    # ClientWrite: its socket is full, it is blocked on us.
                    blocked = next((p for p in pids if waits.get(p) == "ClientWrite"), None)
                    time.sleep(0.05)
                assert blocked is not None
                other.execute("SELECT pg_terminate_backend(%s)", [blocked])
            time.sleep(0.3)
            yield from chunks
        finally:
            chunks.close()

    monkeypatch.setattr(export_audit, "export_csv", terminated_after_the_first_chunk)
    target = tmp_path / "out.csv"
    with pytest.raises(CommandError, match="The export failed"):
        run_command("--jobs", jobs, "-o", str(target))
    assert not target.exists()
    connection.close()
    assert len(settle(before)) <= len(before)


def test_a_failing_part_reads_like_any_database_error(monkeypatch):
    """A part's server error reaches the operator as its message alone, as psycopg words it."""
    bulk_ratings(5)
    fail_every_part(monkeypatch)
    with pytest.raises(CommandError) as raised:
        run_command("--jobs", "2")
    assert str(raised.value) == "The export failed: division by zero."


def test_the_parts_run_as_the_role_djangos_connection_assumes(monkeypatch):
    """With ``assume_role`` the parts read as that role, not as the login role."""
    bulk_ratings(3)
    with role("export_reader", "NOLOGIN") as reader:
        with connection.cursor() as cursor:
            cursor.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{reader}"')
        users = []
        real = parallel_copy._share_snapshot

        def recording(connections, setup):
            users.extend(each.execute("SELECT current_user").fetchone()[0] for each in connections)
            real(connections, setup)

        try:
            with monkeypatch.context() as patched:
                patched.setitem(connection.settings_dict["OPTIONS"], "assume_role", reader)
                patched.setattr(parallel_copy, "_share_snapshot", recording)
                connection.close()
                with connection.cursor() as cursor:
                    cursor.execute("SELECT current_user")
                    assert cursor.fetchone()[0] == reader
                body(jobs=3)
        finally:
            connection.close()  # the next connection is the login role's again
        assert users == [reader] * 3


def test_an_open_manual_transaction_is_not_split(monkeypatch):
    """With autocommit off, the export sees the transaction's own rows, as jobs=1 does."""
    explainer = ExplainerFactory(published=True)
    RatingFactory(explainer=explainer)
    transaction.set_autocommit(False)
    try:
        Rating.objects.create(
            explainer=explainer,
            reader="f" * 64,
            useful=True,
            comment="Not committed yet",
            explainer_version=1,
        )
        assert connection.in_atomic_block is False
        single = body(jobs=1)
        assert b"Not committed yet" in single
        assert body(jobs=3) == single
    finally:
        transaction.rollback()
        transaction.set_autocommit(True)


def test_a_process_with_many_open_files_can_still_split(monkeypatch):
    """A long-lived process with more than 1024 files open gets the same export."""
    bulk_ratings(3)
    expected = body(jobs=1)
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        assert body(jobs=2) == expected
    finally:
        for descriptor in held:
            os.close(descriptor)


def test_every_parallel_chunk_is_whole_rows(monkeypatch):
    """A part that spooled more than a megabyte still comes out in chunks of whole rows."""
    bulk_ratings(8000, comment="é" * 150)  # about 450 bytes a row: 1.8 MB in the second part
    slow_first_part(monkeypatch, 1)  # the second part is all spooled meanwhile
    chunks = list(export_csv(kind="ratings", jobs=2))
    assert b"".join(chunks) == body(jobs=1)
    cut = [index for index, chunk in enumerate(chunks) if not chunk.endswith(b"\n")]
    assert cut == []
    for chunk in chunks:
        chunk.decode()


def test_parallel_chunks_are_bounded_like_the_single_copys():
    """As test_large_export_streams_in_bounded_chunks, with the export in three parts: every
    chunk but the last at least CHUNK_BYTES, none near a megabyte."""
    bulk_ratings(2500)
    sizes = [len(chunk) for chunk in export_csv(kind="ratings", jobs=3)]
    assert len(sizes) > 3
    assert all(CHUNK_BYTES <= size < 8 * CHUNK_BYTES for size in sizes[:-1])


@pytest.mark.parametrize("jobs", [2, 3, 16])
@pytest.mark.parametrize("chunk_bytes", [1, 100, 64 * 1024])
def test_any_ids_any_sizes_same_bytes_and_counts(jobs, chunk_bytes, monkeypatch):
    """Gappy, negative and extreme ids, every payload: one COPY's bytes, and full progress."""
    monkeypatch.setattr(parallel_copy, "CHUNK_BYTES", chunk_bytes)
    chooser = random.Random(6)
    ids = {-(2**63), -5, 0, 1, 2, 3, 50, 51, 10**6, 2**62, 2**63 - 2, 2**63 - 1}
    ids |= {chooser.randint(-(10**9), 10**9) for _ in range(60)}
    payloads = csv_payloads.INJECTIONS + csv_payloads.SAFE_WHEN_QUOTED + csv_payloads.HARMLESS
    payloads += ["", "\r", "\n", ";", "\t", "a;b", " ", "\u00a0", "日本\r\n=x", "\uff20a"]
    explainers = [
        ExplainerFactory(published=True, headline="\uff1dX;\n=y"),
        ExplainerFactory(published=True, headline="\u3000@h"),
    ]
    Rating.objects.bulk_create(
        Rating(
            id=pk,
            explainer=explainers[n % 2],
            reader=f"{n:064x}",
            useful=bool(n % 3),
            comment=payloads[n % len(payloads)],
            explainer_version=n + 1,
        )
        for n, pk in enumerate(sorted(ids))
    )
    single = body(jobs=1)
    seen = []
    assert body(jobs=jobs, progress=seen.append) == single
    assert seen[-1] == len(ids)
    assert python_body(monkeypatch) == single
    chosen = sorted(ids)[::7]
    for selection in (chosen, chosen[:1], sorted(ids)[-1:], Rating.objects.filter(useful=True)):
        assert body(rating_ids=selection, jobs=jobs) == body(rating_ids=selection, jobs=1)


@pytest.mark.parametrize("jobs", [2, 4])
def test_ratings_added_between_the_bounds_and_the_snapshot_are_in_the_end_parts(jobs, monkeypatch):
    """Ids below the first or above the last bound taken fall in the open-ended parts."""
    explainer = ExplainerFactory(published=True)
    bulk_ratings(10)
    real = parallel_copy.copy_in_parts

    def then_add(statements, **kwargs):
        Rating.objects.create(
            id=-7, explainer=explainer, reader="a" * 64, useful=True, explainer_version=1
        )
        RatingFactory(explainer=explainer, comment="After the bounds")
        return real(statements, **kwargs)

    monkeypatch.setattr(parallel_copy, "copy_in_parts", then_add)
    exported = body(jobs=jobs)
    assert exported == body(jobs=1)
    assert exported.count(b"\n") == 1 + 12


def test_interrupted_export_leaves_no_backend_file_or_descriptor(monkeypatch, tmp_path):
    """Ctrl-C in the read loop: no backend, spool file or descriptor left; audit incomplete."""
    bulk_ratings(20_000)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    before, descriptors = other_backends(), open_descriptors()
    real = parallel_copy.selectors.DefaultSelector.select
    calls = []

    def interrupted(self, timeout=None):
        calls.append(1)
        if len(calls) == 20:
            raise KeyboardInterrupt
        return real(self, timeout)

    monkeypatch.setattr(parallel_copy.selectors.DefaultSelector, "select", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_command("--jobs", "3")
    assert settle(before) == before
    assert open_descriptors() <= descriptors
    assert list(tmp_path.iterdir()) == []
    assert AuditEvent.objects.get(action="csv_exported").details["complete"] is False


def test_a_statement_timeout_on_the_parts_is_a_one_line_error(monkeypatch):
    """A statement_timeout from the connection's options ends every part, clearly."""
    bulk_ratings(5)
    slow_first_part(monkeypatch, 2)
    real = connection.get_connection_params
    before = other_backends()
    started = time.monotonic()
    with monkeypatch.context() as patched:
        patched.setattr(
            connections["default"],
            "get_connection_params",
            lambda: {**real(), "options": "-c statement_timeout=200"},
        )
        with pytest.raises(CommandError, match="statement timeout"):
            run_command("--jobs", "3")
    assert time.monotonic() - started < 2
    assert settle(before) == before


def test_the_audit_log_counts_rows_not_lines(tmp_path):
    """Comments with CR/LF in four parts: details.rows is the number of ratings."""
    for comment in ["a\nb", "c\r\nd", "e\rf", "=x;\n@y"] * 8:
        RatingFactory(comment=comment)
    run_command("-j", "4", "-o", str(tmp_path / "out.csv"))
    details = AuditEvent.objects.get(action="csv_exported").details
    assert (details["rows"], details["complete"]) == (32, True)


def test_selection_with_quotes_and_backslashes_is_quoted_in_every_part(monkeypatch):
    """A rating_ids queryset whose filter holds quotes, backslashes and SQL is inlined safely."""
    nasty = "it's \\'; DROP TABLE feedback_rating; -- \\x00 ' OR ''='"
    RatingFactory(comment=nasty)
    RatingFactory(comment="other")
    chosen = Rating.objects.filter(comment__in=[nasty, "O'Brien\\"])
    exported = body(rating_ids=chosen, jobs=3)
    assert exported == body(rating_ids=chosen, jobs=1)
    assert exported.count(b"\n") == 2
    assert Rating.objects.count() == 2


def test_the_admin_export_uses_one_connection(admin_client, monkeypatch):
    """The admin's export page and action keep jobs=1, whatever the size."""
    calls = spy_on_parts(monkeypatch)
    ratings = [RatingFactory() for _ in range(3)]
    page = admin_client.post(reverse("admin:feedback_rating_export"), {"kind": "ratings"})
    assert b"".join(page.streaming_content).count(b"\n") == 4
    action = admin_client.post(
        reverse("admin:feedback_rating_changelist"),
        {"action": "export_selected_ratings", "_selected_action": [r.pk for r in ratings]},
    )
    assert b"".join(action.streaming_content).count(b"\n") == 4
    assert calls == []
