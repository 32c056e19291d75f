"""Round 6 attacks on the ratings export copied in parts on several connections (--jobs)."""

import os
import random
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction
from django.urls import reverse

from audit.models import AuditEvent
from feedback import export, export_audit, parallel_copy
from feedback.export import CHUNK_BYTES, export_csv
from feedback.models import Rating
from tests.factories import ExplainerFactory
from tests.feedback import csv_payloads
from tests.feedback.exports import bulk_ratings, spy_on_parts
from tests.feedback.factories import RatingFactory

POSTGRESQL = connection.vendor == "postgresql"
# The parts run on connections of their own, which see only committed rows.
PARALLEL_MARKS = (
    pytest.mark.postgresql,
    pytest.mark.skipif(not POSTGRESQL, reason="COPY needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
)


def parallel(test):
    """Marks a test of the parallel copy: PostgreSQL, committed rows."""
    for mark in PARALLEL_MARKS:
        test = mark(test)
    return test


@pytest.fixture(autouse=True)
def split_small_exports(monkeypatch):
    """Split an export of any size, so that a few ratings make several parts."""
    monkeypatch.setattr(export, "PARALLEL_MIN_IDS", 0)


def body(**kwargs) -> bytes:
    return b"".join(export_csv(kind="ratings", **kwargs))


def python_body(monkeypatch, **kwargs) -> bytes:
    """The export written by the Python path (SQLite's), whatever the database."""
    with monkeypatch.context() as patched:
        patched.setattr(export, "_use_copy", lambda: False)
        return body(**kwargs)


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


def backends() -> list[tuple]:
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
    while len(backends()) > len(before) and time.monotonic() < deadline:
        time.sleep(0.05)
    return backends()


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


def run_command(*args: str) -> None:
    call_command(
        "export_feedback", "--kind", "ratings", *args, stdout=StringIO(), stderr=StringIO()
    )


# Findings, each fixed since: they failed before.


@parallel
@pytest.mark.parametrize("entry", ["command", "export_csv"])
def test_a_refused_extra_connection_fails_clearly_or_falls_back(entry, monkeypatch):
    """A role at its CONNECTION LIMIT: fall back, or a Django DatabaseError / CommandError."""
    bulk_ratings(5)
    expected = body(jobs=1)
    before = backends()
    with role("attack_r6_limited", "LOGIN CONNECTION LIMIT 1") as limited:
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


@parallel
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


@parallel
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_connection_lost_mid_export_is_a_one_line_command_error(jobs, monkeypatch, tmp_path):
    """A COPY's server process killed mid-export (failover): a CommandError, nothing left."""
    bulk_ratings(40_000, comment="x" * 600)
    before = backends()
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


@parallel
def test_a_failing_part_reads_like_any_database_error(monkeypatch):
    """A part's server error reaches the operator as its message alone, as psycopg words it."""
    bulk_ratings(5)
    fail_every_part(monkeypatch)
    with pytest.raises(CommandError) as raised:
        run_command("--jobs", "2")
    assert str(raised.value) == "The export failed: division by zero."


@parallel
def test_the_parts_run_as_the_role_djangos_connection_assumes(monkeypatch):
    """With ``assume_role`` the parts read as that role, not as the login role."""
    bulk_ratings(3)
    with role("attack_r6_reader", "NOLOGIN") as reader:
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


@parallel
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


@parallel
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


@parallel
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


@parallel
def test_parallel_chunks_are_bounded_like_the_single_copys():
    """As test_large_export_streams_in_bounded_chunks, with the export in three parts: every
    chunk but the last at least CHUNK_BYTES, none near a megabyte."""
    bulk_ratings(2500)
    sizes = [len(chunk) for chunk in export_csv(kind="ratings", jobs=3)]
    assert len(sizes) > 3
    assert all(CHUNK_BYTES <= size < 8 * CHUNK_BYTES for size in sizes[:-1])


# Divergences between the paths that predate the parallel export, found on the way.


@pytest.mark.django_db
@pytest.mark.skipif(not POSTGRESQL, reason="SQLite's Python path writes the header")
@pytest.mark.parametrize("jobs", [1, 3])
def test_an_empty_selection_is_the_header_on_postgresql(jobs):
    """rating_ids=[] (or .none()) exports the header, as on SQLite."""
    RatingFactory()
    header = export._header(export.HEADERS["ratings"]).encode()
    assert body(rating_ids=[], jobs=jobs) == header
    assert body(rating_ids=Rating.objects.none(), jobs=jobs) == header


@pytest.mark.django_db
@pytest.mark.skipif(not POSTGRESQL, reason="compares COPY with the Python path")
def test_times_before_year_1000_are_the_same_on_both_paths(monkeypatch):
    """Fixed-width times whatever the year, and the same bytes on both paths."""
    RatingFactory(created_at=datetime(999, 5, 6, 7, 8, 9, tzinfo=UTC))
    via_copy = body()
    assert b'"0999-05-06 07:08:09"' in via_copy
    assert python_body(monkeypatch) == via_copy


# What held.


@pytest.mark.parametrize("jobs", [2, 3, 16])
@pytest.mark.parametrize("chunk_bytes", [1, 100, 64 * 1024])
@parallel
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
@parallel
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


@parallel
def test_interrupted_export_leaves_no_backend_file_or_descriptor(monkeypatch, tmp_path):
    """Ctrl-C in the read loop: no backend, spool file or descriptor left; audit incomplete."""
    bulk_ratings(20_000)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    before, descriptors = backends(), open_descriptors()
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


@parallel
def test_a_statement_timeout_on_the_parts_is_a_one_line_error(monkeypatch):
    """A statement_timeout from the connection's options ends every part, clearly."""
    bulk_ratings(5)
    slow_first_part(monkeypatch, 2)
    real = connection.get_connection_params
    before = backends()
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


@parallel
def test_the_audit_log_counts_rows_not_lines(tmp_path):
    """Comments with CR/LF in four parts: details.rows is the number of ratings."""
    for comment in ["a\nb", "c\r\nd", "e\rf", "=x;\n@y"] * 8:
        RatingFactory(comment=comment)
    run_command("-j", "4", "-o", str(tmp_path / "out.csv"))
    details = AuditEvent.objects.get(action="csv_exported").details
    assert (details["rows"], details["complete"]) == (32, True)


@parallel
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


@pytest.mark.django_db
@pytest.mark.postgresql
@pytest.mark.skipif(not POSTGRESQL, reason="PostgreSQL's regular expressions")
def test_sql_neutralisation_matches_python_on_random_text():
    """_sql_spreadsheet_text (with its new formula pre-check) equals _text on 20,000 texts."""
    alphabet = "ab;,\"'\t\r\n" + export.BLANK_CHARS + export.FORMULA_CHARS + "é\U0001f600"
    chooser = random.Random(66)
    texts = ["".join(chooser.choices(alphabet, k=chooser.randint(0, 8))) for _ in range(20_000)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {export._sql_spreadsheet_text('t.c')} "
            "FROM unnest(%s::text[]) WITH ORDINALITY AS t(c, n) ORDER BY n",
            [texts],
        )
        in_sql = [row[0] for row in cursor.fetchall()]
    assert [
        text for text, got in zip(texts, in_sql, strict=True) if got != export._text(text)
    ] == []


@parallel
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


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(POSTGRESQL, reason="SQLite: the Python path")
def test_sqlite_never_splits(monkeypatch):
    """On SQLite --jobs changes nothing and no part connection is attempted."""
    calls = spy_on_parts(monkeypatch)
    for comment in ["=1", "a\nb", ""]:
        RatingFactory(comment=comment)
    assert body(jobs=16) == body(jobs=1)
    run_command("--jobs", "16")
    assert calls == []
