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

import select
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, suppress
from itertools import chain

import psycopg
from django.db import DatabaseError, OperationalError, connection
from psycopg import pq, sql

# Output handed on in chunks of about this size, as the serial export does.
CHUNK_BYTES = 64 * 1024
# A temporary file is read back in pieces of this size.
SPOOL_READ_BYTES = 1024 * 1024


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
    """A new psycopg connection to Django's database, in autocommit mode."""
    raw = connection.get_new_connection(connection.get_connection_params())
    # Transactions are begun explicitly below; psycopg must not open its own.
    raw.autocommit = True
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


class _CopyReader:
    """Reads every part's COPY at once and yields their data in order."""

    def __init__(self, connections, statements: Sequence[str]):
        self.connections = connections
        self.statements = statements
        self.pgconns = [each.pgconn for each in connections]
        self.started = [False] * len(statements)
        self.finished = [False] * len(statements)
        self.spools: list = [None] * len(statements)
        self.spooled_rows = [0] * len(statements)
        self.unwritten: list[list[bytes]] = [[] for _ in statements]
        self.unwritten_bytes = [0] * len(statements)

    def chunks(self) -> Iterator[tuple[bytes, int]]:
        try:
            for pgconn, statement in zip(self.pgconns, self.statements, strict=True):
                pgconn.send_query(statement.encode())
            yield from self._chunks()
        finally:
            for index, pgconn in enumerate(self.pgconns):
                if not self.finished[index] and pgconn.status == pq.ConnStatus.OK:
                    # Stops the server's work now rather than when it next writes; closing
                    # the connection, which follows, ends it anyway.
                    with suppress(psycopg.Error):
                        self.connections[index].cancel_safe(timeout=5)
            for spool in self.spools:
                if spool is not None:
                    spool.close()

    def _chunks(self) -> Iterator[tuple[bytes, int]]:
        current = 0  # the part whose output is handed on as it arrives
        pending: list[bytes] = []  # its reads not yet handed on: joined once, when enough
        pending_bytes = pending_rows = 0
        sockets = {pgconn.socket: index for index, pgconn in enumerate(self.pgconns)}
        while current < len(self.pgconns):
            waiting = [p.socket for i, p in enumerate(self.pgconns) if not self.finished[i]]
            readable, _, _ = select.select(waiting, [], [])
            for socket in readable:
                index = sockets[socket]
                data, rows = self._read(index)
                if index == current:
                    pending.append(data)
                    pending_bytes += len(data)
                    pending_rows += rows
                elif rows:
                    self._spool(index, data)
                    self.spooled_rows[index] += rows
            # A finished part's successor is next: what it spooled first, then live rows.
            while current < len(self.pgconns) and self.finished[current]:
                current += 1
                if current < len(self.pgconns) and self.spooled_rows[current]:
                    if pending:
                        yield b"".join(pending), pending_rows
                        pending.clear()
                        pending_bytes = pending_rows = 0
                    yield from self._spooled(current)
            if pending_bytes >= CHUNK_BYTES:
                yield b"".join(pending), pending_rows
                pending.clear()
                pending_bytes = pending_rows = 0
        if pending:
            yield b"".join(pending), pending_rows

    def _spooled(self, index: int) -> Iterator[tuple[bytes, int]]:
        """What part ``index`` kept, in order. The file's pieces split rows, so its rows are
        counted with the last piece."""
        spool = self.spools[index]
        pieces: Iterable[bytes] = ()
        if spool is not None:
            spool.seek(0)
            pieces = iter(lambda: spool.read(SPOOL_READ_BYTES), b"")
        tail = b"".join(self.unwritten[index])
        previous = None
        for piece in chain(pieces, [tail] if tail else []):
            if previous is not None:
                yield previous, 0
            previous = piece
        yield previous or b"", self.spooled_rows[index]
        if spool is not None:
            spool.close()
            self.spools[index] = None
        self.unwritten[index] = []

    def _spool(self, index: int, data: bytes) -> None:
        """Keep ``data`` of part ``index`` until its turn, written to disk in large pieces."""
        waiting = self.unwritten[index]
        waiting.append(data)
        self.unwritten_bytes[index] += len(data)
        if self.unwritten_bytes[index] >= SPOOL_READ_BYTES:
            self._spool_file(index).write(b"".join(waiting))
            waiting.clear()
            self.unwritten_bytes[index] = 0

    def _spool_file(self, index: int):
        if self.spools[index] is None:
            # Closed by chunks(), or by _chunks() once the part has had its turn.
            self.spools[index] = tempfile.TemporaryFile(prefix="newsroom-copy-")  # noqa: SIM115
        return self.spools[index]

    def _read(self, index: int) -> tuple[bytes, int]:
        """Every whole row part ``index`` has received so far, joined, and how many."""
        pgconn = self.pgconns[index]
        pgconn.consume_input()
        rows = []
        if not self.started[index]:
            if pgconn.is_busy():
                return b"", 0
            _check(pgconn.get_result(), pq.ExecStatus.COPY_OUT)
            self.started[index] = True
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
                self.finished[index] = True
            elif size == -2:
                raise DatabaseError(pgconn.get_error_message().decode(errors="replace"))
            return b"".join(rows), len(rows)


def _check(result, expected: pq.ExecStatus) -> None:
    if result is None or result.status != expected:
        message = result.error_message if result is not None else b"no result"
        raise DatabaseError(message.decode(errors="replace").strip() or "COPY failed")
