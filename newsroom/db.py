"""Database helpers shared by the apps."""

import functools

from django.db import InterfaceError, OperationalError, connection


def retry_on_dropped_connection(func):
    """Run ``func`` once more, on a new connection, when the database dropped the current one.

    Persistent connections are not health-checked before each request by default (that costs
    a round trip per request; see ``DJANGO_CONN_HEALTH_CHECKS``), so the first use of one the
    server closed (a restart, a failover) fails. Only for idempotent work outside a
    transaction: inside one, the error is the transaction's and is raised as it is.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (OperationalError, InterfaceError):
            if connection.in_atomic_block:
                raise
            connection.close()
            return func(*args, **kwargs)

    return wrapper
