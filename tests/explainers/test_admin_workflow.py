import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from explainers import services
from explainers.models import Explainer, Notice, PreviewLink, SlugRedirect
from tests.explainers.admin_client import (
    change_data,
    loaded_at_of,
    logged_in,
    transition,
    url,
    writer_edits,
)
from tests.factories import ExplainerFactory, UserFactory, editor, writer

pytestmark = pytest.mark.django_db

Status = Explainer.Status


def test_writer_submits_from_the_workflow_panel():
    """A writer's Submit button moves the draft to review and the timeline shows it."""
    draft = ExplainerFactory()
    client = logged_in(writer())
    response = transition(client, draft, "submit", comment="Please check the numbers")
    draft.refresh_from_db()
    assert draft.status == Status.IN_REVIEW
    assert "Please check the numbers" in response.text and "Submitted for review" in response.text


def test_writers_crafted_publish_post_is_refused():
    """A writer who posts the publish step by hand is refused and nothing changes."""
    draft = ExplainerFactory()
    response = transition(logged_in(writer()), draft, "publish")
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT
    assert "You do not have permission to publish." in response.text


def test_writer_does_not_see_publish_buttons():
    """The panel offers a writer only what a writer may do."""
    html = logged_in(writer()).get(url("change", ExplainerFactory())).text
    assert 'value="submit"' in html and 'value="publish"' not in html


def test_editor_sends_back_only_with_a_comment():
    """Sending back without a comment is refused with a message; with one it works."""
    explainer = ExplainerFactory(status=Status.IN_REVIEW)
    client = logged_in(editor())
    response = transition(client, explainer, "send_back")
    assert "Say what needs changing" in response.text
    transition(client, explainer, "send_back", comment="Add a source")
    explainer.refresh_from_db()
    assert explainer.status == Status.DRAFT


def test_editor_signs_off_and_publishes_ai_text():
    """Publishing AI text is refused until the editor signs it off from the panel."""
    explainer = ExplainerFactory(ai_generated=True, status=Status.IN_REVIEW)
    client = logged_in(editor())
    response = transition(client, explainer, "publish")
    assert "must be signed off" in response.text
    transition(client, explainer, "sign_off")
    transition(client, explainer, "publish")
    assert Explainer.objects.published().get() == explainer


def test_editor_schedules_and_the_list_says_so():
    """A future time schedules the explainer; the changelist shows "Scheduled"."""
    explainer = ExplainerFactory()
    client = logged_in(editor())
    when = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    transition(client, explainer, "publish", publish_at=when)
    explainer.refresh_from_db()
    assert explainer.is_scheduled and not Explainer.objects.published().exists()
    changelist = client.get(reverse("admin:explainers_explainer_changelist")).text
    assert "Scheduled for" in changelist


def test_bulk_publish_by_a_writer_is_not_offered():
    """The publish action is not available to writers, so a crafted post does nothing."""
    draft = ExplainerFactory()
    client = logged_in(writer())
    client.post(
        reverse("admin:explainers_explainer_changelist"),
        {"action": "publish_selected", "_selected_action": [draft.pk]},
    )
    assert not Explainer.objects.published().exists()


def test_bulk_publish_skips_unreviewed_ai_text():
    """The bulk action publishes what it may and says which AI text still needs sign-off."""
    ExplainerFactory(headline="Human text")
    ExplainerFactory(headline="Model text", ai_generated=True)
    client = logged_in(editor())
    ids = list(Explainer.objects.values_list("pk", flat=True))
    response = client.post(
        reverse("admin:explainers_explainer_changelist"),
        {"action": "publish_selected", "_selected_action": ids},
        follow=True,
    )
    assert Explainer.objects.published().get().headline == "Human text"
    assert "Model text" in response.text and "signed off" in response.text


def test_second_save_of_a_concurrent_edit_is_refused_and_keeps_its_text():
    """Two editors open the form; the later save is refused, shows what changed, keeps text."""
    explainer = ExplainerFactory()
    alice, bob = logged_in(editor("alice")), logged_in(editor("bob"))
    alice_token = loaded_at_of(alice.get(url("change", explainer)))
    bob_token = loaded_at_of(bob.get(url("change", explainer)))
    saved = alice.post(
        url("change", explainer), change_data(explainer, alice_token, whats_next="Alice's view.")
    )
    assert saved.status_code == 302
    refused = bob.post(
        url("change", explainer), change_data(explainer, bob_token, whats_next="Bob's view.")
    )
    assert refused.status_code == 200
    assert "alice saved this explainer" in refused.text and "What&#x27;s Next?" in refused.text
    assert "Bob&#x27;s view." in refused.text
    explainer.refresh_from_db()
    assert explainer.whats_next == "Alice's view."
    again = bob.post(
        url("change", explainer),
        change_data(explainer, loaded_at_of(refused), whats_next="Bob's view."),
    )
    assert again.status_code == 302
    explainer.refresh_from_db()
    assert explainer.whats_next == "Bob's view."


def test_revisions_compare_word_by_word():
    """The revisions page shows removed and added words between two revisions."""
    explainer = ExplainerFactory(whats_next="Talks resume on Monday.")
    explainer.whats_next = "Talks resume on Friday."
    explainer.save()
    html = logged_in(editor()).get(url("revisions", explainer)).text
    assert "<del>Monday.</del><ins>Friday.</ins>" in html


