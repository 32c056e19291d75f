"""Round 7 attacks on the cold render: the next change loaded with the explainer, the page's
text worked out once, and the structured data's cached publisher."""

import unicodedata
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from explainers import services, structured_data
from explainers.services import explainer_publish
from tests.explainers.test_metadata import Metadata
from tests.factories import ExplainerFactory, TopicFactory, editor
from tests.http import max_age

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("change", ["publication", "expiry", "scheduled change"])
def test_a_change_elsewhere_bounds_a_page_whose_body_is_kept(client, renders, change):
    """Body from the cache, related list redone: the next change anywhere still bounds it."""
    explainer = ExplainerFactory(published=True, topic=TopicFactory())
    url = explainer.get_absolute_url()
    client.get(url)  # body and related list kept
    at = timezone.now() + timedelta(minutes=10)
    if change == "publication":
        ExplainerFactory(published=True, published_at=at, topic=TopicFactory())
    elif change == "expiry":
        ExplainerFactory(published=True, expires_at=at, topic=TopicFactory())
    else:
        other = ExplainerFactory(published=True, topic=TopicFactory())
        other.headline = "A headline scheduled for later"
        other.save()
        explainer_publish(explainer=other, user=None, at=at)
    renders.clear()
    with time_machine.travel(at - timedelta(seconds=5), tick=False):
        response = client.get(url)
    assert "explainers/explainer_detail.html" not in renders
    assert "includes/related.html" in renders
    assert 0 <= max_age(response) <= 5
    assert 0 <= max_age(response, "Surrogate-Control") <= 5


def test_json_ld_headline_of_a_short_decomposed_headline_is_as_before(client):
    """The JSON-LD headline is Truncator's NFC text as before, not the raw decomposed one."""
    headline = "Cafe\u0301 owners protest the new rules"
    explainer = ExplainerFactory(published=True, headline=headline)
    (data,) = Metadata(client.get(explainer.get_absolute_url()).text).json_ld
    assert (
        data["headline"]
        == unicodedata.normalize("NFC", headline)
        == "Café owners protest the new rules"
    )


@pytest.mark.parametrize("length", [109, 110, 111, 150])
def test_json_ld_headline_near_the_limit_is_as_before(client, length):
    """Around 110 characters, the JSON-LD headline is what Truncator always gave."""
    headline = ("Glacier melt " * 20)[: length - 1] + "x"
    explainer = ExplainerFactory(published=True, headline=headline)
    (data,) = Metadata(client.get(explainer.get_absolute_url()).text).json_ld
    assert data["headline"] == Truncator(headline).chars(structured_data.HEADLINE_MAX)
    assert len(data["headline"]) <= structured_data.HEADLINE_MAX


def test_a_preview_shows_the_working_copy_sections_and_summary(client):
    """render_preview gets its sections and JSON-LD description from the working copy."""
    explainer = ExplainerFactory(
        whats_happening="Draft news first. Then more.\n\nDraft second paragraph.",
        whats_next="Draft outlook.",
    )
    _, token = services.preview_link_create(explainer=explainer, user=editor(), days=7)
    html = client.get(reverse("explainers:preview", args=[token])).text
    assert "<p>Draft second paragraph.</p>" in html and "<p>Draft outlook.</p>" in html
    (data,) = Metadata(html).json_ld
    assert data["description"] == "Draft news first."
    assert "articleSection" not in data  # the draft has no topic


def test_the_publisher_follows_a_settings_change(settings):
    """The publisher worked out once per process is worked out again when settings change."""
    assert structured_data.publisher()["name"] == settings.SITE_NAME
    settings.SITE_NAME = "Daily Explainer"
    settings.PUBLISHER_LOGO_URL = "https://cdn.example/other-logo.png"
    organization = structured_data.publisher()
    assert organization["name"] == "Daily Explainer"
    assert organization["logo"]["url"] == "https://cdn.example/other-logo.png"


def test_a_caller_changing_its_publisher_changes_no_other_page():
    """publisher() gives each caller a dict of its own: the kept values cannot be changed."""
    structured_data.publisher()["logo"]["url"] = "https://evil.example/logo.png"
    assert structured_data.publisher()["logo"]["url"] != "https://evil.example/logo.png"
