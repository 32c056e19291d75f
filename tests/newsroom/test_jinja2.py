"""The Jinja2 engine of the explainer page: the same HTML and dates as Django's."""

from datetime import UTC, date, datetime, timedelta
from datetime import timezone as fixed_zone
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.template import TemplateDoesNotExist, engines
from django.template.defaultfilters import date as django_date
from django.test import override_settings
from django.test.signals import template_rendered
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from newsroom import jinja2 as newsroom_jinja2
from newsroom.jinja2 import STATE, RequestState
from tests.factories import ExplainerFactory, editor

LONDON = ZoneInfo("Europe/London")


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


@pytest.mark.django_db
def test_the_request_state_key_cannot_be_spoofed_by_a_context(settings):
    """A context naming _newsroom_request_state does not choose the zone or prefix."""
    settings.TIME_ZONE = "UTC"
    when = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    template = engines["jinja2"].from_string(
        '{{ when|date("H:i T") }}|{{ url("explainers:list") }}'
    )
    fake = RequestState(ZoneInfo("Asia/Tokyo"), "/evil/", "no.such.urlconf")
    html = template.render({"when": when, STATE: fake})
    assert html == template.render({"when": when})
    assert "JST" not in html and "/evil/" not in html


@pytest.mark.django_db
def test_the_admin_preview_shows_dates_in_the_sites_zone(client, settings):
    """The preview renders the same Jinja2 template: dates in the site's zone, its banner."""
    settings.TIME_ZONE = "Asia/Tokyo"
    explainer = ExplainerFactory(
        published=True, published_at=datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    )
    explainer.headline = "Preview of the working headline"
    explainer.save()
    client.force_login(editor("preview-editor"))
    url = reverse("admin:explainers_explainer_preview", args=[explainer.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert "Preview: not published." in response.text
    assert "Preview of the working headline" in response.text
    assert "1 June 2026, 21:00 JST" in response.text
    client.logout()
    client.cookies.clear()
    public = client.get(explainer.get_absolute_url()).text
    assert "1 June 2026, 21:00 JST" in public
    assert "Preview of the working headline" not in public


@pytest.fixture
def fresh_date_cache():
    """The date filter's cache emptied before and after the test."""
    newsroom_jinja2._date.cache_clear()
    yield
    newsroom_jinja2._date.cache_clear()


def jinja_date(value, format_string: str) -> str:
    return engines["jinja2"].from_string("{{ v|date(f) }}").render({"v": value, "f": format_string})


def dtl_date(value, format_string: str) -> str:
    return engines["django"].from_string("{{ v|date:f }}").render({"v": value, "f": format_string})


@pytest.mark.usefixtures("fresh_date_cache")
def test_the_two_0130s_of_one_local_night_are_two_dates():
    """01:30 BST and 01:30 GMT (same wall time, fold 0 and 1) are not one cached string.

    Python compares and hashes datetimes of one tzinfo by wall time, ignoring fold: the lru
    cache hands the second the first's string, where Django's filter gives each its own.
    """
    first = datetime(2026, 10, 25, 1, 30, tzinfo=LONDON)
    second = first.replace(fold=1)
    # Why the cache confuses them: one key for two instants.
    assert first == second and hash(first) == hash(second)
    assert first.utcoffset() != second.utcoffset()
    with timezone.override(LONDON):
        expected = [dtl_date(first, "c"), dtl_date(second, "c")]
        assert expected[0] != expected[1]
        assert [jinja_date(first, "c"), jinja_date(second, "c")] == expected


@pytest.mark.usefixtures("fresh_date_cache")
def test_the_same_instant_in_any_zone_reads_the_same():
    """A UTC and a Tokyo datetime of one instant share a cache entry and that is right."""
    moment = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    in_tokyo = moment.astimezone(ZoneInfo("Asia/Tokyo"))
    with timezone.override(LONDON):
        assert jinja_date(moment, "j F Y, H:i T") == dtl_date(moment, "j F Y, H:i T")
        assert jinja_date(in_tokyo, "j F Y, H:i T") == dtl_date(in_tokyo, "j F Y, H:i T")


@pytest.mark.usefixtures("fresh_date_cache")
def test_a_date_and_a_midnight_datetime_are_not_confused():
    """date(2026, 1, 5) and 2026-01-05 00:00 UTC are two cache entries."""
    day = date(2026, 1, 5)
    midnight = datetime(2026, 1, 5, tzinfo=UTC)
    with timezone.override("America/New_York"):
        assert jinja_date(day, "c") == dtl_date(day, "c")
        assert jinja_date(midnight, "c") == dtl_date(midnight, "c")
        assert jinja_date(midnight, "c") != jinja_date(day, "c")


@pytest.mark.usefixtures("fresh_date_cache")
def test_zones_switched_back_and_forth_never_serve_another_zones_string():
    """Each active zone gets its own string, however the cache was filled before."""
    moment = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    zones = ["UTC", "Europe/London", "Asia/Tokyo", "America/New_York", "Europe/London", "UTC"]
    for zone in zones:
        with timezone.override(zone):
            assert jinja_date(moment, "j F Y, H:i T") == dtl_date(moment, "j F Y, H:i T")


@pytest.mark.usefixtures("fresh_date_cache")
def test_two_fixed_offset_zones_of_one_name_are_told_apart():
    """Zones named alike ("CET" at +1 and +2) do not share the cached string.

    The cache is keyed by the zone's name, not the zone: a fixed-offset zone activated with a
    name another offset already used gets that offset's time.
    """
    moment = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    shown = []
    for hours in (1, 2):
        with timezone.override(fixed_zone(timedelta(hours=hours), "CET")):
            shown.append((jinja_date(moment, "H:i"), dtl_date(moment, "H:i")))
    assert shown == [("13:00", "13:00"), ("14:00", "14:00")]


@pytest.mark.usefixtures("fresh_date_cache")
def test_a_settings_change_is_not_answered_from_the_cache(settings):
    """With USE_TZ turned off, the filter writes what Django's does, not the string kept before.

    The cards', widget's and fixed parts' caches are cleared on setting_changed; this one is not.
    """
    moment = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    settings.TIME_ZONE = "Europe/London"
    jinja_date(moment, "H:i T")
    with override_settings(USE_TZ=False):
        assert jinja_date(moment, "H:i T") == dtl_date(moment, "H:i T")


@pytest.mark.usefixtures("fresh_date_cache")
@pytest.mark.parametrize("value", [[1], {"a": 1}])
def test_an_unhashable_value_is_an_empty_date_as_in_django(value):
    """Django's date filter writes nothing for a value it cannot format; no TypeError here."""
    assert dtl_date(value, "c") == ""
    assert jinja_date(value, "c") == ""


@pytest.mark.usefixtures("fresh_date_cache")
@pytest.mark.parametrize("value", [None, "", "not a date", 0, 1.5])
def test_odd_hashable_values_are_what_djangos_filter_writes(value):
    """None, text and numbers come out as Django's filter writes them."""
    assert jinja_date(value, "c") == dtl_date(value, "c")


@pytest.mark.usefixtures("fresh_date_cache")
def test_the_jinja2_engine_escapes_every_template_it_loads():
    """Autoescape is on for every name the engine loads, .html or not."""
    env = engines["jinja2"].env
    assert env.autoescape is True or all(
        env.autoescape(name) for name in ("x.html", "x.txt", "x.xml", None)
    )
    rendered = engines["jinja2"].from_string("{{ v }}").render({"v": "<b>\"'&"})
    assert rendered == "&lt;b&gt;&#34;&#39;&amp;"


@pytest.mark.usefixtures("fresh_date_cache")
def test_an_object_claiming_to_be_html_is_written_as_is():
    """Anything with __html__ is trusted: only Django's SafeString and MarkupSafe's Markup
    should reach the page that way (models must not define __html__)."""
    from explainers.models import Explainer, Notice, Topic

    for model in (Explainer, Notice, Topic):
        assert not hasattr(model, "__html__")


@pytest.mark.usefixtures("fresh_date_cache")
def test_the_related_list_has_no_request_context(rf):
    """Rendered without a request, includes/related.html gets no request, user or CSRF token."""
    seen = {}
    template = engines["jinja2"].from_string(
        "{{ request is defined }}|{{ csrf_token is defined }}|{{ user is defined }}"
    )
    seen["none"] = template.render({})
    seen["request"] = template.render({}, rf.get("/"))
    assert seen == {"none": "False|False|False", "request": "True|True|False"}


@pytest.mark.usefixtures("fresh_date_cache")
@pytest.mark.django_db
def test_a_debug_page_has_no_undefined_variables(client, settings):
    """With DEBUG on (DebugUndefined), no {{ name }} of a missing variable shows on the page."""
    from tests.factories import ExplainerFactory, SourceFactory, TopicFactory

    settings.DEBUG = True
    explainer = ExplainerFactory(published=True, topic=TopicFactory())
    SourceFactory(explainer=explainer)
    ExplainerFactory(published=True, topic=explainer.topic)
    html = client.get(explainer.get_absolute_url()).text
    assert "{{" not in html and "{%" not in html
