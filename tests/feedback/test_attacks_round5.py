"""Round 5 attacks on the vote endpoint after the cache lost invalidations in an outage."""

import pytest

from explainers import page_cache
from explainers.services import explainer_unpublish
from feedback.views import votable

pytestmark = pytest.mark.django_db


def test_an_explainer_unpublished_in_an_outage_takes_no_votes_once_the_cache_answers(
    published_explainer, superuser, monkeypatch
):
    """A lost invalidation made good by a new ALL also ends the explainer's kept votability."""
    slug = published_explainer.slug
    assert votable(slug) is not None  # kept under the current versions
    with monkeypatch.context() as outage:
        outage.setattr(page_cache, "write_versions", lambda keys: False)
        explainer_unpublish(explainer=published_explainer, user=superuser)
    page_cache.OWED.clear()  # the process that owed the invalidation is gone
    page_cache.OWED.add(page_cache.ALL)  # another one saw the outage (owe_everything)
    page_cache.repay()
    assert votable(slug) is None
