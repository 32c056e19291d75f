import pytest

from explainers.models import Explainer, Notice
from tests.factories import ExplainerFactory, editor, writer

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct horse battery staple"


def log_in(browser, live_server, user):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    return page


def test_writer_to_editor_to_reader_with_a_correction(live_server, browser, screenshot):
    """A writer's AI draft goes to review, an editor signs it off and publishes, then corrects."""
    writer_page = log_in(browser, live_server, writer("wanda"))
    writer_page.goto(f"{live_server.url}/admin/explainers/explainer/add/")
    writer_page.fill("#id_headline", "Envoys agree to talk about security guarantees")
    writer_page.fill("#id_whats_happening", "Envoys met in Washington on Monday.")
    writer_page.fill("#id_why_its_important", "Guarantees could shape the region's security.")
    writer_page.fill("#id_whats_next", "A second meeting is planned for Friday.")
    writer_page.check("#id_ai_generated")
    writer_page.click("input[name=_continue]")
    writer_page.get_by_role("button", name="Submit for review").wait_for()
    screenshot(writer_page, "workflow-1-writer-draft")
    assert writer_page.get_by_role("button", name="Publish").count() == 0
    writer_page.get_by_label("Comment").fill("Ready for a look.")
    writer_page.get_by_role("button", name="Submit for review").click()
    writer_page.get_by_text("Submitted for review: ").wait_for()
    screenshot(writer_page, "workflow-2-submitted")
    explainer = Explainer.objects.get()
    assert explainer.status == Explainer.Status.IN_REVIEW

    editor_page = log_in(browser, live_server, editor("eddie"))
    change_url = f"{live_server.url}/admin/explainers/explainer/{explainer.pk}/change/"
    editor_page.goto(change_url)
    # Publishing is not offered until the AI text is signed off; the panel says why.
    editor_page.get_by_text("must be signed off").wait_for()
    assert editor_page.get_by_role("button", name="Publish").count() == 0
    screenshot(editor_page, "workflow-3-sign-off-required")
    editor_page.get_by_role("button", name="Sign off the AI-drafted text").click()
    editor_page.get_by_text("AI text signed off: ").wait_for()
    editor_page.get_by_role("button", name="Publish").click()
    editor_page.get_by_text("Published: ").wait_for()
    screenshot(editor_page, "workflow-4-published")

    editor_page.goto(f"{live_server.url}{explainer.get_absolute_url()}")
    assert "Reviewed by an editor" in editor_page.locator(".ai-label").inner_text()
    screenshot(editor_page, "workflow-5-reader-page")

    editor_page.goto(f"{live_server.url}/admin/explainers/explainer/{explainer.pk}/notices/")
    editor_page.select_option("#id_kind", "correction")
    editor_page.fill("#id_text", "An earlier version said the second meeting is on Thursday.")
    editor_page.get_by_role("button", name="Publish the notice").click()
    editor_page.get_by_text("The notice is published.").wait_for()
    assert Notice.objects.get().kind == "correction"
    editor_page.goto(f"{live_server.url}{explainer.get_absolute_url()}")
    # The browser keeps public pages for a minute, as any reader's would: reload to see now.
    editor_page.reload()
    correction = editor_page.locator(".notice-correction")
    assert "second meeting is on Thursday" in correction.inner_text()
    screenshot(editor_page, "workflow-6-correction")
    editor_page.goto(change_url)
    screenshot(editor_page, "workflow-7-timeline")


def change_page(browser, live_server, user, explainer):
    page = log_in(browser, live_server, user)
    page.goto(f"{live_server.url}/admin/explainers/explainer/{explainer.pk}/change/")
    return page


def asked_before_leaving(page) -> list[str]:
    """Record (and refuse) every "Leave site?" question the page asks from now on."""
    asked = []

    def answer(dialog):
        asked.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", answer)
    return asked


def type_into(page, selector: str, text: str) -> None:
    """Type as a person does (keys, not a script), which is what lets a page ask on leaving."""
    page.click(selector)
    page.keyboard.press("End")
    page.keyboard.type(text)


def test_leaving_with_unsaved_edits_asks_first(live_server, browser):
    """An edited form asks before the page is left; staying keeps the edit on the screen."""
    explainer = ExplainerFactory(whats_next="Saved earlier.")
    page = change_page(browser, live_server, writer(), explainer)
    asked = asked_before_leaving(page)
    page.get_by_role("link", name="Revisions").click()
    page.wait_for_url("**/revisions/")
    assert asked == []  # nothing typed: nothing to lose, nothing asked

    page.go_back()
    type_into(page, "#id_whats_next", " Typed, not saved.")
    page.get_by_role("link", name="Revisions").click()
    page.wait_for_timeout(300)
    assert asked == ["beforeunload"]
    assert "/change/" in page.url
    assert page.input_value("#id_whats_next") == "Saved earlier. Typed, not saved."


