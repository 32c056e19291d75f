"""PostgreSQL: one ``COPY ... TO STDOUT`` split into parts run at once on several connections.

A COPY of a formatted SELECT keeps one server process busy on one core; a large export runs
its parts side by side, as ``pg_dump --jobs`` does, and hands their output on in order. The
parts are read on one snapshot, exported by the first connection and imported by the others,
so together they are exactly what one COPY would have written, whatever commits meanwhile.

Each part runs on a new connection, never on Django's: that one may be inside a transaction
whose uncommitted rows the others could not see (callers go parallel only outside one).
The first part's rows are handed on as they arrive; the others' wait in temporary files
until their turn, so memory stays flat whatever the size.

Rows are read through psycopg's libpq layer (``psycopg.pq``), one loop over every
connection: the high-level ``Copy`` object's per-row Python overhead is about as much work
as the server's, and would otherwise be the slowest part.
"""

from __future__ import annotations

import selectors
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, suppress

import psycopg
from django.db import DatabaseError, OperationalError, connection
from psycopg import pq, sql

# Output handed on in chunks of about this size, as the serial export does.
CHUNK_BYTES = 64 * 1024


def copy_in_parts(
    statements: Sequence[str], *, setup: Sequence[str] = ()
) -> Iterator[tuple[bytes, int]]:
    """The output of the COPY ``statements`` (``TO STDOUT``), in the statements' order, as
    (chunk, rows in it): chunks of about ``CHUNK_BYTES``, each ending at a row's end.

    Each runs on a new connection to Django's default database, in a read-only REPEATABLE
    READ transaction on one shared snapshot, after the ``setup`` statements (``SET LOCAL
    ...``). Closing the generator early cancels what is still running.

    Errors are Django's database exceptions: ``PartsUnavailable`` when the connections could
    not be opened and set up (before any output), ``DatabaseError`` when a part fails.
    """
    with ExitStack() as stack:
        try:
            connections = []
            for _ in statements:
                connections.append(_connection())
                stack.callback(connections[-1].close)
            _share_snapshot(connections, setup)
        except psycopg.Error as error:
            raise PartsUnavailable(_message(error)) from error
        try:
            yield from _CopyReader(connections, statements).chunks()
        except psycopg.Error as error:
            raise DatabaseError(_message(error)) from error


class PartsUnavailable(OperationalError):
    """The parts' connections could not be opened or could not share a snapshot."""


def _message(error: psycopg.Error) -> str:
    return str(error).strip() or type(error).__name__


def _connection():
    """A new psycopg connection to Django's database, configured as Django configures its own
    (time zone, ``assume_role``), in autocommit mode: transactions are begun explicitly."""
    raw = connection.Database.connect(**connection.get_connection_params())
    try:
        raw.autocommit = True
        connection._configure_connection(raw)
    except BaseException:
        raw.close()
        raise
    return raw


def _share_snapshot(connections, setup: Sequence[str]) -> None:
    first, *others = connections
    begin = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"
    first.execute(begin)
    (snapshot,) = first.execute("SELECT pg_export_snapshot()").fetchone()
    for other in others:
        other.execute(begin)
        other.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(snapshot))
    for each in connections:
        for statement in setup:
            each.execute(statement)


class _Rows:
    """Whole rows gathered until there are enough to hand on, then joined once."""

    def __init__(self):
        self.pieces: list[bytes] = []
        self.size = self.rows = 0

    def add(self, data: bytes, rows: int) -> None:
        self.pieces.append(data)
        self.size += len(data)
        self.rows += rows

    def full(self) -> bool:
        return self.size >= CHUNK_BYTES

    def take(self) -> tuple[bytes, int]:
        """The rows gathered, joined, and how many; the gathering starts again."""
        taken = b"".join(self.pieces), self.rows
        self.pieces, self.size, self.rows = [], 0, 0
        return taken

    def __bool__(self) -> bool:
        return bool(self.pieces)


