"""Round 5 attacks on pages rendered while what they show changed, and on Redis resuming."""

import pytest

from explainers import page_cache, selectors
from explainers.models import SlugRedirect
from tests.factories import ExplainerFactory, TopicFactory
from tests.http import max_age

pytestmark = pytest.mark.django_db


def test_a_redirect_worked_out_while_its_explainer_changed_is_kept_by_no_shared_cache(
    client, monkeypatch
):
    """An old slug's 301 worked out while its explainer changed goes out with max-age=0."""
    explainer = ExplainerFactory(published=True, topic=TopicFactory())
    SlugRedirect.objects.create(old_slug="old-address", explainer=explainer)
    read_state = selectors.page_state

    def state_then_change(slug):
        state = read_state(slug)
        page_cache.invalidate(f"explainer-{explainer.pk}")  # e.g. its slug changes now
        return state

    monkeypatch.setattr(selectors, "page_state", state_then_change)
    during = client.get("/explainers/old-address/")
    assert during.status_code == 301
    assert max_age(during) == 0 == max_age(during, "Surrogate-Control")
    assert max_age(during, "CDN-Cache-Control") == 0


def test_an_old_slugs_redirect_keeps_its_lifetime_when_nothing_changed(client):
    """A 301 from an old slug that nothing changed under is still kept by shared caches."""
    explainer = ExplainerFactory(published=True, topic=TopicFactory())
    SlugRedirect.objects.create(old_slug="old-address", explainer=explainer)
    response = client.get("/explainers/old-address/")
    assert response.status_code == 301
    assert max_age(response) > 0 and max_age(response, "Surrogate-Control") > 0
