"""Every admin page of the project fits a 1280 px laptop and a 320 px phone, accessibly."""

import pytest

from explainers import services
from explainers.models import Notice
from tests.factories import ExplainerFactory, SourceFactory, TopicFactory, UserFactory, editor
from tests.feedback.rating_factories import rate

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct horse battery staple"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# Django's own widget internals, which the project's templates do not write.
DJANGO_WIDGETS = [[".selector .selector-filter"]]

# Scroll containers whose content is wider than they are, and a page wider than the window.
OVERFLOW = """() => {
  const found = [];
  const page = document.documentElement;
  if (page.scrollWidth > page.clientWidth + 1) found.push(`page ${page.scrollWidth}px`);
  for (const el of document.querySelectorAll('body *')) {
    const overflow = getComputedStyle(el).overflowX;
    if ((overflow === 'auto' || overflow === 'scroll') && el.scrollWidth > el.clientWidth + 1) {
      const name = `${el.tagName.toLowerCase()}.${[...el.classList].join('.')}`;
      found.push(`${name} ${el.scrollWidth}>${el.clientWidth}`);
    }
  }
  return found;
}"""


@pytest.fixture
def newsroom(db):
    """A newsroom at work: live, pending, AI and rated explainers, a correction."""
    boss = editor("boss")
    topic = TopicFactory(name="Diplomacy")
    for n in range(12):
        explainer = ExplainerFactory(
            headline=f"Leaders meet in Geneva to discuss what comes after the talks, part {n}",
            topic=topic,
            ai_generated=n % 3 == 0,
        )
        SourceFactory(explainer=explainer)
        if n % 2:
            if explainer.ai_generated:
                services.explainer_sign_off(explainer=explainer, user=boss)
            services.explainer_publish(explainer=explainer, user=boss)
            rate(explainer, useful=12, not_useful=5, reason="missing-context")
    services.notice_add(explainer=explainer, user=boss, kind=Notice.Kind.CORRECTION, text="Fixed.")
    services.explainer_submit(explainer=ExplainerFactory(), user=None)
    return explainer


def pages(explainer) -> list[str]:
    change = f"/admin/explainers/explainer/{explainer.pk}"
    return [
        "/admin/",
        "/admin/explainers/explainer/",
        f"{change}/change/",
        f"{change}/revisions/",
        f"{change}/notices/",
        f"{change}/preview-links/",
        "/admin/explainers/explainer/import/",
        "/admin/explainers/explainer/notifications/",
        "/admin/explainers/topic/",
        "/admin/explainers/notice/",
        "/admin/feedback/rating/",
        "/admin/feedback/rating/report/",
        "/admin/feedback/rating/export/",
    ]


@pytest.mark.parametrize("width", [1280, 320])
def test_admin_pages_fit_and_pass_axe(live_server, browser, screenshot, newsroom, width):
    """No page scrolls sideways or hides a column behind a scroll; axe finds nothing."""
    from axe_playwright_python.sync_playwright import Axe

    UserFactory(username="root", is_staff=True, is_superuser=True)
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "root")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    axe = Axe()
    problems = {}
    for path in pages(newsroom):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        overflow = page.evaluate(OVERFLOW)
        result = axe.run(
            page,
            context={"exclude": DJANGO_WIDGETS},
            options={"runOnly": {"type": "tag", "values": WCAG_22_AA}},
        )
        violations = [
            f"{v['id']}: {[n['target'] for n in v['nodes']][:3]}"
            for v in result.response["violations"]
        ]
        if overflow or violations:
            problems[path] = overflow + violations
        if path == "/admin/":
            screenshot(page, f"admin-dashboard-{width}")
    context.close()
    assert problems == {}
