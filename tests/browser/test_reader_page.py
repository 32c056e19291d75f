import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from explainers.models import Explainer
from tests.factories import editor

pytestmark = pytest.mark.django_db(transaction=True)

SEED = "explainers/demo/explainer-seed.txt"


@pytest.fixture
def seed_explainer():
    reviewer = editor()
    call_command(
        "import_explainers",
        "--publish",
        "--reviewed-by",
        reviewer.username,
        SEED,
        stdout=io.StringIO(),
    )
    return Explainer.objects.get()


def test_seed_explainer_shows_headings_and_label(live_server, page, screenshot, seed_explainer):
    """The seed explainer reads in order: lead-in, one headline, label, three sections, question."""
    page.goto(live_server.url + seed_explainer.get_absolute_url())
    article = page.locator("article")
    assert article.count() == 1
    assert article.locator(".lead-in").inner_text() == "What is the story about?"
    assert page.locator("h1").count() == 1
    assert article.locator("h1").inner_text() == seed_explainer.headline
    assert article.locator(".ai-label").is_visible()
    assert "AI Generated Content" in article.locator(".ai-label").inner_text()
    assert "Reviewed by an editor" in article.locator(".ai-label").inner_text()
    headings = article.locator("section.section h2").all_inner_texts()
    assert headings == ["What's Happening?", "Why It's Important?", "What's Next?"]
    assert article.locator("text=Do you find this article useful?").is_visible()
    screenshot(page, "explainer-desktop")


def test_seed_explainer_fits_a_320px_screen(live_server, browser, screenshot, seed_explainer):
    """At 320 px wide nothing scrolls sideways and the headline is visible."""
    context = browser.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    page.goto(live_server.url + seed_explainer.get_absolute_url())
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert page.locator("h1").is_visible()
    screenshot(page, "explainer-320px")
    context.close()


def test_home_page_links_to_the_explainer(live_server, page, screenshot, seed_explainer):
    """The home page lists the published seed and its link opens the explainer."""
    page.goto(live_server.url + reverse("explainers:list"))
    screenshot(page, "home")
    page.get_by_role("link", name=seed_explainer.headline).click()
    page.wait_for_url(f"**{seed_explainer.get_absolute_url()}")
    assert page.locator("h1").inner_text() == seed_explainer.headline


def test_skip_link_moves_focus_to_the_content(live_server, page, seed_explainer):
    """The first Tab reaches a visible skip link that jumps to the main content."""
    page.goto(live_server.url + seed_explainer.get_absolute_url())
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    assert skip.evaluate("el => el === document.activeElement")
    assert skip.is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
