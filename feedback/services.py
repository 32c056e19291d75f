"""Writes to ratings. The vote endpoint calls these; nothing else writes ratings."""

import hashlib
import hmac

from django.conf import settings
from django.db import connection
from django.utils import timezone

from newsroom.db import retry_on_dropped_connection

from .models import Rating


def reader_key(token: str) -> str:
    """A keyed hash of the reader's cookie, so the stored value cannot be replayed as a cookie."""
    return hmac.new(
        settings.SECRET_KEY.encode(), f"reader:{token}".encode(), hashlib.sha256
    ).hexdigest()


_TABLE = Rating._meta.db_table
_COLUMNS = (
    "explainer_id, reader, useful, reason, comment, explainer_version, created_at, updated_at"
)
_ON_CONFLICT = (
    "ON CONFLICT (explainer_id, reader) DO UPDATE SET useful = EXCLUDED.useful, "
    "reason = EXCLUDED.reason, comment = EXCLUDED.comment, "
    "explainer_version = EXCLUDED.explainer_version, updated_at = EXCLUDED.updated_at"
)
UPSERT_SQL = (
    f"INSERT INTO {_TABLE} ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) {_ON_CONFLICT}"
)
# The same statement for PostgreSQL, switching off synchronous_commit for its own transaction:
# set_config(..., true) lasts until that transaction ends, after its commit record is written.
# Votes are analytics, not a ledger: losing the last fraction of a second of them in a crash
# is fine, and not waiting for the disk on each commit is much faster. Doing it inside the
# statement keeps a vote to one round trip, with no BEGIN, SET LOCAL or COMMIT of its own.
UPSERT_ASYNC_COMMIT_SQL = (
    f"INSERT INTO {_TABLE} ({_COLUMNS}) "
    "SELECT %s, %s, %s, %s, %s, %s, %s, %s "
    "WHERE set_config('synchronous_commit', 'off', true) = 'off' "
    f"{_ON_CONFLICT}"
)


@retry_on_dropped_connection
def rating_record(
    *,
    explainer_id: int,
    explainer_version: int,
    reader_token: str,
    useful: bool,
    reason: str = "",
    comment: str = "",
) -> None:
    """Record this reader's one vote on ``explainer``, replacing any earlier one.

    A vote is counted once per reader however often it is sent: each post states the
    reader's whole answer (vote, reason, comment), with the version of the text the reader
    saw. One INSERT … ON CONFLICT UPDATE statement, so two posts racing from one reader still
    leave one row, and sending it twice (a retry on a new connection) changes nothing.
    """
    now = timezone.now()
    values = [
        explainer_id,
        reader_key(reader_token),
        useful,
        "" if useful else reason,
        comment,
        explainer_version,
        now,
        now,
    ]
    # Written out because this is the hot path: the ORM's bulk_create(update_conflicts=…)
    # builds the same statement at several times the cost. One statement needs no atomic
    # block: in autocommit mode it is its own transaction.
    sql = UPSERT_ASYNC_COMMIT_SQL if connection.vendor == "postgresql" else UPSERT_SQL
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
