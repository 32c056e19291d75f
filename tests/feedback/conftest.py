import pytest

from feedback import export
from tests.factories import ExplainerFactory


@pytest.fixture
def live(db):
    """A published explainer readers can vote on."""
    return ExplainerFactory(published=True)


@pytest.fixture
def split_small_exports(monkeypatch):
    """Split an export of any size, so that a few ratings make several parts."""
    monkeypatch.setattr(export, "PARALLEL_MIN_IDS", 0)