def test_saving_the_form_does_not_ask(live_server, browser):
    """Submitting the form itself disarms the question: Save goes through at once."""
    explainer = ExplainerFactory(whats_next="Saved earlier.")
    page = change_page(browser, live_server, writer(), explainer)
    asked = asked_before_leaving(page)
    type_into(page, "#id_whats_next", " And more.")
    page.locator("input[name=_continue]").first.click()
    page.get_by_text("was changed successfully").wait_for()
    assert asked == []
    explainer.refresh_from_db()
    assert explainer.whats_next == "Saved earlier. And more."


def test_submitting_for_review_keeps_the_typed_edit(live_server, browser, screenshot):
    """The reported loss, in the browser: edit a saved draft, Submit for review, edit kept."""
    explainer = ExplainerFactory(whats_next="Saved earlier.")
    page = change_page(browser, live_server, writer(), explainer)
    asked = asked_before_leaving(page)
    screenshot(page, "workflow-writer-change-page")
    type_into(page, "#id_whats_next", " Typed just before submitting.")
    page.get_by_role("button", name="Submit for review").click()
    page.get_by_text("Submitted for review: ").wait_for()
    assert asked == []
    assert page.input_value("#id_whats_next") == "Saved earlier. Typed just before submitting."
    explainer.refresh_from_db()
    assert explainer.status == Explainer.Status.IN_REVIEW
    assert explainer.whats_next == "Saved earlier. Typed just before submitting."


def test_a_form_sent_back_with_errors_still_asks(live_server, browser, screenshot):
    """A page the server returned with errors holds unsaved edits, so leaving it asks."""
    explainer = ExplainerFactory(headline="Saved headline")
    page = change_page(browser, live_server, writer(), explainer)
    page.fill("#id_headline", "")
    type_into(page, "#id_whats_next", " Typed.")
    page.get_by_role("button", name="Submit for review").click()
    page.get_by_text("was not taken").first.wait_for()
    screenshot(page, "workflow-step-not-taken")
    asked = asked_before_leaving(page)
    page.click("body")  # a person's click on the new page, as the question requires
    page.get_by_role("link", name="Revisions").click()
    page.wait_for_timeout(300)
    assert asked == ["beforeunload"]
    explainer.refresh_from_db()
    assert explainer.status == Explainer.Status.DRAFT and explainer.headline == "Saved headline"


def test_archive_asks_and_a_no_keeps_everything(live_server, browser, screenshot):
    """Archive asks in a dialog; no leaves the explainer as it was, yes archives it."""
    explainer = ExplainerFactory(published=True)
    explainer.whats_next = "An edit waiting for publication."
    explainer.save()
    page = change_page(browser, live_server, editor(), explainer)
    screenshot(page, "workflow-editor-change-page")
    questions = []

    def answer(dialog, *, yes):
        questions.append(dialog.message)
        dialog.accept() if yes else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, yes=False))
    page.get_by_role("button", name="Archive").click()
    page.wait_for_timeout(300)
    assert "Archive “" in questions[0] and "for good" in questions[0]
    explainer.refresh_from_db()
    assert explainer.status == Explainer.Status.PUBLISHED

    page.once("dialog", lambda dialog: answer(dialog, yes=True))
    page.get_by_role("button", name="Archive").click()
    page.get_by_text("Archived: ").wait_for()
    explainer.refresh_from_db()
    assert explainer.status == Explainer.Status.ARCHIVED


def test_archive_without_javascript_asks_on_a_page(live_server, browser, screenshot):
    """With JavaScript off, Archive saves the edits, then asks on a page before acting."""
    explainer = ExplainerFactory(whats_next="Saved earlier.")
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, java_script_enabled=False
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", editor().username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/admin/explainers/explainer/{explainer.pk}/change/")
    page.fill("#id_whats_next", "Typed before archiving.")
    page.get_by_role("button", name="Archive").click()
    page.get_by_text("for good").wait_for()
    screenshot(page, "workflow-confirm-archive")
    explainer.refresh_from_db()
    assert explainer.status == Explainer.Status.DRAFT
    assert explainer.whats_next == "Typed before archiving."
    page.get_by_role("button", name="Yes, archive").click()
    page.get_by_text("Archived: ").wait_for()
    explainer.refresh_from_db()
    assert explainer.status == Explainer.Status.ARCHIVED
    context.close()


def test_archive_selected_asks_on_a_page_then_archives(live_server, browser, screenshot):
    """Archive selected in the list shows the warning and the explainers; the yes archives."""
    stories = [ExplainerFactory(published=True, headline=f"Bulk story {n}") for n in range(2)]
    page = log_in(browser, live_server, editor())
    page.goto(f"{live_server.url}/admin/explainers/explainer/")
    for story in stories:
        page.check(f"input[name=_selected_action][value='{story.pk}']")
    page.select_option("select[name=action]", "archive_selected")
    page.click("button[name=index]")
    page.wait_for_selector(".workflow-warning")
    assert "Bulk story 0" in page.content() and "Bulk story 1" in page.content()
    screenshot(page, "bulk-archive-asks")
    assert Explainer.objects.filter(status=Explainer.Status.ARCHIVED).count() == 0
    page.click("button.workflow-destructive")
    page.wait_for_url("**/admin/explainers/explainer/")
    assert Explainer.objects.filter(status=Explainer.Status.ARCHIVED).count() == 2
    page.context.close()
