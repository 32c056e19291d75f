"""Explainer cards in lists: ``{% load cards %}{% explainer_card explainer %}``.

A card shows a few fields of the revision readers get now. Its HTML depends on those fields
alone, so it is kept per process under them: the same card on the home page, a topic page and
the related lists of other explainers is rendered once, and a changed field is a new entry
(nothing to invalidate). Search results, each with an excerpt of its own, are not kept.
"""

import functools
from datetime import datetime, tzinfo

from django import template
from django.core.signals import setting_changed
from django.template.loader import render_to_string
from django.urls import get_script_prefix
from django.utils import timezone

from .. import text
from ..selectors import Card

register = template.Library()


@register.simple_tag
def explainer_card(explainer, heading_level=2, excerpt=None, picture=None):
    """The card of ``explainer`` (loaded with its public revision, or a ``Card``), its title an
    ``h<level>``, with ``picture`` (``renditions.Picture``) small beside it if given."""
    shown = explainer if isinstance(explainer, Card) else Card.of(explainer)
    return card(shown, heading_level, excerpt, picture=picture)


def card(shown: Card, heading_level=2, excerpt=None, *, where=None, picture=None) -> str:
    """The card of ``shown``, a ``Card``: lists that have their rows as cards build no model.

    ``where`` is the request's script prefix and time zone, when the caller has read them.
    """
    prefix, zone = where or (get_script_prefix(), timezone.get_current_timezone())
    fields = (
        shown.slug,
        shown.headline,
        # What the card shows of the text, not the text: a long one would stay in memory.
        text.first_sentence(shown.whats_happening),
        shown.ai_generated,
        shown.topic_name,
        shown.topic_slug,
        shown.published_at,
        heading_level,
        # Links and dates depend on these, set per request in principle.
        prefix,
        # The zone itself: two fixed offsets may share a name.
        zone,
    )
    if excerpt:
        return card_html.__wrapped__(*fields, excerpt=excerpt, picture=picture)
    return card_html(*fields, picture=picture)


@functools.lru_cache(maxsize=2048)
def card_html(
    slug: str,
    headline: str,
    summary: str,
    ai_generated: bool,
    topic_name: str | None,
    topic_slug: str | None,
    published_at: datetime,
    heading_level: int,
    script_prefix: str,
    time_zone: tzinfo,
    excerpt: str | None = None,
    picture=None,
) -> str:
    context = {
        "slug": slug,
        "headline": headline,
        "summary": excerpt or summary,
        "ai_generated": ai_generated,
        "topic_name": topic_name,
        "topic_slug": topic_slug,
        "published_at": published_at,
        "heading_level": heading_level,
        "picture": picture,
    }
    return render_to_string("includes/explainer_card.html", context)


def settings_changed(**kwargs):
    card_html.cache_clear()


setting_changed.connect(settings_changed)
