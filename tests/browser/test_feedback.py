import pytest

from feedback.models import Rating
from tests.factories import ExplainerFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def explainer():
    return ExplainerFactory(published=True, ai_generated=True)


def test_vote_in_place_with_javascript(live_server, page, screenshot, explainer):
    """With JavaScript the vote and follow-up are sent in place and announced, no reload."""
    page.goto(live_server.url + explainer.get_absolute_url())
    page.evaluate("window.notReloaded = true")
    page.get_by_role("button", name="No").click()
    status = page.locator(".feedback-status")
    status.filter(has_text="Thank you for your feedback.").wait_for()
    assert status.get_attribute("role") == "status"
    page.get_by_label("It is out of date").check()
    page.get_by_label("Tell us more").fill("The meeting already happened.")
    screenshot(page, "feedback-js-follow-up")
    page.get_by_role("button", name="Send").click()
    status.filter(has_text="Thanks for telling us more.").wait_for()
    assert page.evaluate("window.notReloaded") is True
    rating = Rating.objects.get()
    assert (rating.useful, rating.reason) == (False, "out-of-date")
    assert rating.comment == "The meeting already happened."


def test_vote_no_without_javascript(live_server, browser, screenshot, explainer):
    """Without JavaScript a No, its reason and comment post, redirect back and show thanks."""
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + explainer.get_absolute_url())
    page.get_by_role("button", name="No").click()
    page.wait_for_url("**?voted=no#feedback")
    assert page.get_by_text("Thank you for your feedback.").is_visible()
    page.get_by_label("It is out of date").check()
    page.get_by_label("Tell us more").fill("The meeting already happened.")
    screenshot(page, "feedback-nojs-follow-up")
    page.get_by_role("button", name="Send").click()
    page.wait_for_url("**?voted=no&sent=1#feedback")
    assert page.get_by_text("Thanks for telling us more.").is_visible()
    rating = Rating.objects.get()
    assert (rating.useful, rating.reason) == (False, "out-of-date")
    assert rating.comment == "The meeting already happened."
    context.close()


def test_vote_yes_without_javascript(live_server, browser, explainer):
    """Without JavaScript a Yes gets its own follow-up, a comment on what was useful."""
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + explainer.get_absolute_url())
    page.get_by_role("button", name="Yes").click()
    page.wait_for_url("**?voted=yes#feedback")
    assert page.get_by_text("Thank you for your feedback.").is_visible()
    page.get_by_label("What did you find useful?").fill("Clear and short.")
    page.get_by_role("button", name="Send").click()
    page.wait_for_url("**?voted=yes&sent=1#feedback")
    assert page.get_by_text("Thanks for telling us more.").is_visible()
    rating = Rating.objects.get()
    assert rating.useful is True and rating.comment == "Clear and short."
    context.close()
