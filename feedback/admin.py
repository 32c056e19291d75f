"""Ratings in the admin: read-only for everyone, exportable, and summed up in a report."""

import math
from dataclasses import dataclass

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import ngettext

from explainers.models import Explainer
from newsroom.admin import ReadOnlyModelAdmin

from . import stats
from .export_admin import export_selected_ratings, export_view
from .models import Rating

COMMENT_PREVIEW_CHARS = 80


class VoteFilter(admin.BooleanFieldListFilter):
    """Filter by the reader's answer, titled like its column rather than by the field."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = "vote"


class ReasonFilter(admin.ChoicesFieldListFilter):
    """Filter by the reason given with a "no", titled like its column."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = "reason"


@admin.register(Rating)
class RatingAdmin(ReadOnlyModelAdmin):
    """Readers' votes as they came in. Nobody edits them: they are the readers' words."""

    list_display = (
        "voted_at",
        "explainer_headline",
        "vote",
        "reason_label",
        "comment_preview",
        "version",
    )
    list_filter = (
        ("useful", VoteFilter),
        ("reason", ReasonFilter),
        "created_at",
        "explainer__topic",
    )
    list_select_related = ("explainer",)
    search_fields = ("comment",)
    date_hierarchy = "created_at"
    fields = (
        "explainer",
        "explainer_version",
        "useful",
        "reason",
        "comment",
        "created_at",
        "updated_at",
    )
    readonly_fields = ("created_at", "updated_at")
    actions = (export_selected_ratings,)

    def has_export_permission(self, request):
        return request.user.has_perm("feedback.export_rating")

    @admin.display(description="time", ordering="created_at")
    def voted_at(self, obj):
        return date_format(timezone.localtime(obj.created_at), "j M Y, H:i")

    @admin.display(description="explainer", ordering="explainer__headline")
    def explainer_headline(self, obj):
        headline = obj.explainer.headline
        return format_html('<span title="{}">{}</span>', headline, Truncator(headline).chars(60))

    @admin.display(description="vote", ordering="useful")
    def vote(self, obj):
        return "Yes" if obj.useful else "No"

    @admin.display(description="reason", ordering="reason")
    def reason_label(self, obj):
        return obj.get_reason_display() or None

    @admin.display(description="version", ordering="explainer_version")
    def version(self, obj):
        return obj.explainer_version

    @admin.display(description="comment")
    def comment_preview(self, obj):
        return Truncator(obj.comment).chars(COMMENT_PREVIEW_CHARS) or None

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            "has_export_permission": self.has_export_permission(request),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "report/",
                self.admin_site.admin_view(self.report_view),
                name=f"{info[0]}_{info[1]}_report",
            ),
            path(
                "export/",
                self.admin_site.admin_view(self.export_view_wrapper),
                name=f"{info[0]}_{info[1]}_export",
            ),
            *super().get_urls(),
        ]

    def export_view_wrapper(self, request):
        """The export page (feedback.export_admin), for those allowed to export ratings."""
        if not self.has_export_permission(request):
            raise PermissionDenied
        return export_view(self, request)

    def report_view(self, request):
        """Explainers ranked by usefulness, the reasons readers give, and the daily trend."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        days = self._report_days(request)
        explainer = self._report_explainer(request)
        since = stats.period_start(days)
        series = stats.daily_votes(days=days, explainer=explainer)
        changes = stats.version_changes(explainer, since=since) if explainer else []
        votes = sum(day.votes for day in series)
        useful = sum(day.useful for day in series)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Feedback report: {explainer}" if explainer else "Feedback report",
            "opts": self.opts,
            "days": days,
            "periods": stats.REPORT_PERIODS,
            "explainer": explainer,
            "min_votes": settings.FEEDBACK_MIN_VOTES,
            "votes": votes,
            "useful": useful,
            "share": stats.format_share(stats.useful_share(useful, votes), votes),
            "ranking": [RankedExplainer.from_annotated(e) for e in stats.ranking(since=since)],
            "reasons": stats.reason_breakdown(since=since, explainer=explainer),
            "chart": DailyChart.build(series, changes),
            "series": series,
        }
        return TemplateResponse(request, "admin/feedback/report.html", context)

    def _report_days(self, request) -> int:
        raw = request.GET.get("days", "")
        days = {str(period): period for period in stats.REPORT_PERIODS}.get(raw)
        if days:
            return days
        default = stats.REPORT_PERIODS[0]
        if raw:
            self.message_user(
                request,
                f"The report covers the last {' or '.join(map(str, stats.REPORT_PERIODS))} "
                f"days, not “{raw[:20]}”; showing the last {default} days.",
                messages.WARNING,
            )
        return default

    def _report_explainer(self, request) -> Explainer | None:
        raw = request.GET.get("explainer", "")
        if not raw:
            return None
        if not (raw.isascii() and raw.isdigit()):
            raise Http404("No explainer has that id.")
        return get_object_or_404(Explainer.objects.select_related("topic"), pk=int(raw))


@dataclass(frozen=True)
class RankedExplainer:
    """One row of the report's ranking, its shares already worded for the page."""

    explainer: Explainer
    votes: int
    useful: int
    not_useful: int
    share: str | None
    lower_bound: str | None
    enough_votes: bool

    @classmethod
    def from_annotated(cls, explainer: Explainer) -> "RankedExplainer":
        return cls(
            explainer=explainer,
            votes=explainer.votes,
            useful=explainer.useful_votes,
            not_useful=explainer.votes - explainer.useful_votes,
            share=stats.format_share(explainer.useful_share, explainer.votes),
            lower_bound=stats.format_share(explainer.wilson_lower_bound, explainer.votes),
            enough_votes=explainer.useful_share is not None,
        )


