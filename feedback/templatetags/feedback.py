"""The reader's feedback widget, for pages of other apps: ``{% load feedback %}``.

``{% feedback_widget explainer %}`` draws "Do you find this article useful?" with its vote and
follow-up forms; ``{% feedback_script %}`` loads the script that sends them in place. The page
needs to know nothing else about feedback: the widget brings its own reasons and addresses.
"""

from django import template
from django.templatetags.static import static
from django.utils.html import format_html

from ..models import Reason

register = template.Library()


@register.inclusion_tag("feedback/includes/feedback_widget.html", takes_context=True)
def feedback_widget(context, explainer, slug=None):
    """The widget for ``explainer``, voting at ``feedback:vote`` for ``slug``.

    ``slug`` is the one in the page's public address (default ``explainer.slug``). The page's
    ``voted`` ("yes" or "no") and ``sent`` say that the reader has just voted without
    JavaScript and, with ``sent``, also sent the follow-up: the widget then thanks them.
    """
    return {
        "explainer": explainer,
        "slug": slug or explainer.slug,
        "voted": context.get("voted"),
        "sent": context.get("sent", False),
        "reasons": Reason.choices,
    }


@register.simple_tag
def feedback_script():
    """The script that sends the widget's forms in place; without it they post and return."""
    return format_html('<script src="{}" defer></script>', static("js/feedback.js"))
