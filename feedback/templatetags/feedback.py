"""The reader's feedback widget, for pages of other apps: ``{% load feedback %}``.

``{% feedback_widget explainer %}`` draws "Do you find this article useful?" with its vote and
follow-up forms; ``{% feedback_script %}`` loads the script that sends them in place. The page
needs to know nothing else about feedback: the widget brings its own forms and addresses.
"""

import functools

from django import template
from django.core.signals import setting_changed
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import get_script_prefix, reverse
from django.utils.html import format_html

from ..forms import FollowUpForm

register = template.Library()


@register.simple_tag(takes_context=True)
def feedback_widget(context, explainer, slug=None):
    """The widget for ``explainer``, voting at ``feedback:vote`` for ``slug``.

    ``slug`` is the one in the page's public address (default ``explainer.public_slug``). The page's
    ``voted`` ("yes" or "no") and ``sent`` say that the reader has just voted without
    JavaScript and, with ``sent``, also sent the follow-up: the widget then thanks them.
    """
    return widget_for(context, explainer, slug, get_script_prefix())


def widget_for(context, explainer, slug, script_prefix: str) -> str:
    """``feedback_widget`` for a caller that has read the request's script prefix already."""
    return widget_html(
        slug or explainer.public_slug,
        context.get("voted"),
        context.get("sent", False),
        script_prefix,
    )


@functools.lru_cache(maxsize=4096)
def widget_html(slug: str, voted: str | None, sent: bool, script_prefix: str) -> str:
    """The widget's HTML, which depends on nothing else (the script prefix is in its links):
    kept, since rendering its two forms was a third of the time of rendering a whole page."""
    action = reverse("feedback:vote", args=[slug])
    if voted:
        # Just voted without JavaScript: thanks, and the follow-up for that vote unless sent.
        followups = {} if sent else {voted: FollowUpForm(vote=voted, action=action)}
    else:
        # Both follow-ups ride along in <template>s for the script to show after a vote.
        followups = {vote: FollowUpForm(vote=vote, action=action) for vote in ("yes", "no")}
    context = {
        "slug": slug,
        "voted": voted,
        "sent": sent,
        "followup": followups.get(voted),
        "followups": followups,
    }
    return render_to_string("feedback/includes/feedback_widget.html", context)


def settings_changed(**kwargs):
    widget_html.cache_clear()
    feedback_script.cache_clear()


setting_changed.connect(settings_changed)


@register.simple_tag
@functools.lru_cache(maxsize=1)
def feedback_script():
    """The script that sends the widget's forms in place; without it they post and return."""
    return format_html('<script src="{}" defer></script>', static("js/feedback.js"))
