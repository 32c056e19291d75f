import re

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from feedback.forms import FollowUpForm, VoteForm
from feedback.models import Rating
from tests.factories import ExplainerFactory

pytestmark = pytest.mark.django_db

TOO_LONG = "x" * 601


@pytest.fixture
def explainer():
    return ExplainerFactory(published=True, slug="talks")


def vote_url(explainer):
    return reverse("feedback:vote", args=[explainer.slug])


def template_names(response) -> set[str]:
    return {template.name for template in response.templates}


def test_follow_up_renders_through_crispy_and_the_govuk_pack(client, explainer):
    """The page's follow-up forms are crispy forms drawn by the site's govuk template pack."""
    response = client.get(explainer.get_absolute_url())
    assert {"govuk/whole_uni_form.html", "govuk/field.html"} <= template_names(response)
    html = response.text
    assert html.count('class="feedback-followup" data-feedback-form>') == 2
    assert '<label for="feedback-comment-no">Tell us more <span class="optional">' in html
    assert '<button type="submit" class="button">Send</button>' in html


def test_follow_up_after_a_vote_without_javascript_is_a_crispy_form(client, explainer):
    """The thank-you page's follow-up for a "no" is the crispy form, its reasons as radios."""
    response = client.get(explainer.get_absolute_url(), {"voted": "no"})
    assert "govuk/whole_uni_form.html" in template_names(response)
    html = response.text
    assert '<input type="hidden" name="useful" value="no"' in html
    assert '<legend>What was wrong? <span class="optional">(optional)</span></legend>' in html
    assert 'aria-describedby="feedback-comment-no_helptext"' in html
    assert "error-summary" not in html


def test_invalid_follow_up_shows_the_error_summary(client, explainer):
    """A bad follow-up without JavaScript answers 400 with the error summary at the top."""
    response = client.post(vote_url(explainer), {"useful": "no", "comment": TOO_LONG})
    assert response.status_code == 400
    html = response.text
    summary = re.search(r'<div class="error-summary" tabindex="-1">\s*<div role="alert">', html)
    assert summary and summary.start() < html.index("<h1")
    assert "There is a problem" in html
    assert (
        '<a href="#feedback-comment-no">The comment is too long: at most 600 characters '
        "(it has 601).</a>" in html
    )
    assert html.count('class="error-summary"') == 1
    assert not Rating.objects.exists()


def test_invalid_follow_up_marks_the_field(client, explainer):
    """The field says what is wrong after a hidden "Error:", named by its aria-describedby."""
    html = client.post(vote_url(explainer), {"useful": "no", "comment": TOO_LONG}).text
    assert '<div class="form-group form-group-error">' in html
    assert (
        '<p class="error-message" id="feedback-comment-no_error">'
        '<span class="visually-hidden">Error:</span> The comment is too long' in html
    )
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="feedback-comment-no_helptext feedback-comment-no_error"' in html


def test_invalid_follow_up_keeps_what_the_reader_sent(client, explainer):
    """The form comes back with the reader's reason chosen and comment filled in, to fix."""
    html = client.post(
        vote_url(explainer), {"useful": "no", "reason": "out-of-date", "comment": TOO_LONG}
    ).text
    assert 'value="out-of-date" id="feedback-reason-no_2" checked>' in html
    assert f">\n{TOO_LONG}</textarea>" in html
    assert f'<form method="post" action="{vote_url(explainer)}"' in html


def test_unknown_reason_links_to_the_first_option(client, explainer):
    """An error on the reasons links to the first radio, and their fieldset names it."""
    html = client.post(vote_url(explainer), {"useful": "no", "reason": "boring"}).text
    assert '<a href="#feedback-reason-no_0">Unknown reason boring' in html
    assert '<fieldset aria-describedby="feedback-reason-no_error">' in html


def test_fixed_follow_up_is_recorded(client, explainer):
    """Sending the corrected form records the vote and returns to the page's thanks."""
    client.post(vote_url(explainer), {"useful": "no", "comment": TOO_LONG})
    response = client.post(vote_url(explainer), {"useful": "no", "comment": "Too old."})
    assert response.status_code == 303
    assert response["Location"].endswith("?voted=no&sent=1#feedback")
    assert Rating.objects.get().comment == "Too old."


def test_unreadable_vote_gets_the_plain_message(client, explainer):
    """Without a readable yes or no there is no follow-up to show: the message page stays."""
    response = client.post(vote_url(explainer), {"useful": "maybe", "comment": "Hm"})
    assert response.status_code == 400
    assert "Unknown vote maybe" in response.text
    assert "error-summary" not in response.text and "<form" not in response.text


def test_script_still_gets_json_for_a_bad_follow_up(client, explainer):
    """With JavaScript a bad follow-up is a JSON error the script announces, not a page."""
    response = client.post(
        vote_url(explainer),
        {"useful": "no", "comment": TOO_LONG},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400
    assert "The comment is too long" in response.json()["error"]


@pytest.mark.parametrize(
    "data",
    [
        {"useful": "no", "reason": "boring"},
        {"useful": "yes", "reason": "too-long"},
        {"useful": "no", "comment": TOO_LONG},
        {"useful": "no", "comment": "nul\x00byte"},
        {"useful": "no", "reason": "other", "comment": "Fine."},
    ],
)
def test_follow_up_form_checks_what_the_vote_form_checks(data):
    """The follow-up form accepts and refuses exactly what the vote endpoint does."""
    followup = FollowUpForm(data, vote=data["useful"], action="/")
    vote = VoteForm(data)
    assert followup.is_valid() == vote.is_valid()
    assert followup.errors == vote.errors


@hypothesis_settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=st.fixed_dictionaries(
        {"useful": st.sampled_from(["yes", "no"])},
        optional={
            "reason": st.text(max_size=40) | st.sampled_from(["other", "too-long"]),
            "comment": st.text(max_size=700),
        },
    )
)
def test_any_follow_up_without_javascript_is_answered_below_500(client, explainer, settings, data):
    """Whatever a follow-up form posts without JavaScript, the answer is below 500."""
    settings.FEEDBACK_RATE_LIMIT = "100000/s"
    assert client.post(vote_url(explainer), data).status_code < 500
