import pytest

from explainers.models import Explainer, Notice
from tests.factories import editor, writer

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
    writer_page.fill("#id_workflow_comment", "Ready for a look.")
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
