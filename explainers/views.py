import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import InvalidPage, Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe
from django.views.generic import DetailView, ListView

from newsroom.site import absolute_url

from . import page_cache, renditions, search, selectors, structured_data
from .forms import SearchForm
from .models import Explainer, Notice, SlugRedirect, Topic
from .services import preview_link_find

# Saves within this long of publication are part of publishing, not an update readers need.
UPDATE_GRACE = timedelta(minutes=5)


def explainer_page_context(explainer: Explainer, content, notices=None) -> dict:
    """What the explainer template needs, for readers and previews alike.

    ``content`` is what the page shows: the approved revision readers get now, or the
    working copy of the explainer in previews. Everything a reader sees of the explainer
    itself (text, slug, topic, image, sources) comes from it. Absolute links use the site's
    configured address, never the request's Host, so every request gets the same page.
    ``notices`` are the ones shown, when the caller has them.
    """
    url = absolute_url(content.get_absolute_url())
    summary = content.summary
    picture = renditions.picture(content)
    images = structured_data.image_objects(picture, absolute=absolute_url)
    if notices is None:
        notices = list(explainer.notices.all()) if explainer.live_revision_id else []
    published_at, updated_at = explainer.published_at, explainer.reader_updated_at
    show_updated = bool(published_at and updated_at and updated_at - published_at > UPDATE_GRACE)
    # The last change the page, its share tags and its structured data all give: one the page
    # shows ("Updated …"), or its publication, never a time a reader cannot see.
    modified_at = updated_at if show_updated else published_at
    signed_off = bool(
        content.ai_generated
        and content.reviewed_version is not None
        and content.reviewed_version == content.version
    )
    return {
        "explainer": explainer,
        "content": content,
        "canonical_url": url,
        "summary": summary,
        "sections": content.sections(),
        "corrections": [n for n in notices if n.kind == Notice.Kind.CORRECTION],
        "other_notices": [n for n in notices if n.kind != Notice.Kind.CORRECTION],
        "signed_off": signed_off,
        "updated_at": modified_at,
        "picture": picture,
        # For Open Graph and similar cards: the 16:9 crop (the original until it exists).
        "share_image": structured_data.card_image(images, picture),
        "structured_data": structured_data.as_script(
            structured_data.news_article(
                explainer,
                content,
                url=url,
                summary=summary,
                images=images,
                updated_at=modified_at,
                signed_off=signed_off,
                notices=notices,
            )
        ),
        "show_updated": show_updated,
    }


class LeadStoryMixin:
    """A list of explainers as a front page: the newest one leads the first page, large and
    with its picture, and the others follow as cards, each with its picture small.

    The pictures of the whole page are found in one query (``renditions.pictures``).
    """

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        shown = list(context[self.context_object_name])
        pictures = renditions.pictures(e.public_revision for e in shown)
        cards = [(selectors.Card.of(e), pictures.get(e.pk)) for e in shown]
        lead = cards.pop(0) if cards and context["page_obj"].number == 1 else None
        context.update(lead=lead, cards=cards)
        return context


class ExplainerListView(LeadStoryMixin, ListView):
    template_name = "explainers/explainer_list.html"
    context_object_name = "explainers"
    paginate_by = settings.EXPLAINERS_PER_PAGE

    def get_queryset(self):
        return selectors.public_cards()

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        shown = context["explainers"]
        topics = {
            f"topic-{e.public_revision.topic_id}" for e in shown if e.public_revision.topic_id
        }
        return page_cache.tag(response, "home", *page_cache.explainer_keys(shown), *topics)


def visible_notices() -> Prefetch:
    return Prefetch("notices", queryset=Notice.objects.visible())


def with_page_content(queryset):
    """What an explainer page shows besides its revision: visible notices, in order."""
    return queryset.with_public_revision().prefetch_related(visible_notices())


def still_related(entry: dict | None) -> dict | None:
    """A stored related list, if none of its explainers or topics changed and it is not due."""
    if entry is None:
        return None
    if entry["changes_at"] is not None and timezone.now() >= entry["changes_at"]:
        return None
    if page_cache.versions(entry["versions"]) != entry["versions"]:
        return None
    return entry


