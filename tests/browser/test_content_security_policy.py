"""The Content-Security-Policy breaks nothing: the admin's scripts and the reader's page work,
and Chromium reports no violation on any of them."""

import pytest

from explainers.models import Explainer
from tests.factories import ExplainerFactory, TopicFactory, UserFactory
from tests.feedback.factories import RatingFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct horse battery staple"
# Runs in every page before its own scripts, through DevTools: the policy does not apply to it.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportViolation(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} ` +
    `in ${event.sourceFile || document.location.pathname}:${event.lineNumber}`
  );
});
"""


@pytest.fixture
def watched(browser):
    """A page, and the list of CSP violations Chromium reports on it (events and console)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    violations = []
    context.expose_binding("reportViolation", lambda source, text: violations.append(text))
    context.add_init_script(REPORT_VIOLATIONS)
    page = context.new_page()
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield page, violations
    context.close()


def log_in(page, live_server):
    UserFactory(username="chief", is_staff=True, is_superuser=True)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "chief")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")


def test_watcher_sees_a_violation(live_server, watched):
    """The check can fail: an inline script added to a page is blocked and reported."""
    page, violations = watched
    page.goto(live_server.url + "/")
    with pytest.raises(Exception, match="Content Security Policy|Refused"):
        page.add_script_tag(content="window.inlineRan = true")
    page.wait_for_timeout(200)
    assert page.evaluate("window.inlineRan === undefined")
    assert any("script-src" in violation for violation in violations)


def test_admin_editing_works_under_the_policy(live_server, watched, screenshot):
    """Prepopulated slug, the topic, inline rows, the Workflow panel, change lists with
    date hierarchy and the report's charts all work, with no violation reported."""
    page, violations = watched
    TopicFactory(name="Diplomacy", slug="diplomacy")
    rated = ExplainerFactory(published=True)
    RatingFactory.create_batch(3, explainer=rated, useful=False, reason="too-long")
    log_in(page, live_server)

    page.goto(f"{live_server.url}/admin/explainers/explainer/add/")
    page.locator("#id_headline").press_sequentially("Envoys agree to talk")
    assert page.locator("#id_slug").input_value() == "envoys-agree-to-talk"
    page.fill("#id_whats_happening", "Envoys met in Washington on Monday.")
    page.fill("#id_why_its_important", "Guarantees could shape the region's security.")
    page.fill("#id_whats_next", "A second meeting is planned for Friday.")
    page.select_option("#id_topic", label="Diplomacy")
    rows = page.locator(".inline-related.dynamic-sources:not(.empty-form)")
    before = rows.count()
    page.locator(".add-row a").click()
    assert rows.count() == before + 1
    screenshot(page, "csp-admin-add-form")
    page.click("input[name=_continue]")
    page.get_by_role("button", name="Submit for review").wait_for()
    explainer = Explainer.objects.get(slug="envoys-agree-to-talk")
    assert explainer.topic.slug == "diplomacy"

    page.goto(f"{live_server.url}/admin/explainers/explainer/")
    page.locator("nav.toplinks a").first.click()  # the date hierarchy, one level down
    page.wait_for_url("**published_at__year=*")
    page.goto(f"{live_server.url}/admin/feedback/rating/")
    page.locator("nav.toplinks a").first.click()
    page.wait_for_url("**created_at__*")
    page.goto(f"{live_server.url}/admin/feedback/rating/report/")
    page.locator("svg.fb-chart").first.wait_for()
    screenshot(page, "csp-admin-report")
    assert violations == []


def test_reader_page_works_under_the_policy(live_server, watched):
    """The reader's page keeps its JSON-LD and votes in place, with no violation reported."""
    page, violations = watched
    explainer = ExplainerFactory(published=True)
    page.goto(live_server.url + explainer.get_absolute_url())
    structured = page.evaluate(
        "JSON.parse(document.querySelector('script[type=\"application/ld+json\"]').textContent)"
    )
    assert structured["@type"] == "NewsArticle"
    page.get_by_role("button", name="Yes").click()
    page.locator(".feedback-status").filter(has_text="Thank you for your feedback.").wait_for()
    assert violations == []
