"""Ratings for the admin and report tests, placed on the days they need."""

import datetime

import factory
from django.utils import timezone

from feedback.models import Rating, Reason
from tests.factories import ExplainerFactory


class RatingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rating

    explainer = factory.SubFactory(ExplainerFactory, published=True)
    reader = factory.Sequence(lambda n: f"reader-{n:06d}")
    useful = True
    reason = ""
    comment = ""
    explainer_version = factory.LazyAttribute(lambda o: o.explainer.version)


def rate(
    explainer,
    *,
    useful: int = 0,
    not_useful: int = 0,
    reason: str = Reason.OTHER,
    days_ago: int = 0,
) -> list[Rating]:
    """Record ``useful`` yes votes and ``not_useful`` no votes on ``explainer``, all cast at
    noon (current time zone) ``days_ago`` days ago."""
    ratings = [RatingFactory(explainer=explainer, useful=True) for _ in range(useful)]
    ratings += [
        RatingFactory(explainer=explainer, useful=False, reason=reason) for _ in range(not_useful)
    ]
    if days_ago:
        day = timezone.localdate() - datetime.timedelta(days=days_ago)
        at = timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))
        Rating.objects.filter(pk__in=[r.pk for r in ratings]).update(created_at=at)
    return ratings


def edit(explainer, text, *, days_ago):
    """Save a content change (a new version) and date its history record ``days_ago``."""
    explainer.whats_next = text
    explainer.save()
    when = timezone.now() - datetime.timedelta(days=days_ago)
    explainer.history.filter(version=explainer.version).update(history_date=when)
