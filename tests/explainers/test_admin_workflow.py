import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from explainers import services
from explainers.models import Explainer, Notice, PreviewLink, SlugRedirect
from tests.explainers.admin_client import (
    change_data,
    full_change_data,
    loaded_at_of,
    logged_in,
    png,
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


def test_panel_says_a_headline_is_needed():
    """An imported draft without a headline shows the editor why it cannot be published."""
    explainer = ExplainerFactory(headline="[Headline needed]")
    html = logged_in(editor()).get(url("change", explainer)).text
    assert "no headline yet: write one before publishing" in html
    assert 'value="publish"' not in html


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


# Each Workflow panel step: who presses it, on what, and what it leaves behind.
PANEL_STEPS = {
    "submit": (writer, {}, {}, Status.IN_REVIEW),
    "send_back": (editor, {"status": Status.IN_REVIEW}, {"comment": "Add a source"}, Status.DRAFT),
    "sign_off": (editor, {"status": Status.IN_REVIEW, "ai_generated": True}, {}, Status.IN_REVIEW),
    "publish": (editor, {"status": Status.IN_REVIEW}, {}, Status.PUBLISHED),
    "publish changes": (editor, {"published": True}, {}, Status.PUBLISHED),
    "unpublish": (editor, {"published": True}, {}, Status.UNPUBLISHED),
    "archive": (editor, {}, {}, Status.ARCHIVED),
}


@pytest.mark.parametrize("name", PANEL_STEPS)
def test_each_panel_step_saves_the_edits_then_takes_the_step(name):
    """Every step the change page offers saves what is on the screen first, then is taken."""
    make_user, factory_kwargs, panel, status = PANEL_STEPS[name]
    explainer = ExplainerFactory(**factory_kwargs)
    if name == "publish changes":
        _edit_text(explainer, "An edit waiting for publication.")
    step = name.split()[0]
    client = logged_in(make_user())
    assert f'name="workflow-action" value="{step}"' in client.get(url("change", explainer)).text

    response = transition(client, explainer, step, whats_next="Typed just before.", **panel)

    explainer.refresh_from_db()
    assert explainer.whats_next == "Typed just before."
    assert explainer.status == status
    event = explainer.events.first()
    assert event.version == explainer.version and event.get_action_display() in response.text
    if step == "sign_off":
        assert explainer.is_signed_off
    if step == "publish":
        assert Explainer.objects.published().get().live_revision.whats_next == "Typed just before."


def _edit_text(explainer, whats_next):
    explainer.whats_next = whats_next
    explainer.save()


def test_submit_with_a_typed_edit_keeps_it():
    """The reported loss: a writer edits a saved draft and submits; the edit is saved."""
    draft = ExplainerFactory(whats_next="Saved earlier.")
    response = transition(
        logged_in(writer()), draft, "submit", whats_next="Typed, never saved.", comment="Ready"
    )
    draft.refresh_from_db()
    assert (draft.whats_next, draft.status, draft.version) == (
        "Typed, never saved.",
        Status.IN_REVIEW,
        2,
    )
    assert "Submitted for review" in response.text and "Ready" in response.text


def test_an_invalid_form_takes_no_step_and_saves_nothing():
    """A step pressed with a form that does not validate re-renders it with its errors."""
    draft = ExplainerFactory(whats_next="Saved earlier.")
    response = transition(
        logged_in(writer()), draft, "submit", headline="", whats_next="Typed, never saved."
    )
    assert response.status_code == 200 and not response.redirect_chain
    assert "This field is required." in response.text
    assert "“Submit for review” was not taken" in response.text
    assert "Typed, never saved." in response.text
    draft.refresh_from_db()
    assert (draft.whats_next, draft.status, draft.version) == ("Saved earlier.", Status.DRAFT, 1)
    assert not draft.events.exists()


def test_send_back_without_a_comment_saves_nothing():
    """Sending back asks for its comment next to the box; the edits wait on the screen."""
    explainer = ExplainerFactory(status=Status.IN_REVIEW, whats_next="Saved earlier.")
    response = transition(logged_in(editor()), explainer, "send_back", whats_next="Typed.")
    assert response.status_code == 200 and not response.redirect_chain
    assert "Say what needs changing when sending back." in response.text
    assert "Typed." in response.text
    explainer.refresh_from_db()
    assert (explainer.whats_next, explainer.status) == ("Saved earlier.", Status.IN_REVIEW)


def test_a_refused_step_keeps_the_saved_edits_and_says_why():
    """Editing AI text voids its sign-off, so Publish is refused, but the edit is saved."""
    explainer = ExplainerFactory(status=Status.IN_REVIEW, ai_generated=True)
    services.explainer_sign_off(explainer=explainer, user=editor("signer"))
    response = transition(logged_in(editor()), explainer, "publish", whats_next="New text.")
    explainer.refresh_from_db()
    assert explainer.whats_next == "New text." and explainer.status == Status.IN_REVIEW
    assert "Your changes are saved" in response.text and "must be signed off" in response.text


def test_a_step_without_edits_makes_no_new_version():
    """Pressing a step with nothing typed takes it on the same version, with no save notice."""
    draft = ExplainerFactory()
    response = transition(logged_in(writer()), draft, "submit")
    draft.refresh_from_db()
    assert draft.status == Status.IN_REVIEW and draft.version == 1
    assert "Your changes are saved" not in response.text


@pytest.mark.parametrize("step", ["unpublish", "archive"])
def test_a_destructive_step_asks_first_without_javascript(step):
    """Unpublish and Archive save the edits, then ask on a page of their own before acting."""
    explainer = ExplainerFactory(published=True)
    client = logged_in(editor())
    response = transition(
        client, explainer, step, confirm=False, whats_next="Typed.", comment="Legal asked."
    )
    explainer.refresh_from_db()
    assert explainer.status == Status.PUBLISHED and explainer.whats_next == "Typed."
    assert response.status_code == 200
    assert "Your changes are saved" in response.text
    confirm = response.context["step_form"]
    assert confirm["comment"].value() == "Legal asked."
    data = {name: confirm[name].value() for name in confirm.fields}
    client.post(url("transition", explainer), {key: v for key, v in data.items() if v is not None})
    explainer.refresh_from_db()
    assert explainer.status != Status.PUBLISHED
    assert explainer.events.first().comment == "Legal asked."


def test_destructive_steps_look_destructive_and_ask_in_the_browser():
    """Unpublish and Archive carry the destructive style and a confirmation; Publish neither."""
    explainer = ExplainerFactory(published=True)
    _edit_text(explainer, "Pending.")
    html = logged_in(editor()).get(url("change", explainer)).text
    found = re.findall(r'<button ([^>]*value="(\w+)"[^>]*)>', html)
    buttons = {value: attrs for attrs, value in found}
    for step in ("unpublish", "archive"):
        assert "workflow-destructive" in buttons[step] and "data-confirm=" in buttons[step]
    assert "workflow-destructive" not in buttons["publish"]
    assert "data-confirm" not in buttons["publish"]


@pytest.mark.parametrize(
    ("make_user", "state", "shown"),
    [
        (writer, {}, False),
        (editor, {}, False),
        (editor, {"published": True}, False),
        (editor, {"status": Status.IN_REVIEW}, True),
        (writer, {"status": Status.IN_REVIEW}, False),
    ],
)
def test_the_comment_is_required_only_where_send_back_is_offered(make_user, state, shown):
    """The panel says the comment is required only when the page offers Send back."""
    explainer = ExplainerFactory(**state)
    html = logged_in(make_user()).get(url("change", explainer)).text
    assert ("required to send back" in html) is shown
    assert ('value="send_back"' in html) is shown


def test_enter_in_a_field_saves_and_takes_no_step():
    """The change form's first submit button is Save, so Enter in a field never takes a step."""
    html = logged_in(editor()).get(url("change", ExplainerFactory())).text
    form = html[html.index('id="explainer_form"') :]
    first = re.search(r"<(?:input|button)[^>]*type=\"submit\"[^>]*>", form).group(0)
    assert 'name="_save"' in first


def test_a_new_image_in_the_admin_keeps_the_text_sign_off():
    """A writer adds a lead image to signed-off AI text: the text's sign-off stands."""
    explainer = ExplainerFactory(status=Status.IN_REVIEW, ai_generated=True)
    services.explainer_sign_off(explainer=explainer, user=editor("signer"))
    client = logged_in(writer())
    token = loaded_at_of(client.get(url("change", explainer)))
    data = full_change_data(explainer, token, image=png(), image_alt="A red square")
    assert client.post(url("change", explainer), data).status_code == 302
    explainer.refresh_from_db()
    assert explainer.image and explainer.is_signed_off
    html = logged_in(editor()).get(url("change", explainer)).text
    assert "the text changed" not in html and "AI text signed off by signer" in html


def test_a_user_who_may_publish_but_not_edit_publishes_from_the_read_only_page():
    """With no form to save, the panel's step alone is taken, checked against the version."""
    explainer = ExplainerFactory(status=Status.IN_REVIEW)
    user = UserFactory(username="publisher", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(codename__in=["view_explainer", "publish_explainer"])
    )
    client = logged_in(user)
    html = client.get(url("change", explainer)).text
    assert 'name="_save"' not in html and 'value="publish"' in html
    version = re.search(r'name="workflow-version" value="(\d+)"', html).group(1)
    data = {"workflow-action": "publish", "workflow-version": version}
    response = client.post(url("change", explainer), data, follow=True)
    assert "Published: " in response.text
    assert Explainer.objects.published().get() == explainer


def test_the_panel_does_not_offer_a_sign_off_there_is_nothing_to_sign():
    """Text written by people, or already signed off, gets no "sign-off blocked" line."""
    signed = ExplainerFactory(ai_generated=True)
    services.explainer_sign_off(explainer=signed, user=editor("signer"))
    client = logged_in(editor())
    for explainer in (ExplainerFactory(), signed):
        html = client.get(url("change", explainer)).text
        assert "no AI-drafted text waiting" not in html


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


def test_a_confirmed_step_is_checked_against_the_version_its_user_saw():
    """Unpublish asked from a page showing an older version is refused even after the yes."""
    explainer = ExplainerFactory(published=True)
    user = UserFactory(username="publisher", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(codename__in=["view_explainer", "publish_explainer"])
    )
    client = logged_in(user)
    html = client.get(url("change", explainer)).text
    seen = re.search(r'name="workflow-version" value="(\d+)"', html).group(1)
    writer_edits(explainer, whats_next="Changed while the publisher looked.")
    data = {"workflow-action": "unpublish", "workflow-version": seen}
    confirm = client.post(url("change", explainer), data).context["step_form"]
    answer = {name: confirm[name].value() for name in confirm.fields}
    client.post(url("transition", explainer), {k: v for k, v in answer.items() if v is not None})
    explainer.refresh_from_db()
    assert explainer.status == Status.PUBLISHED


def test_a_browsers_line_endings_are_no_change_to_the_signed_off_text():
    """A browser sends a textarea's new lines as CRLF: the text it sends back unchanged keeps
    its sign-off, and a save of the image alone makes no change to the text."""
    text = "Leaders met.\n\nThey agreed to talk."
    explainer = ExplainerFactory(status=Status.IN_REVIEW, ai_generated=True, whats_next=text)
    services.explainer_sign_off(explainer=explainer, user=editor("signer"))
    client = logged_in(writer())
    token = loaded_at_of(client.get(url("change", explainer)))
    data = full_change_data(
        explainer, token, whats_next=text.replace("\n", "\r\n"), image=png(), image_alt="Red"
    )
    assert client.post(url("change", explainer), data).status_code == 302
    explainer.refresh_from_db()
    assert explainer.image and explainer.whats_next == text and explainer.is_signed_off


def test_text_saved_with_crlf_before_keeps_its_sign_off_when_saved_again():
    """A section a browser stored with CRLF earlier, saved again unchanged, is no change."""
    text = "Leaders met.\r\n\r\nThey agreed to talk."
    explainer = ExplainerFactory(status=Status.IN_REVIEW, ai_generated=True, whats_next=text)
    services.explainer_sign_off(explainer=explainer, user=editor("signer"))
    version = Explainer.objects.get(pk=explainer.pk).version
    client = logged_in(writer())
    token = loaded_at_of(client.get(url("change", explainer)))
    data = full_change_data(explainer, token, whats_next=text)
    assert client.post(url("change", explainer), data).status_code == 302
    explainer.refresh_from_db()
    assert explainer.is_signed_off and explainer.version == version


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