@dataclass(frozen=True)
class Tick:
    x: float
    y: float
    label: str


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str


@dataclass(frozen=True)
class Point:
    x: float
    y: float


@dataclass(frozen=True)
class Marker:
    x: float
    label: str
    title: str


def _nice_step(maximum: int, intervals: int = 4) -> int:
    """A round whole step (1, 2 or 5 × 10ⁿ) that covers ``maximum`` in about ``intervals``."""
    raw = max(maximum, 1) / intervals
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    return next(f * magnitude for f in (1, 2, 5, 10) if f * magnitude >= raw)


@dataclass(frozen=True)
class DailyChart:
    """Where everything goes in the report's SVG chart: bars for the daily votes (left
    axis), a line for the daily useful share (right axis, 0–100%), new versions marked.

    Coordinates are in the SVG's own units; the template only draws them.
    """

    WIDTH = 760
    HEIGHT = 262
    LEFT = 52
    RIGHT = 708
    TOP = 36
    BOTTOM = 236
    CENTRE_X = (LEFT + RIGHT) / 2
    CENTRE_Y = (TOP + BOTTOM) / 2

    bars: list[Bar]
    points: list[Point]
    vote_ticks: list[Tick]
    share_ticks: list[Tick]
    date_ticks: list[Tick]
    markers: list[Marker]
    total: int
    title: str
    description: str

    @property
    def line(self) -> str:
        """SVG path data joining the days that had votes."""
        return " ".join(f"{'M' if i == 0 else 'L'}{p.x},{p.y}" for i, p in enumerate(self.points))

    @classmethod
    def build(cls, series: list[stats.Day], changes: list[stats.VersionChange]) -> "DailyChart":
        height = cls.BOTTOM - cls.TOP
        slot = (cls.RIGHT - cls.LEFT) / len(series)
        step = _nice_step(max(day.votes for day in series))
        top_votes = step * max(math.ceil(max(day.votes for day in series) / step), 1)

        def centre(index: int) -> float:
            return round(cls.LEFT + slot * (index + 0.5), 1)

        def votes_y(votes: int) -> float:
            return round(cls.BOTTOM - height * votes / top_votes, 1)

        def share_y(share: float) -> float:
            return round(cls.BOTTOM - height * share, 1)

        bar_width = round(max(slot * 0.7, 1.0), 1)
        bars, points = [], []
        for index, day in enumerate(series):
            label = (
                date_format(day.date, "D j M")
                + ": "
                + ngettext("%d vote", "%d votes", day.votes) % day.votes
            )
            if day.share is not None:
                label += f", {day.share:.0%} found it useful"
                points.append(Point(centre(index), share_y(day.share)))
            bar_top = votes_y(day.votes)
            bars.append(
                Bar(
                    round(centre(index) - bar_width / 2, 1),
                    bar_top,
                    bar_width,
                    round(cls.BOTTOM - bar_top, 1),
                    label,
                )
            )
        label_every = 5 if len(series) <= 31 else 15
        index_of = {day.date: index for index, day in enumerate(series)}
        first, last = series[0].date, series[-1].date
        total = sum(day.votes for day in series)
        return cls(
            bars=bars,
            points=points,
            vote_ticks=[
                Tick(cls.LEFT - 8, votes_y(v), str(v)) for v in range(0, top_votes + 1, step)
            ],
            share_ticks=[
                Tick(cls.RIGHT + 8, share_y(s / 100), f"{s}%") for s in (0, 25, 50, 75, 100)
            ],
            date_ticks=[
                Tick(centre(i), cls.BOTTOM + 18, date_format(day.date, "j M"))
                for i, day in enumerate(series)
                if (len(series) - 1 - i) % label_every == 0
            ],
            markers=[
                Marker(
                    centre(index_of[change.date]),
                    f"v{change.version}",
                    f"Version {change.version} first saved on " + date_format(change.date, "j F Y"),
                )
                for change in changes
                if change.date in index_of
            ],
            total=total,
            title=f"Daily votes and useful share, {date_format(first, 'j M')} to "
            f"{date_format(last, 'j M Y')}",
            description="Bars: votes per day (left axis). Line: share of that day's voters "
            "who found it useful (right axis, 0 to 100%). Dashed lines: a new version of the "
            "text. " + ngettext("%d vote in all.", "%d votes in all.", total) % total,
        )
