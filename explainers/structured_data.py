"""schema.org ``NewsArticle`` data for an explainer page, so search engines read it right."""

import functools
import json
import unicodedata

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.core.signals import setting_changed
from django.templatetags.static import static
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from newsroom.site import absolute_url

from .models import Explainer, Notice
from .renditions import AI_SOURCE_TYPE, Picture

# Same escapes as Django's json_script: the JSON cannot close the <script> element.
_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


# IPTC digital source types: text a model drafted and a person then edited and approved.
AI_REVIEWED_SOURCE_TYPE = (
    "https://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
)


# Google shows at most this many characters of a NewsArticle's headline.
HEADLINE_MAX = 110


def publisher() -> dict:
    """The publication as an Organization, from settings (NEWSROOM_SITE_NAME and others).

    A new dict each time (callers may change theirs) from addresses worked out once.
    """
    name, url, logo = _publisher_fields()
    return {
        "@type": "NewsMediaOrganization",
        "name": name,
        "url": url,
        "logo": {"@type": "ImageObject", "url": logo},
    }


@functools.lru_cache(maxsize=1)
def _publisher_fields() -> tuple[str, str, str]:
    # Once per process: the logo's hashed static name and the site's address do not change
    # while it runs (settings_changed forgets them in tests).
    logo = settings.PUBLISHER_LOGO_URL or static("logo.png")
    return settings.SITE_NAME, settings.PUBLISHER_URL or settings.SITE_URL, absolute_url(logo)


def settings_changed(**kwargs):
    _publisher_fields.cache_clear()


setting_changed.connect(settings_changed)


def news_article(
    explainer: Explainer,
    content,
    *,
    url: str,
    summary: str,
    images: list[dict],
    updated_at,
    signed_off: bool,
    notices: list[Notice],
) -> dict:
    """``content`` is the revision shown (the live one for readers), ``summary`` its summary,
    ``updated_at`` the last change the page shows."""
    organization = publisher()
    # In NFC, as Truncator gives it; Truncator itself only where there is something to cut.
    headline = unicodedata.normalize("NFC", content.headline)
    if len(headline) > HEADLINE_MAX:
        headline = Truncator(headline).chars(HEADLINE_MAX)
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": headline,
        "description": summary,
        "url": url,
        "mainEntityOfPage": url,
        "datePublished": explainer.published_at,
        "dateModified": updated_at or explainer.published_at,
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
        data["image"] = images
    # Revisions keep a topic's id without a database constraint: it may be gone.
    topic = content.topic if content.topic_id else None
    if topic is not None:
        # The part of the site it belongs to, as the page and article:section name it.
        data["articleSection"] = topic.name
        data["about"] = {"@type": "Thing", "name": topic.name}
    return data


def image_objects(picture: Picture | None, *, absolute) -> list[dict]:
    """The lead image for search engines: its 16:9, 4:3 and 1:1 crops (the original until
    they exist), each with its size, credit and, for an AI-generated image, its source type.

    ``absolute`` turns a path into a full address.
    """
    if picture is None:
        return []
    sizes = [(c.url, c.width, c.height) for c in picture.crops]
    objects = []
    for address, width, height in sizes or [(picture.src, picture.width, picture.height)]:
        item = {"@type": "ImageObject", "url": absolute(address), "contentUrl": absolute(address)}
        if width and height:
            item.update(width=width, height=height)
        if picture.credit:
            item["creditText"] = picture.credit
        if picture.ai_generated:
            item["digitalSourceType"] = AI_SOURCE_TYPE
        objects.append(item)
    return objects


def card_image(images: list[dict], picture: Picture | None) -> dict | None:
    """What a link preview (``og:image``) shows: the first, widest crop, with its alt text."""
    if not images:
        return None
    first = images[0]
    return {
        "url": first["url"],
        "width": first.get("width"),
        "height": first.get("height"),
        "alt": picture.alt,
        "type": "image/jpeg" if picture.complete else None,
    }


def as_script(data: dict) -> SafeString:
    return mark_safe(json.dumps(data, cls=DjangoJSONEncoder).translate(_SCRIPT_ESCAPES))
