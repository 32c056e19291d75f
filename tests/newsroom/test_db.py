import pytest
from django.db import OperationalError, transaction

from newsroom import db
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


@pytest.fixture
def dropped(monkeypatch):
    """The current connection looks broken by the server; closing it is recorded."""
    closed = []
    monkeypatch.setattr(db, "connection_dropped", lambda: True)
    monkeypatch.setattr(db.connection, "close", lambda: closed.append(1))
    return closed


@pytest.mark.django_db(transaction=True)
def test_retries_once_on_a_new_connection(dropped):
    """A dropped connection is closed and the work runs again once."""
    work, calls = flaky(1)
    assert work() == "done"
    assert len(calls) == 2 and dropped == [1]


@pytest.mark.django_db(transaction=True)
def test_second_failure_is_raised(dropped):
    """A database that fails twice is down: the error reaches the caller."""
    work, calls = flaky(2)
    with pytest.raises(OperationalError):
        work()
    assert len(calls) == 2


@pytest.mark.django_db(transaction=True)
def test_no_retry_on_a_working_connection():
    """A timeout or deadlock on a sound connection is raised at once, the connection kept."""
    work, calls = flaky(1)
    with pytest.raises(OperationalError):
        work()
    assert len(calls) == 1


@pytest.mark.django_db
def test_no_retry_inside_a_transaction(dropped):
    """Inside a transaction the error belongs to it, so it is raised without a retry."""
    work, calls = flaky(1)
    with transaction.atomic(), pytest.raises(OperationalError):
        work()
    assert len(calls) == 1 and dropped == []
