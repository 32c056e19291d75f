"""``{% load dashboard %}{% dashboard_panels as panels %}``: the admin home page's panels."""

from django import template

from newsroom.dashboard import panels_for

register = template.Library()


@register.simple_tag(takes_context=True)
def dashboard_panels(context):
    return panels_for(context["request"].user)
