"""RSS and Atom feeds of what readers see: the latest explainers, per topic, corrections.

Callable ``Feed`` classes as in django.contrib.syndication. Every link is absolute at the
site's configured address (NEWSROOM_SITE_URL), never at the request's Host, so one feed is
the same bytes for everyone and the page cache may keep it.

Item descriptions are HTML in both formats (RSS has no other kind, and readers render
Atom's the same way), so the plain text editors write is sent escaped, a ``<p>`` per
paragraph: a reader app shows "<script>" or "&" as the words they are, never as markup it
drops, and keeps the paragraphs. XML 1.0 cannot carry most control characters (a vertical
tab is what a word processor's line break pastes as): each is sent as a space, since one
would otherwise fail the whole feed.
"""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Enclosure, Rss201rev2Feed, rfc3339_date
from django.utils.html import format_html_join

from newsroom.site import absolute_url

from . import page_cache, renditions, selectors, text
from .models import Explainer, Notice, Topic

FEED_SIZE = 20
AI_DISCLOSURE = (
    "AI Generated Content: this text was drafted with an AI model and edited and reviewed "
    "by our newsroom."
)


def xml_text(value):
    """``value`` (a string, or a tuple of them as categories are) as XML can carry it
    (``text.xml_safe``); anything else as is."""
    if isinstance(value, str):
        return text.xml_safe(value)
    if isinstance(value, (list, tuple)):
        return type(value)(xml_text(v) for v in value)
    return value


class XmlText:
    """A feed generator given its feed's and items' texts through ``xml_text()``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*map(xml_text, args), **{k: xml_text(v) for k, v in kwargs.items()})

    def add_item(self, *args, **kwargs):
        super().add_item(*map(xml_text, args), **{k: xml_text(v) for k, v in kwargs.items()})


def as_html(*texts: str) -> str:
    """Plain texts as HTML that shows them as written: each paragraph escaped, in a ``<p>``."""
    return format_html_join(
        "", "<p>{}</p>", ((paragraph,) for t in texts for paragraph in text.paragraphs(t))
    )


class Rss(XmlText, Rss201rev2Feed):
    """RSS 2.0 with each item's last change as ``<atom:updated>``, which RSS itself lacks."""

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        if item.get("updateddate") is not None:
            handler.addQuickElement("atom:updated", rfc3339_date(item["updateddate"]))


class Atom(XmlText, Atom1Feed):
    """Atom 1.0, its texts as XML can carry them."""


class PerRequest:
    """``view()``: a fresh feed object per request, so what one request notes (the keys of
    what it shows) never reaches another served by a thread of the same process."""

    @classmethod
    def view(cls):
        def view(request, *args, **kwargs):
            return cls()(request, *args, **kwargs)

        return view


class ExplainerFeed(PerRequest, Feed):
    """The 20 newest explainers, as RSS 2.0: the approved version of each, never a draft."""

    feed_type = Rss
    path_name = "explainers:feed"
    description = "Short, structured explainers of the news, newest first."

    def __call__(self, request, *args, **kwargs):
        response = super().__call__(request, *args, **kwargs)
        return page_cache.tag(response, "feeds", *self.keys)

    def title(self, obj=None):
        return f"{settings.SITE_NAME}: latest explainers"

    def link(self, obj=None):
        return absolute_url(reverse("explainers:list"))

    def feed_url(self, obj=None):
        return absolute_url(reverse(self.path_name))

    def feed_copyright(self, obj=None):
        return settings.SITE_NAME

    def explainers(self, obj=None):
        return Explainer.objects.published().with_public_revision().order_by("-published_at", "-pk")

    def items(self, obj=None):
        items = list(self.explainers(obj)[:FEED_SIZE])
        self.keys = page_cache.explainer_keys(items)
        self.rendition_sets = renditions.sets_for(item.public_revision for item in items)
        return items

    def item_title(self, item):
        return item.public_revision.headline

    def item_link(self, item):
        return absolute_url(item.get_absolute_url())

    def item_guid(self, item):
        # The address can change with the slug; the guid must not, or readers see it twice.
        return absolute_url(reverse("explainers:list")) + f"#explainer-{item.pk}"

    def item_guid_is_permalink(self, item):
        return False

    def item_description(self, item):
        content = item.public_revision
        if content.ai_generated:
            return as_html(content.whats_happening, AI_DISCLOSURE)
        return as_html(content.whats_happening)

    def item_pubdate(self, item):
        return item.published_at

    def item_updateddate(self, item):
        return item.reader_updated_at or item.published_at

    def item_categories(self, item):
        content = item.public_revision
        # Revisions keep a topic's id without a database constraint: it may be gone.
        return (content.topic.name,) if content.topic_id and content.topic else ()

    def item_author_name(self, item):
        return settings.SITE_NAME

    def item_enclosures(self, item):
        content = item.public_revision
        if not renditions.image_name(content):
            return []
        # Until its renditions are made (they are on publishing) an item goes without.
        found = renditions.shared_file(self.rendition_sets.get(renditions.source_key(content)))
        if found is None:
            return []
        return [Enclosure(absolute_url(found.url), str(found.length), found.mime_type)]


