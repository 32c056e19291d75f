"""Reader-facing queries shared by pages, feeds and sitemaps.

Every one starts from ``Explainer.objects.published()`` and reads the approved revision
through ``public_filter``/``with_public_revision``: a writer's pending edit never shows.
"""

from django.db.models import F, Func, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from .models import Explainer, Topic

# What a card (home, topic, search, related lists) shows of each revision.
CARD_FIELDS = (
    "slug",
    "headline",
    "whats_happening",
    "ai_generated",
    "version",
    "topic__name",
    "topic__slug",
)


def public_cards() -> QuerySet[Explainer]:
    """Published explainers with just what a card shows, newest first."""
    return (
        Explainer.objects.published()
        .with_public_revision()
        .only(
            "published_at",
            "scheduled_at",
            *(
                f"{revision}__{field}"
                for revision in ("live_revision", "scheduled_revision")
                for field in CARD_FIELDS
            ),
        )
        .order_by("-published_at", "-pk")
    )


def public_topics() -> QuerySet[Topic]:
    """Topics with at least one published explainer (by its approved revision), with counts.

    A topic only drafts or pending edits use is not listed: its name could say what is coming.
    """
    per_topic = (
        Explainer.objects.published()
        .public_filter(topic=OuterRef("pk"))
        .order_by()
        # COUNT as a plain function: one row for the whole subquery, no GROUP BY.
        .annotate(count=Func(F("pk"), function="COUNT"))
        .values("count")
    )
    return (
        Topic.objects.annotate(
            explainer_count=Coalesce(Subquery(per_topic, output_field=IntegerField()), 0)
        )
        .filter(explainer_count__gt=0)
        .order_by("name")
    )


def topic_explainers(topic: Topic) -> QuerySet[Explainer]:
    """A topic's published explainers, newest first, by the topic readers see on each."""
    return public_cards().public_filter(topic=topic)
