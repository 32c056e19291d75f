import re

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Fieldset, Layout
from crispy_forms.utils import render_crispy_form
from django import forms
from django.core.exceptions import ValidationError

from newsroom.crispy import SubmitButton


class SearchForm(forms.Form):
    """A form of the kind the site will add: a search box, a topic select, a checkbox."""

    q = forms.CharField(label="Search for", max_length=100, help_text="Words from the text.")
    topic = forms.ChoiceField(label="Topic", choices=[("", "All"), ("economy", "Economy")])
    author = forms.CharField(label="Author", required=False)
    archived = forms.BooleanField(label="Include archived", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_action = "/search/"
        self.helper.layout = Layout(
            Div("q", css_class="search-box"), Fieldset("Narrow", "topic", "author"), "archived"
        )
        self.helper.add_input(SubmitButton("Search", name="go"))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("q") == "everything":
            raise ValidationError("Be more specific.", code="too_broad")
        return cleaned


def test_pack_draws_labels_hints_and_buttons_in_the_sites_markup():
    """Fields get a label, the hint after the input, and the site's button."""
    html = render_crispy_form(SearchForm())
    assert '<form method="get" action="/search/">' in html
    assert '<label for="id_q">Search for</label>' in html
    assert '<p class="hint" id="id_q_helptext">Words from the text.</p>' in html
    assert '<div class="search-box">' in html and "<legend>Narrow</legend>" in html
    assert (
        '<button type="submit" class="button" name="go" value="Search" id="submit-id-go">'
        "Search</button>" in html
    )


def test_pack_marks_optional_fields_only():
    """Fields that may be left empty say "(optional)", but a lone checkbox sits in its label."""
    html = render_crispy_form(SearchForm())
    assert '<label for="id_author">Author <span class="optional">(optional)</span>' in html
    assert html.count('<span class="optional">(optional)</span>') == 1
    checkbox = r'<label class="choice"><input type="checkbox" [^>]*> Include archived</label>'
    assert re.search(checkbox, html)


def test_get_form_has_no_csrf_token_and_post_form_has_one():
    """A GET form carries no token; a POST form does unless the helper turns it off."""
    assert "csrfmiddlewaretoken" not in render_crispy_form(SearchForm())
    form = SearchForm()
    form.helper.form_method = "post"
    html = render_crispy_form(form, context={"csrf_token": "t0ken"})
    assert 'name="csrfmiddlewaretoken" value="t0ken"' in html


def test_summary_lists_form_errors_then_field_errors_with_links():
    """The summary names a whole-form error as text and each field error as a link."""
    html = render_crispy_form(SearchForm({"q": "everything", "topic": "nowhere"}))
    summary = html[html.index('<div class="error-summary"') : html.index("</ul>")]
    assert "<li>Be more specific.</li>" in summary
    assert '<li><a href="#id_topic">Select a valid choice.' in summary
    assert "Search for" not in summary


def test_summary_is_left_out_when_the_page_shows_it():
    """With form_show_errors off the form has no summary; field errors stay by the fields."""
    form = SearchForm({"q": "", "topic": ""})
    form.helper.form_show_errors = False
    html = render_crispy_form(form)
    assert "error-summary" not in html
    assert '<p class="error-message" id="id_q_error">' in html


def test_form_without_layout_draws_every_field():
    """Without a layout every field is drawn, in order."""
    form = SearchForm()
    form.helper.layout = None
    html = render_crispy_form(form)
    assert html.index('name="q"') < html.index('name="topic"') < html.index('name="archived"')