class ExplainerDetailView(DetailView):
    """An explainer as readers see it: the approved revision, never a pending edit."""

    template_name = "explainers/explainer_detail.html"
    template_engine = "jinja2"

    def get(self, request, *args, **kwargs):
        state = selectors.page_state(kwargs["slug"])
        if state is None:
            return self.old_address(kwargs["slug"])
        body_key = page_cache.body_key("explainer", *state.shown, *self.vote_outcome().items())
        related_key = page_cache.body_key("related", state.pk, state.revision_id, state.topic_id)
        found = cache.get_many([body_key, related_key])
        body, related = found.get(body_key), still_related(found.get(related_key))
        if body is None or related is None:
            self.object, self.notices = selectors.page_explainer(state)
            if body is None:
                body = self.render_body(state, body_key)
            if related is None:
                related = self.render_related(related_key)
        before, after = body
        response = HttpResponse(before + related["html"] + after)
        changes = [when for when in (state.next_change, related["changes_at"]) if when]
        page_cache.fresh_until(response, min(changes, default=None))
        topic = [f"topic-{state.topic_id}"] if state.topic_id else []
        shown = (key for key in related["versions"] if key != page_cache.ALL)
        return page_cache.tag(response, f"explainer-{state.pk}", *topic, *shown)

    def render_body(self, state, key: str) -> tuple[bytes, bytes]:
        """The page around its related list, kept under ``key`` if it is what ``state`` says."""
        mark = f"<!--{uuid.uuid4().hex}-->"
        context = self.get_context_data(object=self.object, related_section=mark_safe(mark))
        # Kept as bytes, not sent: no response object to build and throw away.
        content = render_to_string(
            self.template_name, context, self.request, using=self.template_engine
        ).encode()
        before, _, after = content.partition(mark.encode())
        # Scheduled changes that came due between the query and the render must not leave
        # their page filed under the older state.
        if selectors.same_page(state, self.object):
            cache.set(key, (before, after), timeout=page_cache.BODY_SECONDS)
        return before, after

    def render_related(self, key: str) -> dict:
        """The related list, with the versions of the keys it depends on and its deadline.

        Kept apart from the page: it changes when other explainers do (one of its own, or
        any of the explainer's topic), while the page itself does not.
        """
        started_ns = time.time_ns()
        related = search.related(self.object)
        topic = self.object.public_revision.topic_id
        keys = {
            *page_cache.explainer_keys(related),
            *(f"topic-{card.topic_id}" for card in related if card.topic_id),
            *([f"topic-{topic}"] if topic else []),
        }
        siblings = sum(1 for card in related if topic and card.topic_id == topic)
        if siblings < search.RELATED_LIMIT:
            # Filled by text: an explainer published anywhere may belong in it, and none of the
            # keys above names it (explainers/signals.py).
            keys.add("related")
        # Made stale, as every stored page is, when invalidations lost to a cache outage are
        # made good (page_cache.repay).
        keys.add(page_cache.ALL)
        html = render_to_string("includes/related.html", {"related": related}, using="jinja2")
        versions = page_cache.settle_versions(keys)
        # Any publication, expiry or scheduled change may change the list: no later than that
        # (loaded with the explainer).
        changes_at = page_cache.earliest_change(self.object)
        entry = {"html": html.encode(), "versions": versions, "changes_at": changes_at}
        # Not kept if one of its keys changed while it was worked out (or, read from a replica,
        # within the lag the replica is allowed): it may show the old list.
        margin = page_cache.replica_margin_ns()
        if not page_cache.changed_since(versions, started_ns) and not (
            margin and page_cache.replica_may_miss(versions, started_ns - margin)
        ):
            cache.set(key, entry, timeout=page_cache.BODY_SECONDS)
        return entry

    def vote_outcome(self) -> dict:
        # ?voted=yes|no is the page a reader lands on after voting without JavaScript: the
        # same for everyone who voted that way, so it stays as cacheable as the page.
        voted = self.request.GET.get("voted")
        if voted not in {"yes", "no"}:
            return {}
        return {"voted": voted, "sent": self.request.GET.get("sent") == "1"}

    def old_address(self, slug):
        """A slug a published explainer used to have answers with a permanent redirect.

        Scheduled changes that came due and moved it count too, before anyone tidies up.
        """
        published = Explainer.objects.published().with_public_revision()
        moved = published.filter(live_revision__slug=slug, scheduled_at__lte=timezone.now())
        explainer = moved.first() or next(
            (
                r.explainer
                for r in SlugRedirect.objects.filter(
                    old_slug=slug, explainer__in=published
                ).select_related("explainer__live_revision", "explainer__scheduled_revision")
            ),
            None,
        )
        if explainer is None:
            raise Http404("No explainer at this address.")
        # Tagged: a CDN keeps the redirect, and must drop it if the slug comes back.
        return page_cache.tag(
            HttpResponsePermanentRedirect(explainer.get_absolute_url()),
            *page_cache.explainer_keys([explainer]),
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            explainer_page_context(self.object, self.object.public_revision, self.notices)
        )
        context.update(self.vote_outcome())
        return context


def render_preview(request, explainer: Explainer):
    """The working copy in the reader's design, marked as a preview and never cached or indexed."""
    context = {**explainer_page_context(explainer, explainer), "preview": True}
    response = render(request, "explainers/explainer_detail.html", context, using="jinja2")
    response["X-Robots-Tag"] = "noindex, nofollow"
    add_never_cache_headers(response)
    return response


