import pytest
from django.template import Context, Template
from django.urls import set_script_prefix

from feedback.models import Reason
from tests.factories import ExplainerFactory

pytestmark = pytest.mark.django_db


def render(source: str, **context) -> str:
    return Template("{% load feedback %}" + source).render(Context(context))


@pytest.fixture
def explainer():
    return ExplainerFactory(published=True, slug="talks")


def test_widget_votes_at_the_explainers_slug_by_default(explainer):
    """Without a slug the widget's forms post to the vote address of the explainer's slug."""
    html = render("{% feedback_widget explainer %}", explainer=explainer)
    assert html.count('action="/explainers/talks/feedback/"') == 3  # the vote and two follow-ups


def test_widget_votes_at_the_slug_it_is_given(explainer):
    """A page at another public slug passes it, and every form posts there."""
    html = render("{% feedback_widget explainer slug='old-talks' %}", explainer=explainer)
    assert html.count('action="/explainers/old-talks/feedback/"') == 3
    assert "/explainers/talks/feedback/" not in html


def test_widget_brings_its_own_reasons(explainer):
    """The "What was wrong?" choices come from the feedback app, not from the page's context."""
    html = render("{% feedback_widget explainer %}", explainer=explainer)
    for index, (value, label) in enumerate(Reason.choices):
        assert f'value="{value}" id="feedback-reason-no_{index}"> {label}</label>' in html


def test_widget_thanks_a_reader_who_just_voted(explainer):
    """With the page's voted=no the widget thanks the reader and offers the follow-up only."""
    html = render("{% feedback_widget explainer %}", explainer=explainer, voted="no")
    assert "Thank you for your feedback." in html
    assert "What was wrong?" in html
    assert 'name="useful" value="yes" class="button"' not in html


def test_widget_thanks_a_reader_who_sent_the_follow_up(explainer):
    """With sent as well, the widget thanks the reader and shows no form."""
    html = render("{% feedback_widget explainer %}", explainer=explainer, voted="no", sent=True)
    assert "Thanks for telling us more." in html
    assert "<form" not in html


def test_script_tag_loads_the_widget_script():
    """feedback_script loads js/feedback.js, deferred."""
    assert render("{% feedback_script %}") == '<script src="/static/js/feedback.js" defer></script>'


def test_reader_page_has_the_widget_and_its_script(client, explainer):
    """The explainer page shows the widget and loads its script through the tag library."""
    html = client.get(explainer.get_absolute_url()).text
    assert '<section class="feedback" id="feedback"' in html
    assert '<script src="/static/js/feedback.js" defer></script>' in html


def test_the_feedback_widget_follows_the_script_prefix():
    """The kept widget posts under the prefix it is drawn at, whatever it was drawn at first."""
    explainer = ExplainerFactory(published=True)
    widget = Template("{% load feedback %}{% feedback_widget explainer %}")
    action = f'action="/explainers/{explainer.slug}/feedback/"'
    assert action in widget.render(Context({"explainer": explainer}))
    set_script_prefix("/news/")
    try:
        prefixed = widget.render(Context({"explainer": explainer}))
    finally:
        set_script_prefix("/")
    assert action.replace('"/', '"/news/', 1) in prefixed