def test_compare_any_two_revisions():
    """Choosing revisions A and B compares exactly those two."""
    explainer = ExplainerFactory(headline="One")
    for headline in ("Two", "Three"):
        explainer.headline = headline
        explainer.save()
    first, last = explainer.history.earliest(), explainer.history.latest()
    html = (
        logged_in(editor())
        .get(url("revisions", explainer), {"a": first.history_id, "b": last.history_id})
        .text
    )
    assert "<del>One</del><ins>Three</ins>" in html


def test_restore_from_the_revisions_page():
    """Restoring an old revision makes its text the newest version."""
    explainer = ExplainerFactory(whats_next="Original.")
    explainer.whats_next = "Changed."
    explainer.save()
    old = explainer.history.earliest()
    logged_in(writer()).post(url("restore", explainer, old.history_id))
    explainer.refresh_from_db()
    assert explainer.whats_next == "Original." and explainer.version == 3


def test_editor_adds_a_correction_and_admin_hides_it_with_reason():
    """Editors add notices from the Notices page; only an admin hides one, with a reason."""
    explainer = ExplainerFactory(published=True)
    client = logged_in(editor())
    client.post(url("notices", explainer), {"kind": "correction", "text": "Fixed a date."})
    notice = Notice.objects.get()
    response = client.post(
        url("notices", explainer), {"hide": "1", "notice": notice.pk, "reason": "x"}, follow=True
    )
    assert "Only administrators" in response.text
    admin = logged_in(UserFactory(is_staff=True, is_superuser=True))
    admin.post(url("notices", explainer), {"hide": "1", "notice": notice.pk, "reason": "Dup"})
    notice.refresh_from_db()
    assert notice.hidden_reason == "Dup"


def test_notices_cannot_be_edited_or_deleted_in_the_admin():
    """The notice admin is read-only for everyone, superusers included."""
    explainer = ExplainerFactory(published=True)
    notice = services.notice_add(explainer=explainer, user=editor(), kind="update", text="x")
    admin = logged_in(UserFactory(is_staff=True, is_superuser=True))
    change = reverse("admin:explainers_notice_change", args=[notice.pk])
    assert admin.post(change, {"kind": "update", "text": "rewritten"}).status_code == 403
    delete = reverse("admin:explainers_notice_delete", args=[notice.pk])
    assert admin.post(delete, {"post": "yes"}).status_code == 403
    assert Notice.objects.get().text == "x"


def test_editor_shares_and_revokes_a_preview_link(client):
    """A new link is shown once and works; after revoking it answers 404."""
    explainer = ExplainerFactory(whats_next="Secret draft.")
    editor_client = logged_in(editor())
    page = editor_client.post(url("preview_links", explainer), {"label": "Legal", "days": "7"})
    link = re.search(r'class="new-link"><a href="([^"]+)"', page.text).group(1)
    assert "Secret draft." in client.get(link).text
    editor_client.post(url("preview_links", explainer), {"revoke": PreviewLink.objects.get().pk})
    assert client.get(link).status_code == 404


def test_slug_change_in_the_admin_waits_for_publication(client):
    """A live explainer's new slug takes effect when published, with a 301 from the old one."""
    explainer = ExplainerFactory(published=True, slug="before")
    editor_client = logged_in(editor())
    token = loaded_at_of(editor_client.get(url("change", explainer)))
    editor_client.post(url("change", explainer), change_data(explainer, token, slug="after"))
    assert client.get("/explainers/before/").status_code == 200
    assert client.get("/explainers/after/").status_code == 404
    assert not SlugRedirect.objects.exists()
    transition(editor_client, explainer, "publish")
    assert SlugRedirect.objects.get().old_slug == "before"
    assert client.get("/explainers/before/")["Location"] == "/explainers/after/"
    assert client.get("/explainers/after/").status_code == 200


def test_archived_explainer_is_read_only():
    """An archived explainer opens read-only, with no Save button."""
    explainer = ExplainerFactory(status=Status.ARCHIVED)
    html = logged_in(editor()).get(url("change", explainer)).text
    assert 'name="_save"' not in html


def test_revisions_open_on_the_latest_change_against_the_live_version():
    """Unasked, the page compares the newest version with the one readers see."""
    explainer = ExplainerFactory(whats_next="Talks resume on Monday.", published=True)
    writer_edits(explainer, whats_next="Talks resume on Friday.")
    writer_edits(Explainer.objects.get(pk=explainer.pk), whats_next="Talks resume on Sunday.")
    comparison = logged_in(editor()).get(url("revisions", explainer)).context["comparison"]
    explainer.refresh_from_db()
    assert comparison["old"].history_id == explainer.live_revision.history_id
    assert (comparison["old"].version, comparison["new"].version) == (1, explainer.version)
    assert comparison["rows"]


def test_revisions_never_open_comparing_a_version_with_itself():
    """When the latest revision is the live one, it is compared with the version before it."""
    explainer = ExplainerFactory(whats_next="Talks resume on Monday.")
    explainer.whats_next = "Talks resume on Friday."
    explainer.save()
    services.explainer_publish(explainer=explainer, user=editor())
    response = logged_in(editor()).get(url("revisions", explainer))
    comparison = response.context["comparison"]
    assert comparison["old"].version < comparison["new"].version
    assert "<del>Monday.</del><ins>Friday.</ins>" in response.text