class _Part:
    """One statement's connection, and its output while it waits for its turn.

    The output waits in memory up to ``CHUNK_BYTES``, then in a temporary file, written in
    pieces of whole rows whose sizes and row counts are kept, so that it is handed on later
    in the same whole-row chunks.
    """

    def __init__(self, raw):
        self.raw = raw
        self.pgconn = raw.pgconn
        self.started = False
        self.finished = False
        self.waiting = _Rows()
        self.file = None
        self.pieces: list[tuple[int, int]] = []  # (bytes, rows) written to the file, in order

    def read(self) -> tuple[bytes, int]:
        """Every whole row received so far, joined, and how many."""
        pgconn = self.pgconn
        pgconn.consume_input()
        if not self.started:
            if pgconn.is_busy():
                return b"", 0
            _check(pgconn.get_result(), pq.ExecStatus.COPY_OUT)
            self.started = True
        rows = []
        while True:
            size, data = pgconn.get_copy_data(1)
            if size > 0:
                rows.append(data)
                continue
            if size == -1:
                # The COPY's own result says whether it failed on the way.
                _check(pgconn.get_result(), pq.ExecStatus.COMMAND_OK)
                while pgconn.get_result() is not None:
                    pass
                self.finished = True
            elif size == -2:
                raise DatabaseError(pgconn.get_error_message().decode(errors="replace"))
            return b"".join(rows), len(rows)

    def keep(self, data: bytes, rows: int) -> None:
        self.waiting.add(data, rows)
        if self.waiting.full():
            if self.file is None:
                # Closed by kept() once the part has had its turn, or by close().
                self.file = tempfile.TemporaryFile(prefix="newsroom-copy-")  # noqa: SIM115
            piece, piece_rows = self.waiting.take()
            self.file.write(piece)
            self.pieces.append((len(piece), piece_rows))

    def kept(self) -> Iterator[tuple[bytes, int]]:
        """What ``keep`` was given, in order, in whole-row chunks."""
        if self.file is not None:
            self.file.seek(0)
            for size, rows in self.pieces:
                yield self.file.read(size), rows
            self.file.close()
            self.file = None
            self.pieces = []
        if self.waiting:
            yield self.waiting.take()

    def close(self) -> None:
        if not self.finished and self.pgconn.status == pq.ConnStatus.OK:
            # Stops the server's work now rather than when it next writes; closing the
            # connection, which follows, ends it anyway.
            with suppress(psycopg.Error):
                self.raw.cancel_safe(timeout=5)
        if self.file is not None:
            self.file.close()


class _CopyReader:
    """Reads every part's COPY at once and yields their data in order."""

    def __init__(self, connections, statements: Sequence[str]):
        self.parts = [_Part(raw) for raw in connections]
        self.statements = statements

    def chunks(self) -> Iterator[tuple[bytes, int]]:
        # A selector, not select(): a process with many files open gets descriptors past
        # select()'s limit of 1024.
        with selectors.DefaultSelector() as selector:
            try:
                for part, statement in zip(self.parts, self.statements, strict=True):
                    part.pgconn.send_query(statement.encode())
                    selector.register(part.pgconn.socket, selectors.EVENT_READ, part)
                yield from self._chunks(selector)
            finally:
                for part in self.parts:
                    part.close()

    def _chunks(self, selector) -> Iterator[tuple[bytes, int]]:
        parts = iter(self.parts)
        current = next(parts)  # the part whose output is handed on as it arrives
        pending = _Rows()  # its rows not yet handed on
        while current is not None:
            for key, _ in selector.select():
                part = key.data
                data, rows = part.read()
                if part.finished:
                    selector.unregister(key.fileobj)
                if part is current:
                    pending.add(data, rows)
                elif rows:
                    part.keep(data, rows)
            # A finished part's successor is next: what it kept first, then live rows.
            while current is not None and current.finished:
                current = next(parts, None)
                if current is not None:
                    for data, rows in current.kept():
                        pending.add(data, rows)
                        if pending.full():
                            yield pending.take()
            if pending.full():
                yield pending.take()
        if pending:
            yield pending.take()


def _check(result, expected: pq.ExecStatus) -> None:
    """Raise the server's error, in its own words (its primary message), unless ``result``
    has the ``expected`` status."""
    if result is not None and result.status == expected:
        return
    message = b""
    if result is not None:
        message = result.error_field(pq.DiagnosticField.MESSAGE_PRIMARY) or result.error_message
    raise DatabaseError(message.decode(errors="replace").strip() or "The COPY failed.")
