import pytest
from django.db import OperationalError, connections


def refuse(*args, **kwargs):
    raise OperationalError('connection to server at "127.0.0.1", port 5432 failed')


@pytest.fixture
def primary_down(transactional_db):
    """Call it to make every new query on the default database fail as if it were unreachable.

    Undone before the test database is emptied (not with monkeypatch, which an autouse
    fixture sets up earlier, so it would be undone only after).
    """
    connection = connections["default"]
    yield lambda: setattr(connection, "ensure_connection", refuse)
    connection.__dict__.pop("ensure_connection", None)
