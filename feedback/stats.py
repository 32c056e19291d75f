"""Read-only figures on reader feedback, for the explainer changelist and the feedback report.

Shares are computed in the database, so the admin can sort, search and filter on them. A
share below ``settings.FEEDBACK_MIN_VOTES`` votes is NULL: with so few votes a percentage
misleads more than it tells, and the admin shows "too few votes" instead.

The ranking uses the lower bound of the Wilson score interval (95%): the share of readers
who found an explainer useful that we can be fairly sure of, given how many voted. 8 of 10
ranks below 80 of 100 although both are 80%.
"""

import datetime
import math
from dataclasses import dataclass

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    Expression,
    F,
    FloatField,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    When,
)
from django.db.models.functions import Cast, Coalesce, Sqrt, TruncDate
from django.utils import timezone

from explainers.models import Explainer

from .models import Rating, Reason

# The 97.5th percentile of the standard normal distribution: a two-sided 95% interval.
Z = 1.959964
REPORT_PERIODS = (30, 90)
NO_REASON_LABEL = "No reason given"


class NullsLast(F):
    """A field reference that sorts NULLs last in either direction (``@admin.display``).

    The admin calls ``asc()`` or ``desc()`` on an expression it is given as ``ordering``;
    without this, SQLite and PostgreSQL put NULLs ("too few votes") at opposite ends.
    """

    def asc(self, **kwargs):
        return super().asc(nulls_last=True, **kwargs)

    def desc(self, **kwargs):
        return super().desc(nulls_last=True, **kwargs)


def _wilson_formula(useful, votes, sqrt):
    """The lower bound of the Wilson score interval, written once for numbers and for SQL.

    Algebraically the usual formula multiplied through by n, which needs no p = u / n:
    (u + z²/2 - z·√(u(n - u)/n + z²/4)) / (n + z²). It gives exactly 0 when u = 0.
    """
    z2 = Z * Z
    return (useful + z2 / 2 - Z * sqrt(useful * (votes - useful) / votes + z2 / 4)) / (votes + z2)


def wilson_lower_bound(useful: int, votes: int) -> float | None:
    """The Wilson score lower bound (95%) of ``useful`` of ``votes``; None without votes."""
    if votes <= 0:
        return None
    return _wilson_formula(float(useful), float(votes), math.sqrt)


def wilson_lower_bound_expression(useful: str, votes: str) -> Expression:
    """``wilson_lower_bound`` in SQL, over two integer columns or annotations (votes > 0)."""
    return _wilson_formula(Cast(useful, FloatField()), Cast(votes, FloatField()), Sqrt)


def useful_share(useful: int, votes: int, *, min_votes: int | None = None) -> float | None:
    """``useful`` / ``votes``, or None below ``min_votes`` (default FEEDBACK_MIN_VOTES)."""
    if min_votes is None:
        min_votes = settings.FEEDBACK_MIN_VOTES
    return useful / votes if votes >= max(min_votes, 1) else None


def rating_count(since: datetime.datetime | None, **filters) -> Coalesce:
    """Count an explainer's ratings in a subquery, which no join or filter can multiply."""
    if since is not None:
        filters["created_at__gte"] = since
    ratings = (
        Rating.objects.filter(explainer=OuterRef("pk"), **filters)
        .order_by()
        .values("explainer")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(ratings, output_field=IntegerField()), 0)


def with_feedback_stats(
    queryset: QuerySet[Explainer],
    *,
    since: datetime.datetime | None = None,
    min_votes: int | None = None,
) -> QuerySet[Explainer]:
    """Annotate explainers with ``votes``, ``useful_votes``, ``useful_share`` and
    ``wilson_lower_bound`` (ratings since ``since``, or all).

    ``useful_share`` and ``wilson_lower_bound`` are fractions from 0 to 1, NULL below
    ``min_votes`` votes (default ``settings.FEEDBACK_MIN_VOTES``, never below one).
    """
    if min_votes is None:
        min_votes = settings.FEEDBACK_MIN_VOTES
    min_votes = max(min_votes, 1)
    n = Cast("votes", FloatField())
    u = Cast("useful_votes", FloatField())
    wilson = wilson_lower_bound_expression("useful_votes", "votes")
    enough = Q(votes__gte=min_votes)
    return queryset.annotate(
        votes=rating_count(since),
        useful_votes=rating_count(since, useful=True),
    ).annotate(
        useful_share=Case(When(enough, then=u / n), default=None, output_field=FloatField()),
        wilson_lower_bound=Case(When(enough, then=wilson), default=None, output_field=FloatField()),
    )


