"""The Jinja2 engine of the explainer page: the same HTML and dates as Django's."""

from datetime import UTC, datetime
from html import unescape

import pytest
from django.template import TemplateDoesNotExist, engines
from django.template.defaultfilters import date as django_date
from django.test.signals import template_rendered
from django.utils import timezone
from django.utils.safestring import mark_safe


def test_what_is_already_safe_is_left_alone():
    """A fragment marked safe by Django (a card, the widget) is written as it is."""
    rendered = (
        engines["jinja2"]
        .from_string("{{ safe }}|{{ plain }}")
        .render({"safe": mark_safe("<b>'</b>"), "plain": "<b>'</b>"})
    )
    assert unescape(rendered) == "<b>'</b>|<b>'</b>"
    assert rendered.startswith("<b>'</b>|&lt;b&gt;")


@pytest.mark.parametrize("format_string", ["c", "j F Y, H:i T", "j F Y"])
def test_dates_read_as_in_djangos_templates_in_the_current_time_zone(settings, format_string):
    """The date filter shows what Django's does, in whichever time zone is active."""
    moment = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    for zone in ("UTC", "Europe/London", "Asia/Tokyo"):
        with timezone.override(zone):
            shown = (
                engines["jinja2"]
                .from_string("{{ d|date(f) }}")
                .render({"d": moment, "f": format_string})
            )
            expected = django_date(timezone.template_localtime(moment), format_string)
            assert shown == expected
    assert engines["jinja2"].from_string("{{ d|date('c') }}").render({"d": None}) == ""


def test_base_html_serves_both_engines_alike(rf):
    """base.html, with its fixed parts, renders to the same page from either engine."""
    request = rf.get("/")
    pages = [
        engines[name].from_string('{% extends "base.html" %}').render({}, request)
        for name in ("django", "jinja2")
    ]
    assert pages[0] == pages[1]
    assert 'class="skip-link"' in pages[0] and "<footer" in pages[0]


def test_a_jinja2_render_is_announced_with_its_context(rf):
    """Tests see a Jinja2 page's name and context, as they see Django's."""
    seen = []

    def listener(sender, template, context, **kwargs):
        seen.append((template.name, context["value"]))

    template_rendered.connect(listener)
    try:
        engines["jinja2"].get_template("includes/sources.html").render({"value": 7})
    finally:
        template_rendered.disconnect(listener)
    assert seen == [("includes/sources.html", 7)]


def test_djangos_engine_cannot_render_a_jinja2_template():
    """The explainer page's templates are found by Jinja2 alone, never parsed as Django's."""
    with pytest.raises(TemplateDoesNotExist):
        engines["django"].get_template("explainers/explainer_detail.html")


@pytest.mark.django_db
def test_links_and_dates_follow_the_request_each_render_is_for():
    """Cards, fixed parts and dates read the script prefix and zone of their own render."""
    from django.urls import set_script_prefix

    from explainers.selectors import Card
    from tests.factories import ExplainerFactory

    shown = Card.of(ExplainerFactory(published=True, slug="talks"))
    template = engines["jinja2"].from_string(
        '{{ card(c) }}{% fixed "includes/site_header.html" %}{{ c.published_at|date("H:i T") }}'
    )
    try:
        set_script_prefix("/news/")
        with timezone.override("Asia/Tokyo"):
            prefixed = template.render({"c": shown})
        set_script_prefix("/")
        plain = template.render({"c": shown})
    finally:
        set_script_prefix("/")
    assert 'href="/news/explainers/talks/"' in prefixed
    assert 'href="/news/"' in prefixed
    assert "JST" in prefixed
    assert "/news/" not in plain and "UTC" in plain


def test_fixed_fragments_name_their_place_alike_in_both_engines():
    """``{% fixed … section="topics" current="true" %}`` renders the same header in both engines."""
    code = '{% fixed "includes/site_header.html" section="topics" current="true" %}'
    django_html = engines["django"].from_string(code).render({})
    jinja_html = engines["jinja2"].from_string(code).render({})
    assert django_html == jinja_html
    assert '<a href="/topics/" aria-current="true">Topics</a>' in jinja_html
    assert django_html.count("aria-current") == 1
