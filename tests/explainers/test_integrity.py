"""Editorial integrity: readers see only what an editor approved."""

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from explainers import renditions, services
from explainers.models import Explainer, PreviewLink, RenditionSet, SlugRedirect, WorkflowEvent
from tests.explainers.admin_client import (
    full_change_data,
    loaded_at_of,
    logged_in,
    png,
    transition,
    url,
    writer_edits,
)
from tests.factories import ExplainerFactory, TopicFactory, editor, writer

pytestmark = pytest.mark.django_db

Status = Explainer.Status
Action = WorkflowEvent.Action


def json_ld(html: str) -> dict:
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    return json.loads(block.group(1))


# Each reader-visible field, as a writer would change it, and what would betray it to readers.
HOSTILE_EDITS = {
    "headline": ({"headline": "Hijacked headline"}, "Hijacked headline"),
    "what's happening": ({"whats_happening": "Hijacked facts."}, "Hijacked facts."),
    "why it's important": ({"why_its_important": "Hijacked stakes."}, "Hijacked stakes."),
    "what's next": ({"whats_next": "Hijacked outlook."}, "Hijacked outlook."),
    "topic": ({"topic": "NEW_TOPIC"}, "Hijacked topic"),
    "image": ({"image": "NEW_IMAGE"}, "NEW_FILES"),
    "image description": ({"image_alt": "Hijacked description"}, "Hijacked description"),
    "image credit": ({"image_credit": "Hijacked credit"}, "Hijacked credit"),
    "image AI flag": ({"image_ai_generated": "on"}, "AI-generated image"),
    "focal point": ({"image_focal_x": "3", "image_focal_y": "97"}, "NEW_FILES"),
    "sources": (
        {"sources": [("Approved source", "https://phishing.example/login")]},
        "phishing.example",
    ),
    "source label": ({"sources": [("Hijacked label", "https://approved.example/")]}, "Hijacked"),
    "slug": ({"slug": "hijacked-slug"}, "hijacked-slug"),
}


@pytest.mark.parametrize("field", sorted(HOSTILE_EDITS))
def test_writers_edit_of_a_live_explainer_waits_for_an_editor(
    client, live, field, django_capture_on_commit_callbacks
):
    """A writer's change to any reader-visible field stays off every public surface."""
    changes, trace = HOSTILE_EDITS[field]
    if changes.get("topic") == "NEW_TOPIC":
        changes["topic"] = TopicFactory(name="Hijacked topic").pk
    if changes.get("image") == "NEW_IMAGE":
        changes["image"] = png("hijacked.png")
    with django_capture_on_commit_callbacks(execute=True):
        response = writer_edits(live, **changes)
    assert "Changes waiting for publication" in response.text
    if trace == "NEW_FILES":
        # The pending version's own files (made on saving), by their unguessable folder.
        pending = RenditionSet.objects.get(source_key=renditions.source_key(live.history.latest()))
        trace = pending.token

    page = client.get("/explainers/approved-slug/")
    assert page.status_code == 200
    assert trace not in page.text and trace not in json.dumps(json_ld(page.text))
    assert trace not in client.get("/").text
    assert "Approved headline" in client.get("/").text

    live.refresh_from_db()
    assert live.status == Status.PUBLISHED and live.has_pending_changes


def test_pending_changes_list_the_changed_fields(live):
    """The change form names each field that waits for publication."""
    response = writer_edits(
        live,
        image_credit="New credit",
        sources=[("Approved source", "https://elsewhere.example/")],
        slug="another-slug",
    )
    panel = response.text.split('class="workflow-pending"')[1].split("</div>")[0]
    items = re.findall(r"<li>(.*?)</li>", panel)
    assert items == ["Slug", "Image credit", "Sources"]


def test_changelist_says_changes_are_waiting(live):
    """The list's status column tells editors a live explainer has unpublished changes."""
    writer_edits(live, image_alt="Another description")
    html = logged_in(editor()).get("/admin/explainers/explainer/").text
    assert "Published, changes waiting for publication" in html


def test_editor_publishing_brings_every_change_to_readers(client, live):
    """Once an editor publishes, readers get the new text, topic, image, sources and slug."""
    topic = TopicFactory(name="New topic")
    writer_edits(
        live,
        headline="New headline",
        topic=topic.pk,
        image=png("fresh.png"),
        image_alt="New description",
        image_credit="New credit",
        sources=[("New source", "https://new.example/")],
        slug="new-slug",
    )
    transition(logged_in(editor()), live, "publish")

    assert client.get("/explainers/approved-slug/")["Location"] == "/explainers/new-slug/"
    page = client.get("/explainers/new-slug/").text
    for text in ("New headline", "New topic", "New description", "New credit"):
        assert text in page
    live.refresh_from_db()
    assert live.image.name == live.live_revision.image and "fresh" not in live.image.name
    published = RenditionSet.objects.get(source_key=renditions.source_key(live.live_revision))
    assert f"/media/renditions/{published.token}/" in page
    assert json_ld(page)["isBasedOn"] == ["https://new.example/"]
    assert "Approved source" not in page
    assert "New headline" in client.get("/").text


