"""Search and topic pages fit a 1280 px laptop and a 320 px phone, accessibly, without script."""

import pytest

from explainers import services
from tests.browser.test_admin_fit import OVERFLOW, WCAG_22_AA
from tests.factories import ExplainerFactory, TopicFactory, editor

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shelf(db):
    """Two dozen published explainers on two topics, with long words that must wrap."""
    boss = editor("shelf-boss")
    topics = [TopicFactory(name="Diplomacy", slug="diplomacy"), TopicFactory(name="Climate")]
    for n in range(24):
        explainer = ExplainerFactory(
            headline=f"Leaders meet in Geneva to discuss the glacier agreement, part {n}",
            whats_happening="Negotiators from twelve countries met about the glacier treaty. "
            "Internationalisation-of-responsibilities was the sticking point.",
            topic=topics[n % 2],
        )
        services.explainer_publish(explainer=explainer, user=boss)


def check(page, axe, url: str) -> list[str]:
    response = page.goto(url)
    assert response.status == 200, url
    result = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_22_AA}})
    violations = [
        f"{v['id']}: {[n['target'] for n in v['nodes']][:3]}" for v in result.response["violations"]
    ]
    return page.evaluate(OVERFLOW) + violations


@pytest.mark.parametrize("width", [1280, 320])
def test_search_and_topic_pages_fit_and_pass_axe(live_server, browser, screenshot, shelf, width):
    """Search (form, results, none found, an error) and topic pages: no overflow, no axe hit."""
    from axe_playwright_python.sync_playwright import Axe

    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    axe = Axe()
    base = live_server.url
    problems = {}
    for path in [
        "/search/",
        "/search/?q=glacier",
        "/search/?q=glacier&page=2",
        "/search/?q=glaicer",
        "/topics/",
        "/topics/diplomacy/",
    ]:
        found = check(page, axe, base + path)
        if found:
            problems[path] = found
        if path == "/search/?q=glacier":
            screenshot(page, f"search-{width}")
        if path == "/topics/diplomacy/":
            screenshot(page, f"topic-{width}")
    # A query too long: the form comes back with its error summary, still accessible.
    response = page.goto(base + "/search/?q=" + "x" * 201)
    assert response.status == 400
    result = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_22_AA}})
    assert result.response["violations"] == []
    context.close()
    assert problems == {}
    assert [e for e in errors if "400" not in e] == []


def test_search_form_works_without_javascript(live_server, browser, shelf):
    """With JavaScript off, typing words and pressing Search shows highlighted results."""
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/")
    page.click("text=Search")
    page.fill("input[name=q]", "glacier")
    page.click("button:has-text('Search')")
    page.wait_for_url("**/search/?q=glacier")
    assert page.locator("mark").first.inner_text().lower() == "glacier"
    assert page.locator(".card").count() == 20
    page.click("a[rel=next]")
    assert page.locator(".card").count() == 4
    context.close()
