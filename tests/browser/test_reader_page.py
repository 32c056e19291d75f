import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from explainers import services
from explainers.models import Explainer
from tests.browser.test_lead_image import serve_uploads
from tests.explainers import image_files as files
from tests.factories import ExplainerFactory, TopicFactory, editor

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


# Each word of the page's text, as a range: a word broken across lines has a rectangle on
# each. Words are what lies between spaces and hyphens (where a line may break); a word
# longer than the column (an address in the sources, say) may still break.
BROKEN_WORDS = """() => {
  const broken = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const style = getComputedStyle(node.parentElement);
    if (style.display === "none" || style.visibility === "hidden") continue;
    if (node.parentElement.closest(".visually-hidden, .skip-link, script, style")) continue;
    for (const match of node.data.matchAll(/[^\\s\\-\\u2010-\\u2014\\/]+/g)) {
      if (match[0].length > 20) continue;
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
      if (lines.size > 1) broken.push(match[0]);
    }
  }
  return broken;
}"""


@pytest.fixture
def every_kind_of_page(seed_explainer):
    """Addresses of every public page, with what makes each look its busiest: a topic, an AI
    label with its sign-off, a correction, a picture, search results."""
    topic = TopicFactory(name="International diplomacy", slug="diplomacy")
    other = ExplainerFactory(
        headline="Envoys agree to resume negotiations on security guarantees",
        ai_generated=True,
        topic=topic,
        image=files.photo_upload((1600, 900)),
        image_alt="Envoys at a table",
        image_ai_generated=True,
    )
    reviewer = editor()
    services.explainer_sign_off(explainer=other, user=reviewer)
    services.explainer_publish(explainer=other, user=reviewer)
    services.notice_add(
        explainer=other, user=reviewer, kind="correction", text="An earlier version misnamed."
    )
    return {
        "home": reverse("explainers:list"),
        "explainer": other.get_absolute_url(),
        "seed explainer": seed_explainer.get_absolute_url(),
        "topics": reverse("explainers:topics"),
        "topic": reverse("explainers:topic", args=[topic.slug]),
        "corrections": reverse("explainers:corrections"),
        "search": reverse("explainers:search"),
        "search results": reverse("explainers:search") + "?q=security",
        "no results": reverse("explainers:search") + "?q=volcano",
        "404": "/no-such-page/",
    }


def test_no_page_breaks_a_word_or_scrolls_sideways_at_320px(
    live_server, browser, screenshot, every_kind_of_page
):
    """At 320 px no word of any public page (the nav, labels, buttons) breaks across lines,
    and nothing scrolls sideways."""
    context = browser.new_context(viewport={"width": 320, "height": 640})
    serve_uploads(context)
    page = context.new_page()
    for name, path in every_kind_of_page.items():
        page.goto(live_server.url + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, name
        assert page.evaluate(BROKEN_WORDS) == [], name
        labels = ".site-nav a, .ai-badge, .card-flag, .topic, .image-ai-label, .button"
        for item in page.locator(labels).all():
            height, line = item.evaluate(
                "el => [el.getBoundingClientRect().height,"
                " parseFloat(getComputedStyle(el).lineHeight)]"
            )
            assert height < 2 * line, (name, item.inner_text())
        screenshot(page, f"320px-{name.replace(' ', '-')}")
    context.close()
