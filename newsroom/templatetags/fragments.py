"""Parts of every page that depend on the site alone: ``{% fixed "…" %}``.

The site's header, footer and the links in every page's head name the same addresses and files
on every page; reversing URLs and looking up hashed static names for each page was a tenth of
rendering one. ``{% fixed %}`` renders such a template once per process (and script prefix),
with the site's name as its only context: nothing of the page or the request may reach it.
A page may name its place in the site in words written in the template (``{% fixed
"includes/site_header.html" section="topics" %}``, the header then marks its section): a few
fixed values, each rendered once too.

A builtin of the project's Django templates (no ``{% load %}``), and a tag of its Jinja2
templates too (``newsroom.jinja2``), so that ``base.html``, which uses nothing else, serves both.
"""

import functools

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.template.loader import render_to_string
from django.urls import get_script_prefix, get_urlconf

register = template.Library()


@register.simple_tag
def fixed(template_name: str, **place: str) -> str:
    return fixed_html(template_name, get_script_prefix(), get_urlconf(), **place)


@functools.lru_cache(maxsize=32)
def fixed_html(template_name: str, script_prefix: str, urlconf, **place: str) -> str:
    return render_to_string(template_name, {"site_name": settings.SITE_NAME, **place})


def settings_changed(**kwargs):
    fixed_html.cache_clear()


setting_changed.connect(settings_changed)
