"""schema.org ``NewsArticle`` data for an explainer page, so search engines read it right."""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.utils.safestring import SafeString, mark_safe

from .models import Explainer, Notice

# Same escapes as Django's json_script: the JSON cannot close the <script> element.
_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


# IPTC digital source types: text a model drafted and a person then edited and approved.
AI_REVIEWED_SOURCE_TYPE = (
    "https://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
)


def news_article(
    explainer: Explainer,
    content,
    *,
    url: str,
    image_url: str | None,
    updated_at,
    signed_off: bool,
    notices: list[Notice],
) -> dict:
    """``content`` is the revision shown (the live one for readers)."""
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": content.headline,
        "description": content.summary,
        "url": url,
        "mainEntityOfPage": url,
        "datePublished": explainer.published_at,
        "dateModified": updated_at or explainer.published_at,
        "articleSection": [heading for _, heading, _ in content.sections()],
        "isBasedOn": [source["url"] for source in content.source_links],
    }
    if content.ai_generated and signed_off:
        # Unreviewed AI text is never published, so it never needs trainedAlgorithmicMedia.
        data["digitalSourceType"] = AI_REVIEWED_SOURCE_TYPE
    corrections = [n for n in notices if n.kind == Notice.Kind.CORRECTION]
    if corrections:
        data["correction"] = [
            {"@type": "CorrectionComment", "text": n.text, "datePublished": n.created_at}
            for n in corrections
        ]
    if image_url:
        data["image"] = image_url
    # Revisions keep a topic's id without a database constraint: it may be gone.
    topic = content.topic if content.topic_id else None
    if topic is not None:
        data["about"] = topic.name
    return data


def as_script(data: dict) -> SafeString:
    return mark_safe(json.dumps(data, cls=DjangoJSONEncoder).translate(_SCRIPT_ESCAPES))
