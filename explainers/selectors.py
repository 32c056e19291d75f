"""Reader-facing queries shared by pages, feeds and sitemaps.

Every one starts from ``Explainer.objects.published()`` and reads the approved revision
through ``public_filter``/``with_public_revision``: a writer's pending edit never shows.
"""

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import (
    CharField,
    Count,
    F,
    Func,
    IntegerField,
    Max,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Concat
from django.utils import timezone

from newsroom.prepared import PLACEHOLDER_TEXT, PLACEHOLDER_TIME, PreparedQuery

from . import page_cache, text
from .models import IMAGE_FIELDS, VERSIONED_FIELDS, Explainer, Notice, RenditionSet, Topic

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


# And what finds its lead image's renditions (renditions.pictures), for lists that show them.
CARD_IMAGE_FIELDS = ("id", *IMAGE_FIELDS, "image_width", "image_height")


# The explainer's own fields a card reads: the date, and which revision readers get now.
CARD_ONLY = (
    "published_at",
    "expires_at",
    "scheduled_at",
    *(
        f"{revision}__{field}"
        for revision in ("live_revision", "scheduled_revision")
        for field in (*CARD_FIELDS, *CARD_IMAGE_FIELDS)
    ),
)


@dataclass(frozen=True, slots=True)
class Card:
    """What a card shows of a published explainer: the revision readers get now, its date."""

    pk: int
    published_at: datetime
    slug: str
    headline: str
    whats_happening: str
    ai_generated: bool
    topic_id: int | None
    topic_name: str | None
    topic_slug: str | None

    # As a row of entries (search.related): the entry's revision is the one readers get.
    ENTRY_ROW = (
        "explainer_id",
        "explainer__published_at",
        *(
            f"revision__{field}"
            for field in ("slug", "headline", "whats_happening", "ai_generated", "topic_id")
        ),
        "revision__topic__name",
        "revision__topic__slug",
    )

    @property
    def summary(self) -> str:
        return text.first_sentence(self.whats_happening)

    @classmethod
    def of(cls, explainer: Explainer) -> "Card":
        """The card of ``explainer``, loaded with its public revision (``public_cards()``)."""
        content = explainer.public_revision
        topic = content.topic
        return cls(
            explainer.pk,
            explainer.published_at,
            content.slug,
            content.headline,
            content.whats_happening,
            content.ai_generated,
            content.topic_id,
            topic.name if topic else None,
            topic.slug if topic else None,
        )


def public_cards(now=None) -> QuerySet[Explainer]:
    """Published explainers with just what a card shows, newest first."""
    return (
        Explainer.objects.published(now=now)
        .with_public_revision()
        .only(*CARD_ONLY)
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


# Notices are only ever added or hidden: the newest id and the latest hiding time change
# whenever what a page shows of them does. Subqueries, so the page's one query carries them.
_notices = Notice.objects.filter(explainer=OuterRef("pk")).order_by().values("explainer")
# Lead-image renditions are made after publishing, in the background: the page shows the
# original until its set exists, then the set's files.
_sets = RenditionSet.objects.filter(explainer=OuterRef("pk")).order_by().values("explainer")
PAGE_STAMPS = {
    "latest_notice": Subquery(_notices.annotate(stamp=Max("id")).values("stamp")),
    "latest_hidden_notice": Subquery(_notices.annotate(stamp=Max("hidden_at")).values("stamp")),
    "latest_renditions": Subquery(
        _sets.annotate(
            stamp=Concat(Count("id"), Value("-"), Max("id"), output_field=CharField())
        ).values("stamp"),
        output_field=CharField(),
    ),
}
# What a page reads of the explainer itself: its dates and which revisions readers get. Its
# working copy (drafts, pending edits) is never shown, so its text is not even loaded.
PAGE_EXPLAINER_ONLY = (
    "status",
    "published_at",
    "public_updated_at",
    "expires_at",
    "scheduled_at",
    "live_revision",
    "scheduled_revision",
)
# And what it shows of each approved revision: its content, sign-off and version, not the
# history's own bookkeeping (who saved it, when, why) nor the dates the explainer has itself.
PAGE_REVISION_ONLY = (
    "id",
    *(field for field in VERSIONED_FIELDS if field != "topic"),
    "topic__name",
    "topic__slug",
    "image_width",
    "image_height",
    "reviewed_at",
    "reviewed_version",
    "version",
)


def _page(*, slug: str, now):
    # Only explainers that ever had a revision at this address can match: the history's slug
    # index finds them, so the query stays an indexed lookup however many explainers there are.
    candidates = Explainer.history.filter(slug=slug).values("id")
    return (
        Explainer.objects.published(now=now)
        .public_filter(now=now, slug=slug)
        .filter(pk__in=candidates)
        .with_public_revision()
        .only(
            *PAGE_EXPLAINER_ONLY,
            *(
                f"{revision}__{field}"
                for revision in ("live_revision", "scheduled_revision")
                for field in PAGE_REVISION_ONLY
            ),
        )
        .annotate(**PAGE_STAMPS, **page_cache.upcoming_changes(after=now))
        .order_by()[:1]
    )


# One query for a page: what to file its rendered body under, and what to render it from.
# Loading the revisions on a miss whose body is kept costs a little; a second query on every
# render cost a round trip and a third of the database's work on it.
_page_query = PreparedQuery(Explainer, _page, slug=PLACEHOLDER_TEXT, now=PLACEHOLDER_TIME)


@dataclass(frozen=True)
class PageState:
    """A published explainer's page as its one query tells it, without building the explainer."""

    pk: int
    revision_id: int
    topic_id: int | None
    published_at: datetime
    public_updated_at: datetime | None
    # Set once scheduled changes came due: they date the page's update (reader_updated_at).
    changed_at: datetime | None
    topic: tuple  # the topic's name and slug
    latest_notice: int | None
    latest_hidden_notice: datetime | None
    renditions: str | None
    # When time alone next changes the page: its expiry or its scheduled changes.
    next_change: datetime | None
    # Builds the explainer the query loaded, with both approved revisions and the site's next
    # scheduled change after now (page_cache.earliest_change, for the related list). Only a
    # page rendered anew needs it; a miss served from its kept body does not build it.
    load_explainer: Callable[[], Explainer] = dataclasses.field(compare=False, repr=False)

    @property
    def shown(self) -> tuple:
        """Everything the page shows besides its revision's text (which ``revision_id``
        stands for) and the related list, which is kept apart."""
        return (
            self.pk,
            self.revision_id,
            self.topic_id,
            self.published_at,
            self.public_updated_at,
            self.changed_at,
            self.topic,
            self.latest_notice,
            self.latest_hidden_notice,
            self.renditions,
        )


def page_state(slug: str) -> PageState | None:
    """The published explainer readers find at ``slug`` now, in one prepared query, or None."""
    now = timezone.now()
    compiled = _page_query.compiled_instances()
    rows = compiled.rows({"slug": slug, "now": now})
    if not rows:
        return None
    row, at = rows[0], compiled.positions
    scheduled_at = row[at["scheduled_at"]]
    scheduled = row[at["scheduled_revision_id"]] is not None
    due = scheduled and scheduled_at <= now
    revision = "scheduled_revision__" if due else "live_revision__"
    topic = (row[at[f"{revision}topic__name"]], row[at[f"{revision}topic__slug"]])
    upcoming = [row[at["expires_at"]], scheduled_at if scheduled else None]
    return PageState(
        pk=row[at["id"]],
        revision_id=row[at[f"{revision}history_id"]],
        topic_id=row[at[f"{revision}topic_id"]],
        published_at=row[at["published_at"]],
        public_updated_at=row[at["public_updated_at"]],
        changed_at=scheduled_at if due else None,
        topic=topic,
        latest_notice=row[at["latest_notice"]],
        latest_hidden_notice=row[at["latest_hidden_notice"]],
        renditions=row[at["latest_renditions"]],
        next_change=min((t for t in upcoming if t is not None and t > now), default=None),
        load_explainer=functools.partial(compiled.instance, row),
    )


def page_explainer(state: PageState) -> tuple[Explainer, list[Notice]]:
    """The explainer ``state`` found, and its visible notices (asked for only when the state
    says it has any)."""
    explainer = state.load_explainer()
    notices = []
    if state.latest_notice is not None:
        notices = list(Notice.objects.visible().filter(explainer=explainer))
    return explainer, notices


def same_page(state: PageState, explainer: Explainer) -> bool:
    """Whether ``explainer``, loaded with its public revision, is the page ``state`` describes."""
    return (
        explainer.public_revision.history_id == state.revision_id
        and explainer.published_at == state.published_at
        and explainer.public_updated_at == state.public_updated_at
    )
