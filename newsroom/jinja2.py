"""Jinja2 for the explainer page and its related list, what a change makes the site render anew.

Django's template language spent about 0.4 ms on that page, the largest single part of
rendering it anew (docs/performance.md); Jinja2 compiles a template to Python and renders the same
page in about a third of that. The other pages, the admin and every form (crispy-forms) stay
with Django's templates. ``base.html`` serves both engines: it uses blocks, variables and
``{% fixed %}``, which each engine knows (``FixedExtension`` here, a builtin tag there).

Jinja2 templates live in ``templates/jinja2/``, which only this engine reads, and name their
helpers as functions: ``url()``, ``feedback_widget()``, ``feedback_script()``,
``card()``, and a ``date`` filter with Django's formats.
"""

import functools
from dataclasses import dataclass
from datetime import datetime, tzinfo

import jinja2
from django.core.signals import setting_changed
from django.template.backends import jinja2 as django_jinja2
from django.template.defaultfilters import date as django_date
from django.test.signals import template_rendered
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from jinja2 import nodes
from jinja2.ext import Extension

from explainers.templatetags.cards import card
from feedback.templatetags.feedback import feedback_script, widget_for
from newsroom.templatetags.fragments import fixed_html


class FixedExtension(Extension):
    """``{% fixed "includes/site_header.html" section="topics" %}``, as in Django's templates:
    a name, then words for the fragment as ``key="value"``."""

    tags = {"fixed"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        name = parser.parse_expression()
        place = []
        while parser.stream.current.type != "block_end":
            key = parser.stream.expect("name")
            parser.stream.expect("assign")
            place.append(nodes.Keyword(key.value, parser.parse_expression(), lineno=key.lineno))
        call = self.call_method("_fixed", [name, nodes.ContextReference()], place)
        return nodes.Output([call]).set_lineno(lineno)

    def _fixed(self, template_name: str, context, **place):
        where = request_state(context)
        return fixed_html(template_name, where.script_prefix, where.urlconf, **place)


@dataclass(frozen=True, slots=True)
class RequestState:
    """What helpers read of the request being served, read once per render: the time zone,
    the script prefix and the URLconf live in context-local storage, and reading them for
    each date, card and fixed fragment was a tenth of rendering a page."""

    zone: tzinfo
    script_prefix: str
    urlconf: object

    @classmethod
    def now(cls) -> "RequestState":
        return cls(timezone.get_current_timezone(), get_script_prefix(), get_urlconf())


STATE = "_newsroom_request_state"


def request_state(context) -> RequestState:
    """The render's ``RequestState`` (``Template.render`` puts it in), or the request's now."""
    return context.get(STATE) or RequestState.now()


@jinja2.pass_context
def date(context, value, format_string: str) -> str:
    """Django's ``date`` filter, in the current time zone as Django's templates show dates."""
    if value in (None, ""):
        return ""
    # The offset as well as the moment: the two 01:30s of the night clocks go back are equal
    # datetimes with different offsets. The zone itself, not its name, which two fixed offsets
    # may share.
    offset = value.utcoffset() if isinstance(value, datetime) else None
    try:
        return _date(value, offset, format_string, request_state(context).zone)
    except TypeError:  # unhashable: Django's filter decides what it shows
        return _date.__wrapped__(value, offset, format_string, None)


@functools.lru_cache(maxsize=1024)
def _date(value, offset, format_string: str, zone) -> str:
    # The same few dates (a page's publication, its notices) are shown on every render.
    return django_date(timezone.template_localtime(value), format_string)


def settings_changed(**kwargs):
    _date.cache_clear()


setting_changed.connect(settings_changed)


def url(name: str, *args, **kwargs) -> str:
    return reverse(name, args=args or None, kwargs=kwargs or None)


@jinja2.pass_context
def widget(context, explainer, slug=None) -> str:
    """``feedback_widget(explainer, slug=…)``: the page's ``voted`` and ``sent`` as in Django's."""
    return widget_for(context, explainer, slug, request_state(context).script_prefix)


@jinja2.pass_context
def jinja_card(context, shown, heading_level=2, excerpt=None) -> str:
    """``card(shown, heading_level=…)``: ``cards.card`` with the render's request state."""
    where = request_state(context)
    return card(shown, heading_level, excerpt, where=(where.script_prefix, where.zone))


def environment(**options) -> jinja2.Environment:
    env = jinja2.Environment(extensions=[FixedExtension], **options)
    env.globals.update(
        url=url,
        feedback_widget=widget,
        feedback_script=feedback_script,
        card=jinja_card,
    )
    env.filters["date"] = date
    return env


class Template(django_jinja2.Template):
    """Announces each render as Django's own templates do under test (``template_rendered``),
    so that the test client's ``response.context`` and ``assertTemplateUsed`` see it too."""

    @property
    def name(self) -> str:
        return self.template.name

    def render(self, context=None, request=None):
        context = {} if context is None else context
        context[STATE] = RequestState.now()
        html = super().render(context, request)
        template_rendered.send(sender=self, template=self, context=context)
        return html


class Jinja2(django_jinja2.Jinja2):
    def get_template(self, template_name):
        return Template(super().get_template(template_name).template, self)

    def from_string(self, template_code):
        return Template(super().from_string(template_code).template, self)
