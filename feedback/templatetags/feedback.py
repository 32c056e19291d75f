"""The reader's feedback widget, for pages of other apps: ``{% load feedback %}``.

``{% feedback_widget explainer %}`` draws "Do you find this article useful?" with its vote and
follow-up forms; ``{% feedback_script %}`` loads the script that sends them in place. The page
needs to know nothing else about feedback: the widget brings its own forms and addresses.
"""

from django import template
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html

from ..forms import FollowUpForm

register = template.Library()


@register.inclusion_tag("feedback/includes/feedback_widget.html", takes_context=True)
def feedback_widget(context, explainer, slug=None):
    """The widget for ``explainer``, voting at ``feedback:vote`` for ``slug``.

    ``slug`` is the one in the page's public address (default ``explainer.public_slug``). The page's
    ``voted`` ("yes" or "no") and ``sent`` say that the reader has just voted without
    JavaScript and, with ``sent``, also sent the follow-up: the widget then thanks them.
    """
    slug = slug or explainer.public_slug
    action = reverse("feedback:vote", args=[slug])
    voted, sent = context.get("voted"), context.get("sent", False)
    if voted:
        # Just voted without JavaScript: thanks, and the follow-up for that vote unless sent.
        followups = {} if sent else {voted: FollowUpForm(vote=voted, action=action)}
    else:
        # Both follow-ups ride along in <template>s for the script to show after a vote.
        followups = {vote: FollowUpForm(vote=vote, action=action) for vote in ("yes", "no")}
    return {
        "explainer": explainer,
        "slug": slug,
        "voted": voted,
        "sent": sent,
        "followup": followups.get(voted),
        "followups": followups,
    }


@register.simple_tag
def feedback_script():
    """The script that sends the widget's forms in place; without it they post and return."""
    return format_html('<script src="{}" defer></script>', static("js/feedback.js"))