@require_safe
def preview_link(request, token):
    """A shared draft; unknown, expired, revoked and tampered links all look the same: 404."""
    link = preview_link_find(token)
    if link is None:
        raise Http404("This preview link is not valid.")
    explainer = with_page_content(Explainer.objects.select_related("topic")).get(
        pk=link.explainer_id
    )
    return render_preview(request, explainer)


class CorrectionListView(ListView):
    """Every published correction, newest first: the newsroom's public record of its errors."""

    template_name = "explainers/correction_list.html"
    context_object_name = "corrections"
    paginate_by = 50

    def get_queryset(self):
        return (
            Notice.objects.visible()
            .filter(kind=Notice.Kind.CORRECTION, explainer__in=Explainer.objects.published())
            .select_related("explainer__live_revision", "explainer__scheduled_revision")
            .order_by("-created_at", "-id")
        )

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        shown = [notice.explainer for notice in context["corrections"]]
        return page_cache.tag(response, "corrections", *page_cache.explainer_keys(shown))


class TopicListView(ListView):
    """Every topic with a published explainer, with how many it has."""

    template_name = "explainers/topic_list.html"
    context_object_name = "topics"

    def get_queryset(self):
        return selectors.public_topics()

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        return page_cache.tag(
            response, "topics", *(f"topic-{topic.pk}" for topic in context["topics"])
        )


class TopicDetailView(LeadStoryMixin, ListView):
    """One topic's published explainers, newest first; a topic with none is no page (404)."""

    template_name = "explainers/topic_detail.html"
    context_object_name = "explainers"
    paginate_by = settings.EXPLAINERS_PER_PAGE
    allow_empty = False

    def get_queryset(self):
        self.topic = get_object_or_404(Topic, slug=self.kwargs["slug"])
        return selectors.topic_explainers(self.topic)

    def get_context_data(self, **kwargs):
        return super().get_context_data(topic=self.topic, **kwargs)

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        shown = context["explainers"]
        return page_cache.tag(response, f"topic-{self.topic.pk}", *page_cache.explainer_keys(shown))


def search_page(request):
    """/search/?q=words: the search form and the published explainers that match, 20 a page.

    No query: the form. A query that cannot be run: the form with its error, 400. Results
    are kept in the search pages' own bounded cache (see explainers/search.py).
    """
    raw = request.GET.get("q", "")
    if not raw.strip():
        response = render(request, "explainers/search.html", {"form": SearchForm()})
        return page_cache.tag(response, "search")
    form = SearchForm({"q": raw})
    if not form.is_valid():
        return render(request, "explainers/search.html", {"form": form}, status=400)
    query = form.cleaned_data["q"]
    number = int(page_cache.page_number(request.GET).get("page", 1))
    hit = search.cached(query, number)
    if hit is not None:
        content, content_type, headers, changes = hit
        response = HttpResponse(content, content_type=content_type, headers=headers)
        return page_cache.fresh_until(response, changes)
    # Read before the results: a change committed while they are worked out starts a newer
    # generation, under which these (possibly older) results must not be kept.
    generation, started, started_ns = search.generation(), timezone.now(), time.time_ns()
    parsed = search.parse(query)
    paginator = Paginator(search.matching(query, parsed), search.RESULTS_PER_PAGE)
    try:
        page = paginator.page(number)
    except InvalidPage:
        raise Http404("There is no such page of results.") from None
    entries = list(page.object_list.select_related("revision"))
    cards = selectors.public_cards().in_bulk([entry.explainer_id for entry in entries])
    excerpts = search.excerpts(entries, query, parsed)
    results = [
        (cards[e.explainer_id], excerpts.get(e.explainer_id))
        for e in entries
        if e.explainer_id in cards
    ]
    context = {
        "form": form,
        "query": query,
        "page_obj": page,
        "results": results,
        "suggestion": search.suggest(query, parsed) if paginator.count == 0 else None,
    }
    response = render(request, "explainers/search.html", context)
    page_cache.tag(response, "search", *page_cache.explainer_keys(c for c, _ in results))
    headers = {h: response[h] for h in page_cache.SURROGATE_HEADERS if h in response}
    # A scheduled publication or expiry changes results with no write: kept no longer than that.
    changes = page_cache.next_change(after=started)
    stored = (response.content, response["Content-Type"], headers, changes)
    # Read from a replica just after a change: the results may not have it yet.
    if search.generation_time(generation) <= started_ns - page_cache.replica_margin_ns():
        search.keep(query, number, stored, generation=generation, until=changes)
    return page_cache.fresh_until(response, changes)
