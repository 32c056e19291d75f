import gc

import pytest
from django.db import OperationalError, connections

from newsroom import startup


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


@pytest.fixture
def collector():
    """The test process's garbage collector, as it was, after the test (newsroom/startup.py)."""
    enabled = gc.isenabled()
    yield
    startup._paused = False
    gc.unfreeze()
    (gc.enable if enabled else gc.disable)()
