"""Round 8 attacks on the Jinja2 engine: its cached date filter, its escaping and context, and
the error pages that share base.html with it."""

from datetime import UTC, date, datetime, timedelta
from datetime import timezone as fixed_zone
from zoneinfo import ZoneInfo

import pytest
from django.template import engines
from django.template.loader import render_to_string
from django.test import override_settings
from django.utils import timezone

from explainers import page_cache
from newsroom import jinja2 as newsroom_jinja2

LONDON = ZoneInfo("Europe/London")
SITE_HEADER = 'class="site-header"'
SITE_FOOTER = "<footer"


@pytest.fixture(autouse=True)
def fresh_date_cache():
    newsroom_jinja2._date.cache_clear()
    yield
    newsroom_jinja2._date.cache_clear()


def jinja_date(value, format_string: str) -> str:
    return engines["jinja2"].from_string("{{ v|date(f) }}").render({"v": value, "f": format_string})


def dtl_date(value, format_string: str) -> str:
    return engines["django"].from_string("{{ v|date:f }}").render({"v": value, "f": format_string})


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


def test_the_same_instant_in_any_zone_reads_the_same():
    """A UTC and a Tokyo datetime of one instant share a cache entry and that is right."""
    moment = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    in_tokyo = moment.astimezone(ZoneInfo("Asia/Tokyo"))
    with timezone.override(LONDON):
        assert jinja_date(moment, "j F Y, H:i T") == dtl_date(moment, "j F Y, H:i T")
        assert jinja_date(in_tokyo, "j F Y, H:i T") == dtl_date(in_tokyo, "j F Y, H:i T")


def test_a_date_and_a_midnight_datetime_are_not_confused():
    """date(2026, 1, 5) and 2026-01-05 00:00 UTC are two cache entries."""
    day = date(2026, 1, 5)
    midnight = datetime(2026, 1, 5, tzinfo=UTC)
    with timezone.override("America/New_York"):
        assert jinja_date(day, "c") == dtl_date(day, "c")
        assert jinja_date(midnight, "c") == dtl_date(midnight, "c")
        assert jinja_date(midnight, "c") != jinja_date(day, "c")


def test_zones_switched_back_and_forth_never_serve_another_zones_string():
    """Each active zone gets its own string, however the cache was filled before."""
    moment = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    zones = ["UTC", "Europe/London", "Asia/Tokyo", "America/New_York", "Europe/London", "UTC"]
    for zone in zones:
        with timezone.override(zone):
            assert jinja_date(moment, "j F Y, H:i T") == dtl_date(moment, "j F Y, H:i T")


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


def test_a_settings_change_is_not_answered_from_the_cache(settings):
    """With USE_TZ turned off, the filter writes what Django's does, not the string kept before.

    The cards', widget's and fixed parts' caches are cleared on setting_changed; this one is not.
    """
    moment = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    settings.TIME_ZONE = "Europe/London"
    jinja_date(moment, "H:i T")
    with override_settings(USE_TZ=False):
        assert jinja_date(moment, "H:i T") == dtl_date(moment, "H:i T")


@pytest.mark.parametrize("value", [[1], {"a": 1}])
def test_an_unhashable_value_is_an_empty_date_as_in_django(value):
    """Django's date filter writes nothing for a value it cannot format; no TypeError here."""
    assert dtl_date(value, "c") == ""
    assert jinja_date(value, "c") == ""


@pytest.mark.parametrize("value", [None, "", "not a date", 0, 1.5])
def test_odd_hashable_values_are_what_djangos_filter_writes(value):
    """None, text and numbers come out as Django's filter writes them."""
    assert jinja_date(value, "c") == dtl_date(value, "c")


# --- Escaping and context -------------------------------------------------------------------


def test_the_jinja2_engine_escapes_every_template_it_loads():
    """Autoescape is on for every name the engine loads, .html or not."""
    env = engines["jinja2"].env
    assert env.autoescape is True or all(
        env.autoescape(name) for name in ("x.html", "x.txt", "x.xml", None)
    )
    rendered = engines["jinja2"].from_string("{{ v }}").render({"v": "<b>\"'&"})
    assert rendered == "&lt;b&gt;&#34;&#39;&amp;"


def test_an_object_claiming_to_be_html_is_written_as_is():
    """Anything with __html__ is trusted: only Django's SafeString and MarkupSafe's Markup
    should reach the page that way (models must not define __html__)."""
    from explainers.models import Explainer, Notice, Topic

    for model in (Explainer, Notice, Topic):
        assert not hasattr(model, "__html__")


def test_the_related_list_has_no_request_context(rf):
    """Rendered without a request, includes/related.html gets no request, user or CSRF token."""
    seen = {}
    template = engines["jinja2"].from_string(
        "{{ request is defined }}|{{ csrf_token is defined }}|{{ user is defined }}"
    )
    seen["none"] = template.render({})
    seen["request"] = template.render({}, rf.get("/"))
    assert seen == {"none": "False|False|False", "request": "True|True|False"}


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


# --- Error pages ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["400.html", "403.html", "403_csrf.html", "404.html", "500.html"])
def test_an_error_page_without_a_request_keeps_the_site_header_and_footer(name):
    """render_to_string of an error page, no request, no database: header and footer stay."""
    html = render_to_string(name, {"reason": "x", "message": "<b>m</b>"})
    assert SITE_HEADER in html and SITE_FOOTER in html
    assert "<b>m</b>" not in html
    assert html == render_to_string(name, {"reason": "x", "message": "<b>m</b>"}, using="django")


@pytest.mark.parametrize("name", ["400.html", "404.html", "500.html"])
def test_the_jinja2_engine_never_serves_an_error_page(name):
    """Error pages are Django's: the Jinja2 engine's second folder (templates/) holds them too,
    but Django's engine is asked first, so they are never parsed as Jinja2."""
    from django.template.loader import get_template

    assert get_template(name).backend.name == "django"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/explainers/%ff/", "/explainers/a%00b/", "/explainers/" + "x" * 2000 + "/"]
)
def test_odd_addresses_are_the_sites_404_with_header(client, settings, path):
    """Odd bytes in an explainer address are the site's 404 page, not a 500."""
    settings.DEBUG = False
    response = client.get(path)
    assert response.status_code in (400, 404)
    assert SITE_HEADER in response.text


# --- Versions ---------------------------------------------------------------------------------


class _Unreachable:
    def get_many(self, keys):
        return {}

    def add(self, *args, **kwargs):
        return False


def test_an_unreachable_cache_gives_each_key_a_version_nothing_has(monkeypatch):
    """Without the cache, each key gets its own "0-unavailable-…" version, never shared."""
    monkeypatch.setattr(page_cache, "cache", _Unreachable())
    first = page_cache.settle_versions(["a", "b", "a"])
    second = page_cache.settle_versions(["a", "b"])
    assert set(first) == {"a", "b"}
    assert all(v.startswith("0-unavailable-") for v in (*first.values(), *second.values()))
    assert first["a"] != first["b"] and first["a"] != second["a"]
