"""Third attack on the page cache, rendered bodies, related lists and search's own cache."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from explainers.services import explainer_publish
from tests.factories import ExplainerFactory, TopicFactory, editor

pytestmark = pytest.mark.django_db


def publish(**fields):
    """Published through the services, so that search (and the related list) finds it."""
    explainer = ExplainerFactory(**fields)
    explainer_publish(explainer=explainer, user=editor("attack3-editor"))
    explainer.refresh_from_db()
    return explainer


def related_titles(html: str) -> list[str]:
    if 'id="related-heading"' not in html:
        return []
    related = html[html.index('id="related-heading"') :]
    return re.findall(r'class="card-title"><a href="[^"]+">([^<]+)</a>', related)


def test_a_new_explainer_close_by_text_joins_a_kept_related_list(client):
    """A list filled by text (no sibling in the topic) takes in a new close explainer at once."""
    explainer = publish(topic=None, headline="Glacier melt speeds up")
    url = explainer.get_absolute_url()
    assert related_titles(client.get(url).text) == []
    publish(topic=TopicFactory(), headline="Glacier melt in the Alps")
    assert related_titles(client.get(url).text) == ["Glacier melt in the Alps"]


def test_a_scheduled_explainer_reaches_a_kept_search_page_on_time(client):
    """Search results kept in search's own cache show an explainer scheduled for T from T on."""
    publish(headline="Harbour strike ends")
    at = timezone.now() + timedelta(minutes=10)
    later = ExplainerFactory(headline="Harbour fees rise")
    explainer_publish(explainer=later, user=editor("attack3-editor"), at=at)
    with time_machine.travel(at - timedelta(seconds=5), tick=False):
        assert "Harbour fees rise" not in client.get("/search/", {"q": "harbour"}).text
    with time_machine.travel(at + timedelta(milliseconds=500), tick=False):
        assert "Harbour fees rise" in client.get("/search/", {"q": "harbour"}).text
