from datetime import timedelta

from django.conf import settings
from django.db.models import Prefetch
from django.http import Http404, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.views.generic import DetailView, ListView

from . import structured_data
from .models import Explainer, Notice, SlugRedirect
from .services import preview_link_find

# Saves within this long of publication are part of publishing, not an update readers need.
UPDATE_GRACE = timedelta(minutes=5)


def visible_notices():
    return Notice.objects.filter(hidden_at__isnull=True).order_by("created_at", "id")


def explainer_page_context(request, explainer: Explainer, content) -> dict:
    """What the explainer template needs, for readers and previews alike.

    ``content`` is the text to show: the live revision for readers, the working copy of
    the explainer in previews.
    """
    url = request.build_absolute_uri(explainer.get_absolute_url())
    image_url = request.build_absolute_uri(explainer.image.url) if explainer.image else None
    notices = list(explainer.notices.all()) if explainer.live_revision_id else []
    updated_at = explainer.public_updated_at or explainer.published_at
    signed_off = bool(
        content.ai_generated
        and content.reviewed_version is not None
        and content.reviewed_version == content.version
    )
    return {
        "explainer": explainer,
        "content": content,
        "canonical_url": url,
        "corrections": [n for n in notices if n.kind == Notice.Kind.CORRECTION],
        "other_notices": [n for n in notices if n.kind != Notice.Kind.CORRECTION],
        "signed_off": signed_off,
        "updated_at": updated_at,
        "structured_data": structured_data.as_script(
            structured_data.news_article(
                explainer,
                content,
                url=url,
                image_url=image_url,
                updated_at=updated_at,
                signed_off=signed_off,
                notices=notices,
            )
        ),
        "show_updated": bool(
            explainer.published_at
            and updated_at
            and updated_at - explainer.published_at > UPDATE_GRACE
        ),
    }


class ExplainerListView(ListView):
    template_name = "explainers/explainer_list.html"
    context_object_name = "explainers"
    paginate_by = settings.EXPLAINERS_PER_PAGE

    def get_queryset(self):
        return (
            Explainer.objects.published()
            .select_related("topic", "live_revision")
            .only(
                "slug",
                "published_at",
                "topic__name",
                "topic__slug",
                "live_revision__headline",
                "live_revision__whats_happening",
                "live_revision__ai_generated",
            )
            .order_by("-published_at", "-pk")
        )


class ExplainerDetailView(DetailView):
    """An explainer as readers see it: the approved revision, never a pending edit."""

    template_name = "explainers/explainer_detail.html"

    def get_queryset(self):
        return (
            Explainer.objects.published()
            .select_related("topic", "live_revision")
            .prefetch_related("sources", Prefetch("notices", queryset=visible_notices()))
        )

    def get(self, request, *args, **kwargs):
        try:
            return super().get(request, *args, **kwargs)
        except Http404:
            return self.old_address(kwargs["slug"])

    def old_address(self, slug):
        """A slug an explainer used to have answers with a permanent redirect."""
        redirect = (
            SlugRedirect.objects.filter(old_slug=slug, explainer__in=Explainer.objects.published())
            .select_related("explainer")
            .first()
        )
        if redirect is None:
            raise Http404("No explainer at this address.")
        return HttpResponsePermanentRedirect(redirect.explainer.get_absolute_url())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(explainer_page_context(self.request, self.object, self.object.live_revision))
        # ?voted=yes|no is the page a reader lands on after voting without JavaScript: the
        # same for everyone who voted that way, so it stays as cacheable as the page.
        voted = self.request.GET.get("voted")
        if voted in {"yes", "no"}:
            context["voted"] = voted
            context["sent"] = self.request.GET.get("sent") == "1"
        return context


def render_preview(request, explainer: Explainer):
    """The working copy in the reader's design, marked as a preview and never cached or indexed."""
    context = {**explainer_page_context(request, explainer, explainer), "preview": True}
    response = render(request, "explainers/explainer_detail.html", context)
    response["X-Robots-Tag"] = "noindex, nofollow"
    add_never_cache_headers(response)
    return response


def preview_link(request, token):
    """A shared draft; unknown, expired, revoked and tampered links all look the same: 404."""
    link = preview_link_find(token)
    if link is None:
        raise Http404("This preview link is not valid.")
    explainer = (
        Explainer.objects.select_related("topic", "live_revision")
        .prefetch_related("sources", Prefetch("notices", queryset=visible_notices()))
        .get(pk=link.explainer_id)
    )
    return render_preview(request, explainer)


class CorrectionListView(ListView):
    """Every published correction, newest first: the newsroom's public record of its errors."""

    template_name = "explainers/correction_list.html"
    context_object_name = "corrections"
    paginate_by = 50

    def get_queryset(self):
        return (
            visible_notices()
            .filter(kind=Notice.Kind.CORRECTION, explainer__in=Explainer.objects.published())
            .select_related("explainer__live_revision")
            .order_by("-created_at", "-id")
        )