def format_percent(share: float | None, votes: int) -> str | None:
    """A share (or its lower bound) as the admin shows it: a whole percentage, "too few
    votes" when NULL, None (the admin's "-") when nobody voted. CSV cells use
    ``export.format_fraction`` instead."""
    if not votes:
        return None
    if share is None:
        return "too few votes"
    return f"{share:.0%}"


def period_start(days: int, *, today: datetime.date | None = None) -> datetime.datetime:
    """Midnight (current time zone) at the start of the last ``days`` days, today included."""
    today = today or timezone.localdate()
    first = today - datetime.timedelta(days=days - 1)
    return timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))


def ranking(*, since: datetime.datetime | None = None) -> QuerySet[Explainer]:
    """Explainers with votes since ``since``, best Wilson lower bound first, in one query."""
    return (
        with_feedback_stats(Explainer.objects.all(), since=since)
        .filter(votes__gt=0)
        .select_related("topic")
        .order_by(NullsLast("wilson_lower_bound").desc(), "-votes", "headline", "pk")
    )


@dataclass(frozen=True)
class ReasonCount:
    value: str
    label: str
    count: int
    share: float | None  # of all "no" votes in the selection

    @property
    def percent(self) -> int | None:
        return None if self.share is None else round(self.share * 100)


def reason_breakdown(
    *, since: datetime.datetime | None = None, explainer: Explainer | None = None
) -> list[ReasonCount]:
    """How many "no" votes gave each reason, every reason listed, in the form's order."""
    ratings = Rating.objects.filter(useful=False)
    if since is not None:
        ratings = ratings.filter(created_at__gte=since)
    if explainer is not None:
        ratings = ratings.filter(explainer=explainer)
    counts = dict(ratings.order_by().values_list("reason").annotate(n=Count("pk")))
    total = sum(counts.values())
    rows = [(value, label) for value, label in Reason.choices]
    rows.append(("", NO_REASON_LABEL))
    return [
        ReasonCount(
            value, label, counts.get(value, 0), counts.get(value, 0) / total if total else None
        )
        for value, label in rows
    ]


@dataclass(frozen=True)
class Day:
    date: datetime.date
    votes: int
    useful: int

    @property
    def share(self) -> float | None:
        return self.useful / self.votes if self.votes else None

    @property
    def percent(self) -> int | None:
        return None if self.share is None else round(self.share * 100)


def daily_votes(
    *, days: int, explainer: Explainer | None = None, today: datetime.date | None = None
) -> list[Day]:
    """Votes and "yes" votes per day (current time zone) for the last ``days`` days.

    Every day is present, oldest first; a day without votes has zero votes.
    """
    today = today or timezone.localdate()
    ratings = Rating.objects.filter(created_at__gte=period_start(days, today=today))
    if explainer is not None:
        ratings = ratings.filter(explainer=explainer)
    rows = (
        ratings.annotate(day=TruncDate("created_at"))
        .order_by()
        .values("day")
        .annotate(votes=Count("pk"), useful=Count("pk", filter=Q(useful=True)))
    )
    found = {row["day"]: row for row in rows}
    series = []
    for offset in range(days - 1, -1, -1):
        date = today - datetime.timedelta(days=offset)
        row = found.get(date)
        series.append(Day(date, row["votes"], row["useful"]) if row else Day(date, 0, 0))
    return series


@dataclass(frozen=True)
class VersionChange:
    version: int
    date: datetime.date


def version_changes(explainer: Explainer, *, since: datetime.datetime) -> list[VersionChange]:
    """The day each new version (2 and up) of ``explainer`` first appeared, if since ``since``.

    Read from the explainer's history: a version's first record is when it was saved.
    """
    firsts = (
        explainer.history.filter(version__gt=1)
        .order_by()
        .values("version")
        .annotate(first=Min("history_date"))
        .filter(first__gte=since)
        .order_by("first")
    )
    return [VersionChange(row["version"], timezone.localdate(row["first"])) for row in firsts]
