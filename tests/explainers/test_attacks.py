"""Ways around the editorial promise found by attacking it, each now closed.

A careless editor acting on a page opened before a writer's save, an administrator tidying
up topics, a writer posting what the form does not offer.
"""

import pytest

from explainers.models import Explainer, Topic
from tests.explainers.admin_client import (
    full_change_data,
    loaded_at_of,
    logged_in,
    url,
    writer_edits,
)
from tests.factories import ExplainerFactory, TopicFactory, UserFactory, editor, writer

pytestmark = pytest.mark.django_db


def workflow_post(explainer: Explainer, page, action: str) -> dict:
    """The change form as ``page`` rendered it for ``explainer``, with a Workflow step pressed."""
    data = full_change_data(explainer, loaded_at_of(page))
    return {**data, "workflow-action": action}


def test_publish_refuses_a_version_the_editor_never_saw(client, live):
    """Publishing from a page opened before a writer's save is refused; readers keep the old."""
    boss = logged_in(editor("boss"))
    page = boss.get(url("change", live))
    writer_edits(live, headline="Headline the editor never saw")
    response = boss.post(url("change", live), workflow_post(live, page, "publish"), follow=True)

    assert "writer saved this explainer" in response.text
    assert "“Publish changes” was not taken" in response.text
    assert "Headline the editor never saw" not in client.get("/explainers/approved-slug/").text
    live.refresh_from_db()
    assert live.has_pending_changes and live.headline == "Headline the editor never saw"


def test_the_step_address_refuses_a_version_its_page_never_showed(client, live):
    """A step posted on its own names the version it was meant for; an older one is refused."""
    writer_edits(live, headline="Headline the editor never saw")
    boss = logged_in(editor("boss"))
    data = {"action": "publish", "version": live.version}
    response = boss.post(url("transition", live), data, follow=True)

    assert "saved version 2 after you opened this page" in response.text
    assert "Headline the editor never saw" not in client.get("/explainers/approved-slug/").text


def test_publish_from_a_fresh_page_works(client, live):
    """The same button on a page showing the current version publishes it."""
    writer_edits(live, headline="Headline the editor saw")
    boss = logged_in(editor("boss"))
    page = boss.get(url("change", live))
    shown = Explainer.objects.get(pk=live.pk)
    boss.post(url("change", live), workflow_post(shown, page, "publish"))
    assert "Headline the editor saw" in client.get("/explainers/approved-slug/").text


def test_sign_off_covers_only_the_version_the_editor_saw():
    """A sign-off from a page opened before a writer's save does not sign off the new text."""
    explainer = ExplainerFactory(ai_generated=True)
    boss = logged_in(editor("boss"))
    page = boss.get(url("change", explainer))
    writer_edits(explainer, whats_next="AI text the editor never read.")
    boss.post(url("change", explainer), workflow_post(explainer, page, "sign_off"))

    explainer.refresh_from_db()
    assert not explainer.is_signed_off


def test_a_topic_a_published_version_shows_cannot_be_deleted(client, live):
    """Deleting a topic only the live revision still uses is refused; the page stays up."""
    approved_topic = live.topic
    writer_edits(live, topic=TopicFactory(name="Pending topic").pk)
    root = logged_in(UserFactory(username="root", is_staff=True, is_superuser=True))
    response = root.post(f"/admin/explainers/topic/{approved_topic.pk}/delete/", {"post": "yes"})
    assert "its published version shows this topic" in response.text
    bulk = {"action": "delete_selected", "_selected_action": [approved_topic.pk], "post": "yes"}
    root.post("/admin/explainers/topic/", bulk)

    assert Topic.objects.filter(pk=approved_topic.pk).exists()
    page = client.get("/explainers/approved-slug/")
    assert page.status_code == 200 and "Approved topic" in page.text


def test_a_vanished_topic_does_not_break_the_page(client, live):
    """Should a revision's topic be gone anyway, the page drops it instead of failing."""
    Explainer.objects.filter(pk=live.pk).update(topic=None)
    Topic.objects.filter(name="Approved topic").delete()
    page = client.get("/explainers/approved-slug/")
    assert page.status_code == 200 and "Approved topic" not in page.text


def test_save_as_new_is_refused(live):
    """A crafted "Save as new" cannot copy an explainer (and shed its AI label)."""
    author = logged_in(writer())
    token = loaded_at_of(author.get(url("change", live)))
    data = {**full_change_data(live, token), "_saveasnew": "1"}
    assert author.post(url("change", live), data).status_code == 400
    assert Explainer.objects.count() == 1
