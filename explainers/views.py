from datetime import timedelta

from django.conf import settings
from django.views.generic import DetailView, ListView

from feedback.models import Reason

from . import structured_data
from .models import Explainer

# Saves within this long of publication are part of publishing, not an update readers need.
UPDATE_GRACE = timedelta(minutes=5)


def explainer_page_context(request, explainer: Explainer) -> dict:
    """What the explainer template needs, for the public page and the staff preview alike."""
    url = request.build_absolute_uri(explainer.get_absolute_url())
    image_url = request.build_absolute_uri(explainer.image.url) if explainer.image else None
    return {
        "explainer": explainer,
        "canonical_url": url,
        "structured_data": structured_data.as_script(
            structured_data.news_article(explainer, url=url, image_url=image_url)
        ),
        "reasons": Reason.choices,
        "show_updated": bool(
            explainer.published_at and explainer.updated_at - explainer.published_at > UPDATE_GRACE
        ),
    }


class ExplainerListView(ListView):
    template_name = "explainers/explainer_list.html"
    context_object_name = "explainers"
    paginate_by = settings.EXPLAINERS_PER_PAGE

    def get_queryset(self):
        return (
            Explainer.objects.published()
            .select_related("topic")
            .only(
                "headline",
                "slug",
                "whats_happening",
                "published_at",
                "ai_generated",
                "topic__name",
                "topic__slug",
            )
            .order_by("-published_at", "-pk")
        )


class ExplainerDetailView(DetailView):
    template_name = "explainers/explainer_detail.html"

    def get_queryset(self):
        return Explainer.objects.published().select_related("topic").prefetch_related("sources")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(explainer_page_context(self.request, self.object))
        # ?voted=yes|no is the page a reader lands on after voting without JavaScript: the
        # same for everyone who voted that way, so it stays as cacheable as the page.
        voted = self.request.GET.get("voted")
        if voted in {"yes", "no"}:
            context["voted"] = voted
            context["sent"] = self.request.GET.get("sent") == "1"
        return context
