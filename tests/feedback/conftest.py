import pytest

from tests.factories import ExplainerFactory


@pytest.fixture
def live(db):
    """A published explainer readers can vote on."""
    return ExplainerFactory(published=True)