def test_old_slug_keeps_answering_until_publication(client, live):
    """A pending slug change leaves no redirect and the new address answers 404."""
    writer_edits(live, slug="pending-slug")
    assert client.get("/explainers/approved-slug/").status_code == 200
    assert client.get("/explainers/pending-slug/").status_code == 404
    assert not SlugRedirect.objects.exists()


def test_pending_slug_cannot_be_taken_by_another(live):
    """A slug readers use now stays reserved while a pending change moves away from it."""
    writer_edits(live, slug="pending-slug")
    assert services.slug_is_taken("approved-slug", exclude_pk=ExplainerFactory().pk)


def test_vote_goes_to_the_published_address(client, live):
    """The feedback form posts to the address readers use, not a pending slug."""
    writer_edits(live, slug="pending-slug")
    page = client.get("/explainers/approved-slug/").text
    assert 'action="/explainers/approved-slug/feedback/"' in page
    assert "pending-slug" not in page


# The AI label


def ai_live():
    explainer = ExplainerFactory(ai_generated=True)
    boss = editor("boss")
    services.explainer_sign_off(explainer=explainer, user=boss)
    services.explainer_publish(explainer=explainer, user=boss)
    return Explainer.objects.get(pk=explainer.pk)


def test_writer_cannot_remove_the_ai_label(client):
    """Unticking "AI generated" as a writer is refused next to the field; nothing changes."""
    explainer = ai_live()
    author = logged_in(writer())
    token = loaded_at_of(author.get(url("change", explainer)))
    data = full_change_data(explainer, token, ai_generated=False)
    response = author.post(url("change", explainer), data)
    assert response.status_code == 200
    assert "Only an editor who may sign off AI text can remove the label" in response.text
    explainer.refresh_from_db()
    assert explainer.ai_generated and not explainer.has_pending_changes
    assert "AI Generated Content" in client.get(explainer.get_absolute_url()).text


def test_writer_cannot_remove_the_ai_label_of_a_draft():
    """The label sticks from the first save on, published or not."""
    explainer = ExplainerFactory(ai_generated=True)
    author = logged_in(writer())
    token = loaded_at_of(author.get(url("change", explainer)))
    author.post(url("change", explainer), full_change_data(explainer, token, ai_generated=False))
    explainer.refresh_from_db()
    assert explainer.ai_generated


def test_editor_removes_the_ai_label_only_with_a_reason():
    """An editor must say why; the reason lands on the timeline."""
    explainer = ai_live()
    boss = logged_in(editor("chief-editor"))
    token = loaded_at_of(boss.get(url("change", explainer)))
    data = full_change_data(explainer, token, ai_generated=False)
    response = boss.post(url("change", explainer), data)
    assert "Say why the text is not AI generated" in response.text
    assert Explainer.objects.get(pk=explainer.pk).ai_generated

    data["ai_label_reason"] = "Rewritten from scratch by our reporter."
    boss.post(url("change", explainer), data)
    explainer.refresh_from_db()
    assert not explainer.ai_generated
    event = explainer.events.get(action=Action.AI_LABEL_REMOVED)
    assert event.comment == "Rewritten from scratch by our reporter."
    assert event.user.username == "chief-editor"


def test_service_refuses_a_writers_ai_label_removal():
    """The service checks the rule too, whatever form calls it."""
    explainer = ExplainerFactory(ai_generated=True)
    explainer.ai_generated = False
    with pytest.raises(services.PermissionDenied):
        services.explainer_record_edit(explainer=explainer, user=writer(), ai_label_reason="x")


def test_restoring_never_removes_the_ai_label():
    """Restoring a revision from before the label keeps the label on."""
    explainer = ExplainerFactory()
    first = explainer.history.latest().history_id
    explainer.ai_generated = True
    explainer.save()
    services.explainer_restore_revision(explainer=explainer, user=writer(), history_id=first)
    explainer.refresh_from_db()
    assert explainer.ai_generated
    assert "The AI label stays" in explainer.events.first().comment


# Preview links


@pytest.mark.parametrize("step", ["unpublish", "archive"])
def test_preview_links_die_when_the_explainer_leaves_the_site(client, live, step):
    """Unpublishing or archiving revokes active links, and the timeline records it."""
    boss = editor("boss")
    _, token = services.preview_link_create(explainer=live, user=boss)
    assert client.get(f"/preview/{token}/").status_code == 200
    services.TRANSITIONS[step](explainer=live, user=boss)
    assert client.get(f"/preview/{token}/").status_code == 404
    assert not PreviewLink.objects.active().exists()
    event = live.events.get(action=Action.PREVIEWS_REVOKED)
    assert event.comment == "1 active preview link stopped working."


