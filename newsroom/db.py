"""Database helpers shared by the apps."""

import functools

from django.db import InterfaceError, OperationalError, connection


def connection_dropped() -> bool:
    """True when the current connection exists and the server or network has broken it."""
    raw = connection.connection
    return raw is not None and bool(getattr(raw, "broken", False) or getattr(raw, "closed", False))


def retry_on_dropped_connection(func):
    """Run ``func`` once more, on a new connection, when the database dropped the current one.

    Persistent connections are not health-checked before each request by default (that costs
    a round trip per request; see ``DJANGO_CONN_HEALTH_CHECKS``), so the first use of one the
    server closed (a restart, a failover) fails. Any other error (a timeout, a deadlock, a
    database that cannot be reached at all) is raised as it is, and so is every error inside a
    transaction, which belongs to the transaction. Only for idempotent work.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (OperationalError, InterfaceError):
            if connection.in_atomic_block or not connection_dropped():
                raise
            connection.close()
            return func(*args, **kwargs)

    return wrapper
