"""schema.org ``NewsArticle`` data for an explainer page, so search engines read it right."""

import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.templatetags.static import static
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from newsroom.site import absolute_url

from .models import Explainer, Notice

# Same escapes as Django's json_script: the JSON cannot close the <script> element.
_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


# IPTC digital source types: text a model drafted and a person then edited and approved.
AI_REVIEWED_SOURCE_TYPE = (
    "https://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
)


# Google shows at most this many characters of a NewsArticle's headline.
HEADLINE_MAX = 110


def lead_images(content) -> list[dict]:
    """The lead image as search engines and social apps get it: ``url``, ``width``, ``height``.

    The hook for lead-image renditions: once they exist this returns the 16:9, 4:3 and 1:1
    crops (widest first), and Open Graph (the first) and JSON-LD (all) follow. Until then,
    the original.
    """
    image = content.lead_image
    if image is None:
        return []
    return [
        {
            "url": absolute_url(image.url),
            "width": content.image_width,
            "height": content.image_height,
        }
    ]


def publisher() -> dict:
    """The publication as an Organization, from settings (NEWSROOM_SITE_NAME and others)."""
    logo = settings.PUBLISHER_LOGO_URL or static("logo.png")
    return {
        "@type": "NewsMediaOrganization",
        "name": settings.SITE_NAME,
        "url": settings.PUBLISHER_URL or settings.SITE_URL,
        "logo": {"@type": "ImageObject", "url": absolute_url(logo)},
    }


def news_article(
    explainer: Explainer,
    content,
    *,
    url: str,
    images: list[dict],
    updated_at,
    signed_off: bool,
    notices: list[Notice],
) -> dict:
    """``content`` is the revision shown (the live one for readers)."""
    organization = publisher()
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": Truncator(content.headline).chars(HEADLINE_MAX),
        "description": content.summary,
        "url": url,
        "mainEntityOfPage": url,
        "datePublished": explainer.published_at,
        "dateModified": updated_at or explainer.published_at,
        "articleSection": [heading for _, heading, _ in content.sections()],
        "isBasedOn": [source["url"] for source in content.source_links],
        "isAccessibleForFree": True,
        "inLanguage": settings.SITE_LANGUAGE,
        # The newsroom writes and answers for every explainer, so it is the author too.
        "author": {key: organization[key] for key in ("@type", "name", "url")},
        "publisher": organization,
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
    if images:
        data["image"] = [image["url"] for image in images]
    # Revisions keep a topic's id without a database constraint: it may be gone.
    topic = content.topic if content.topic_id else None
    if topic is not None:
        data["about"] = topic.name
    return data


def as_script(data: dict) -> SafeString:
    return mark_safe(json.dumps(data, cls=DjangoJSONEncoder).translate(_SCRIPT_ESCAPES))
