"""The analysts' panels on the admin's home page (see ``newsroom.dashboard``)."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, F, FloatField, Func, OuterRef, Q, Window
from django.db.models.functions import Cast, RowNumber
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from explainers.dashboard import short
from explainers.models import Explainer
from newsroom import dashboard

from .models import Rating
from .stats import format_percent, rating_count, with_feedback_stats


def analyses(user) -> bool:
    return user.has_perm("feedback.view_rating")


def _change_url(explainer) -> str:
    return reverse("admin:explainers_explainer_change", args=[explainer.pk])


def _this_week():
    since = timezone.now() - timedelta(days=7)
    return with_feedback_stats(Explainer.objects.filter(published_at__gte=since), since=since)


def _half(user, *, best: bool):
    """This week's explainers in the better (``best``) or the worse half of the ranking.

    The explainers with enough votes for a lower bound are ranked once, best first (lower
    bound, then more votes, then the older); the first ``n // 2`` are "most useful", the last
    ``n // 2`` "least useful", and with an odd count the one in the middle is in neither.
    So no explainer is both, and one explainer alone (or a few votes on every one) is not
    called the best and the worst at once. Explainers with too few votes are in neither:
    the feedback report lists them. One query: the ranking is a subquery.
    """
    ranked = (
        _this_week()
        .filter(wilson_lower_bound__isnull=False)
        .annotate(
            position=Window(
                RowNumber(), order_by=(F("wilson_lower_bound").desc(), F("votes").desc(), "pk")
            ),
            rated=Window(Count("pk")),
        )
    )
    if best:
        half = ranked.filter(position__lte=F("rated") / 2)
        order = (F("wilson_lower_bound").desc(), "-votes", "pk")
    else:
        half = ranked.filter(position__gt=F("rated") - F("rated") / 2)
        order = (F("wilson_lower_bound").asc(), "votes", "-pk")
    return _this_week().filter(pk__in=half.values("pk")).order_by(*order)


def _ranked(explainer) -> dashboard.Item:
    share = format_percent(explainer.wilson_lower_bound, explainer.votes)
    return dashboard.Item(
        label=explainer.headline,
        url=_change_url(explainer),
        meta=f"lower bound {share}, {explainer.votes} votes",
    )


def _report_url() -> str:
    return reverse("admin:feedback_rating_report")


RANKING_EMPTY = "Fewer than two explainers published this week have enough votes to compare yet."

dashboard.register(
    dashboard.Panel(
        key="feedback:best",
        title="Most useful this week",
        audience=analyses,
        rows=lambda user: _half(user, best=True),
        describe=_ranked,
        link=_report_url,
        empty=RANKING_EMPTY,
    )
)
dashboard.register(
    dashboard.Panel(
        key="feedback:worst",
        title="Least useful this week",
        audience=analyses,
        rows=lambda user: _half(user, best=False),
        describe=_ranked,
        link=_report_url,
        empty=RANKING_EMPTY,
    )
)


def _share(useful: str, votes: str):
    return Cast(useful, FloatField()) / Cast(votes, FloatField())


def _moved(user):
    """Explainers whose useful share on the version readers see differs most from before."""
    version = OuterRef("live_revision__version")
    floor = max(settings.FEEDBACK_MIN_VOTES, 1)
    return (
        Explainer.objects.filter(live_revision__isnull=False)
        .annotate(
            now_votes=rating_count(None, explainer_version=version),
            now_useful=rating_count(None, explainer_version=version, useful=True),
            before_votes=rating_count(None, explainer_version__lt=version),
            before_useful=rating_count(None, explainer_version__lt=version, useful=True),
        )
        .filter(now_votes__gte=floor, before_votes__gte=floor)
        .annotate(
            share_now=_share("now_useful", "now_votes"),
            share_before=_share("before_useful", "before_votes"),
        )
        .annotate(moved=Func(F("share_now") - F("share_before"), function="ABS"))
        .select_related("live_revision")
        .order_by("-moved", "pk")
    )


dashboard.register(
    dashboard.Panel(
        key="feedback:moved",
        title="Useful share moved most after a new version",
        audience=analyses,
        rows=_moved,
        describe=lambda e: dashboard.Item(
            label=e.headline,
            url=_change_url(e),
            meta=f"{e.share_before:.0%} before version {e.live_revision.version}, "
            f"{e.share_now:.0%} since",
        ),
        link=_report_url,
        empty="No new version has enough votes before and after it yet.",
    )
)

dashboard.register(
    dashboard.Panel(
        key="feedback:latest-no",
        title="Latest “No” answers with a reason or comment",
        audience=analyses,
        rows=lambda user: (
            Rating.objects.filter(useful=False)
            .exclude(Q(reason="") & Q(comment=""))
            .select_related("explainer")
            .order_by("-created_at", "-id")
        ),
        describe=lambda r: dashboard.Item(
            label=r.explainer.headline,
            url=reverse("admin:feedback_rating_change", args=[r.pk]),
            meta=" · ".join(
                part
                for part in (
                    r.get_reason_display(),
                    short(r.created_at),
                )
                if part
            ),
            note=Truncator(r.comment).chars(140),
        ),
        link=lambda: f"{reverse('admin:feedback_rating_changelist')}?useful__exact=0",
        empty="No reader has said why an explainer was not useful yet.",
    )
)