# Scheduled changes


def test_scheduled_changes_keep_the_live_version_online_until_their_time(client, live):
    """Changes scheduled for later leave the live page up, then switch with no job to run."""
    writer_edits(live, headline="Next-day headline", slug="tomorrow")
    live.refresh_from_db()
    when = timezone.now() + timedelta(days=1)
    services.explainer_publish(explainer=live, user=editor("boss"), at=when)

    page = client.get("/explainers/approved-slug/")
    assert page.status_code == 200 and "Approved headline" in page.text
    assert client.get("/explainers/tomorrow/").status_code == 404
    live.refresh_from_db()
    assert live.is_scheduled and not live.has_pending_changes

    with time_machine.travel(when + timedelta(seconds=1)):
        from django.core.cache import cache

        cache.clear()
        assert "Next-day headline" in client.get("/explainers/tomorrow/").text
        assert client.get("/explainers/approved-slug/")["Location"] == "/explainers/tomorrow/"
        assert "Next-day headline" in client.get("/").text


def test_settled_schedule_leaves_a_redirect(client, live):
    """The next step after scheduled changes came due records the old address's redirect."""
    writer_edits(live, slug="later")
    live.refresh_from_db()
    when = timezone.now() + timedelta(hours=1)
    services.explainer_publish(explainer=live, user=editor("boss"), at=when)
    with time_machine.travel(when + timedelta(minutes=1)):
        live.refresh_from_db()
        services.explainer_unpublish(explainer=live, user=None)
        services.explainer_publish(explainer=live, user=None)
        assert SlugRedirect.objects.get().old_slug == "approved-slug"
        assert client.get("/explainers/approved-slug/")["Location"] == "/explainers/later/"


# The import command


def test_import_refuses_to_publish_a_draft_edited_since_import(tmp_path: Path, capsys):
    """A writer's later edit is never signed off or published from the file."""
    file = tmp_path / "draft.txt"
    file.write_text(
        "A headline\nWhat's Happening?\nFacts.\nWhy It's Important?\nStakes.\n"
        "What's Next?\nOutlook.\nAI Generated Content\n"
    )
    call_command("import_explainers", str(file), verbosity=0)
    explainer = Explainer.objects.get()
    explainer.whats_next = "A writer's unseen addition."
    explainer.save()
    editor("boss")
    with pytest.raises(CommandError, match="refused; nothing was imported"):
        call_command("import_explainers", "--publish", "--reviewed-by", "boss", str(file))
    assert "changed in the admin since" in capsys.readouterr().err
    explainer.refresh_from_db()
    assert explainer.status == Status.DRAFT and explainer.reviewed_by is None


def test_import_publishes_an_untouched_draft(tmp_path: Path):
    """A draft nobody edited since import is published from its file as before."""
    file = tmp_path / "draft.txt"
    file.write_text(
        "What's Happening?\nFacts.\nWhy It's Important?\nStakes.\nWhat's Next?\nNext.\n"
    )
    call_command("import_explainers", str(file), verbosity=0)
    call_command("import_explainers", "--publish", str(file), verbosity=0)
    assert Explainer.objects.published().count() == 1


# Revisions


def test_restore_brings_back_image_topic_slug_and_sources(live):
    """Restore as new draft restores every reader-visible field, sources included."""
    approved = live.live_revision.history_id
    writer_edits(
        live,
        topic=TopicFactory(name="Other").pk,
        image=png("other.png"),
        image_alt="Other",
        sources=[("Other source", "https://other.example/")],
        slug="other-slug",
    )
    live.refresh_from_db()
    services.explainer_restore_revision(explainer=live, user=writer(), history_id=approved)
    live.refresh_from_db()
    assert live.topic.name == "Approved topic" and live.slug == "approved-slug"
    assert live.image.name == live.live_revision.image and live.image_alt == "Approved description"
    assert [(s.label, s.url) for s in live.sources.all()] == [
        ("Approved source", "https://approved.example/")
    ]
    assert not live.has_pending_changes


def test_revision_diff_shows_images_and_sources(live):
    """The diff shows before/after thumbnails with descriptions and a list diff of sources."""
    writer_edits(
        live,
        image=png("other.png"),
        image_alt="Other description",
        sources=[("Approved source", "https://approved.example/"), ("Added", "https://b.example/")],
    )
    html = logged_in(editor()).get(url("revisions", live)).text
    assert "Approved description" in html and "Other description" in html
    assert html.count("<img") >= 2
    assert "(added)" in html and "https://b.example/" in html
