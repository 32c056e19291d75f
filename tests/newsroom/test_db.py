import pytest
from django.db import OperationalError, connection, transaction

from newsroom.db import retry_on_dropped_connection


def flaky(failures: int):
    """A function that raises OperationalError ``failures`` times, then answers "done"."""
    calls = []

    @retry_on_dropped_connection
    def work():
        calls.append(1)
        if len(calls) <= failures:
            raise OperationalError("server closed the connection unexpectedly")
        return "done"

    return work, calls


@pytest.mark.django_db(transaction=True)
def test_retries_once_on_a_new_connection(monkeypatch):
    """A dropped connection is closed and the work runs again once."""
    closed = []
    monkeypatch.setattr(connection, "close", lambda: closed.append(1))
    work, calls = flaky(1)
    assert work() == "done"
    assert len(calls) == 2 and closed == [1]


@pytest.mark.django_db(transaction=True)
def test_second_failure_is_raised():
    """A database that fails twice is down: the error reaches the caller."""
    work, calls = flaky(2)
    with pytest.raises(OperationalError):
        work()
    assert len(calls) == 2


@pytest.mark.django_db
def test_no_retry_inside_a_transaction():
    """Inside a transaction the error belongs to it, so it is raised without a retry."""
    work, calls = flaky(1)
    with transaction.atomic(), pytest.raises(OperationalError):
        work()
    assert len(calls) == 1
