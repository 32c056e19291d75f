"""schema.org ``NewsArticle`` data for an explainer page, so search engines read it right."""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.utils.safestring import SafeString, mark_safe

from .models import Explainer

# Same escapes as Django's json_script: the JSON cannot close the <script> element.
_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def news_article(explainer: Explainer, *, url: str, image_url: str | None) -> dict:
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": explainer.headline,
        "description": explainer.summary,
        "url": url,
        "mainEntityOfPage": url,
        "datePublished": explainer.published_at,
        "dateModified": explainer.updated_at,
        "articleSection": [heading for _, heading, _ in explainer.sections()],
        "isBasedOn": [source.url for source in explainer.sources.all()],
    }
    if image_url:
        data["image"] = image_url
    if explainer.topic_id:
        data["about"] = explainer.topic.name
    return data


def as_script(data: dict) -> SafeString:
    return mark_safe(json.dumps(data, cls=DjangoJSONEncoder).translate(_SCRIPT_ESCAPES))
