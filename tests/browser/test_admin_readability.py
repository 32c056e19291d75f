"""What staff read in the admin stays readable: dashboard links, the report's chart on a phone."""

import pytest

from tests.factories import ExplainerFactory, UserFactory, analyst
from tests.feedback.rating_factories import rate

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct horse battery staple"

# The smallest label in the report's daily chart, as the browser draws it, in CSS pixels.
SMALLEST_CHART_LABEL = """() => {
  const sizes = [...document.querySelectorAll('svg.fb-chart text')]
    .filter(t => t.getBoundingClientRect().width > 0)
    .map(t => t.getBoundingClientRect().height);
  return sizes.length ? Math.min(...sizes) : null;
}"""


def log_in(browser, live_server, username: str, width: int):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    return context, page


@pytest.fixture
def rated_week(db):
    """Five explainers published this week, each with enough votes to rank."""
    for n, useful in enumerate((9, 8, 6, 3, 1)):
        explainer = ExplainerFactory(headline=f"Talks in Geneva, day {n}", published=True)
        rate(explainer, useful=useful, not_useful=10 - useful, reason="missing-context")


@pytest.mark.parametrize("width", [1280, 320])
def test_dashboard_links_pass_axe(live_server, browser, screenshot, rated_week, width):
    """The analysts' panels' links stand out from the text around them (axe, WCAG 2.2 AA)."""
    from axe_playwright_python.sync_playwright import Axe

    analyst("ana")
    context, page = log_in(browser, live_server, "ana", width)
    assert page.locator(".dashboard-items a").count() >= 4
    only = {"runOnly": {"type": "rule", "values": ["link-in-text-block"]}}
    result = Axe().run(page, options=only)
    problems = [
        (v["id"], [n["target"] for n in v["nodes"]][:3])
        for v in (*result.response["violations"], *result.response["incomplete"])
    ]
    screenshot(page, f"staff-dashboard-{width}")
    context.close()
    assert problems == []


@pytest.mark.parametrize("width", [1280, 320])
def test_report_chart_labels_stay_readable(live_server, browser, screenshot, rated_week, width):
    """The report's chart labels are drawn at 9 px or more, on a laptop and on a phone."""
    analyst("ana")
    context, page = log_in(browser, live_server, "ana", width)
    page.goto(f"{live_server.url}/admin/feedback/rating/report/")
    smallest = page.evaluate(SMALLEST_CHART_LABEL)
    screenshot(page, f"staff-feedback-report-{width}")
    context.close()
    assert smallest is not None and smallest >= 9


@pytest.mark.parametrize("width", [1280, 320])
def test_admin_403_is_an_admin_page(live_server, browser, screenshot, width):
    """A refused page shows the admin's header, breadcrumbs and a way back; axe finds nothing."""
    analyst("ana")
    explainer = ExplainerFactory(headline="Talks in Geneva")
    context, page = log_in(browser, live_server, "ana", width)
    response = page.goto(f"{live_server.url}/admin/explainers/explainer/{explainer.pk}/delete/")
    assert response.status == 403
    assert page.locator("#site-name").is_visible() and page.locator(".breadcrumbs").is_visible()
    assert page.get_by_role("link", name="Back to “Talks in Geneva”").is_visible()
    screenshot(page, f"staff-admin-403-{width}")
    from axe_playwright_python.sync_playwright import Axe

    wcag = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]}}
    violations = [v["id"] for v in Axe().run(page, options=wcag).response["violations"]]
    context.close()
    assert violations == []


@pytest.mark.parametrize("width", [1280, 320])
def test_explainer_list_and_revisions_screens(live_server, browser, screenshot, width):
    """The explainer list shows who drafted each text; revisions open on a real change."""
    from explainers import services

    UserFactory(username="root", is_staff=True, is_superuser=True)
    ExplainerFactory(headline="Drafted by a model", ai_generated=True)
    explainer = ExplainerFactory(headline="Written by a reporter", whats_next="Talks on Monday.")
    services.explainer_publish(explainer=explainer, user=None)
    explainer.whats_next = "Talks on Friday."
    explainer.save()
    context, page = log_in(browser, live_server, "root", width)
    page.goto(f"{live_server.url}/admin/explainers/explainer/")
    assert page.locator(".origin-badge", has_text="AI-drafted").is_visible()
    assert page.locator(".origin-badge", has_text="Human-written").is_visible()
    screenshot(page, f"staff-explainer-list-{width}")
    page.goto(f"{live_server.url}/admin/explainers/explainer/{explainer.pk}/revisions/")
    assert page.locator(".diff-table ins", has_text="Friday.").is_visible()
    screenshot(page, f"staff-revisions-{width}")
    context.close()


@pytest.mark.parametrize("width", [1280, 320])
def test_audit_log_columns_wrap_instead_of_clipping(live_server, browser, screenshot, width):
    """The audit log's long objects and addresses wrap: no column hides behind a scroll."""
    from audit.models import AuditEvent
    from tests.browser.test_admin_fit import OVERFLOW

    UserFactory(username="root", is_staff=True, is_superuser=True)
    for n in range(3):
        AuditEvent.objects.create(
            actor_name="a.very.long.username.from.the.newsroom.directory@example.com",
            action=AuditEvent.Action.values[n],
            object_type="explainers.explainer",
            object_id=str(n),
            object_repr="Leaders meet in Geneva to discuss what comes after the talks " * 3,
            ip_address="2001:db8:85a3:1234:5678:8a2e:370:7334",
        )
    context, page = log_in(browser, live_server, "root", width)
    page.goto(f"{live_server.url}/admin/audit/auditevent/")
    overflow = page.evaluate(OVERFLOW)
    screenshot(page, f"staff-audit-log-{width}")
    context.close()
    assert overflow == []