class AtomExplainerFeed(ExplainerFeed):
    """The same 20 explainers as Atom 1.0."""

    feed_type = Atom
    path_name = "explainers:feed-atom"
    subtitle = ExplainerFeed.description


class TopicFeed(ExplainerFeed):
    """One topic's 20 newest explainers; a topic without a published one is 404."""

    def get_object(self, request, slug):
        topic = get_object_or_404(Topic, slug=slug)
        if not selectors.topic_explainers(topic).exists():
            raise Http404("No published explainer has this topic.")
        return topic

    def __call__(self, request, *args, **kwargs):
        response = super().__call__(request, *args, **kwargs)
        return page_cache.tag(response, f"topic-{self.topic_pk}")

    def title(self, obj=None):
        return f"{settings.SITE_NAME}: {obj.name}"

    def description(self, obj=None):
        return f"Explainers about {obj.name}, newest first."

    def link(self, obj=None):
        return absolute_url(reverse("explainers:topic", kwargs={"slug": obj.slug}))

    def feed_url(self, obj=None):
        return absolute_url(reverse("explainers:topic-feed", kwargs={"slug": obj.slug}))

    def explainers(self, obj=None):
        self.topic_pk = obj.pk
        return super().explainers(obj).public_filter(topic=obj)


class CorrectionFeed(PerRequest, Feed):
    """The 20 newest corrections of published explainers."""

    feed_type = Rss
    description = "Every correction we publish, newest first."

    def __call__(self, request, *args, **kwargs):
        response = super().__call__(request, *args, **kwargs)
        return page_cache.tag(response, "feeds", "corrections", *self.keys)

    def title(self):
        return f"{settings.SITE_NAME}: corrections"

    def link(self):
        return absolute_url(reverse("explainers:corrections"))

    def feed_url(self):
        return absolute_url(reverse("explainers:corrections-feed"))

    def items(self):
        items = list(
            Notice.objects.visible()
            .filter(kind=Notice.Kind.CORRECTION, explainer__in=Explainer.objects.published())
            .select_related(
                "explainer__live_revision__topic", "explainer__scheduled_revision__topic"
            )
            .order_by("-created_at", "-id")[:FEED_SIZE]
        )
        self.keys = page_cache.explainer_keys(n.explainer for n in items)
        return items

    def item_title(self, item):
        return f"Correction: {item.explainer.public_revision.headline}"

    def item_link(self, item):
        return absolute_url(item.explainer.get_absolute_url())

    def item_guid(self, item):
        return absolute_url(reverse("explainers:corrections")) + f"#correction-{item.pk}"

    def item_guid_is_permalink(self, item):
        return False

    def item_description(self, item):
        return as_html(item.text)

    def item_pubdate(self, item):
        return item.created_at

    def item_categories(self, item):
        content = item.explainer.public_revision
        return (content.topic.name,) if content.topic_id and content.topic else ()
