"""Ratings in the admin: read-only for everyone, exportable, and summed up in a report."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html
from django.utils.text import Truncator

from explainers.admin import ExplainerAdmin, short_time
from explainers.models import Explainer
from newsroom.admin import ReadOnlyModelAdmin

from . import stats
from .charts import DailyChart, NarrowChart
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


# The explainer list with readers' votes added by this app, so that explainers need not
# know about feedback: the same admin, registered again with three more columns.
admin.site.unregister(Explainer)


@admin.register(Explainer)
class ExplainerWithFeedbackAdmin(ExplainerAdmin):
    """Explainers as their own app shows them, plus votes, useful share and lower bound."""

    list_display = (
        *ExplainerAdmin.list_display,
        "feedback_votes",
        "feedback_share",
        "feedback_lower_bound",
    )

    @admin.display(description="votes", ordering="votes")
    def feedback_votes(self, obj):
        return obj.votes

    @admin.display(description="useful", ordering=stats.NullsLast("useful_share"))
    def feedback_share(self, obj):
        return stats.format_percent(obj.useful_share, obj.votes)

    @admin.display(description="lower bound", ordering=stats.NullsLast("wilson_lower_bound"))
    def feedback_lower_bound(self, obj):
        """The Wilson score lower bound (95%): the share of useful votes one can rely on."""
        return stats.format_percent(obj.wilson_lower_bound, obj.votes)

    def get_queryset(self, request):
        # Vote counts and shares come annotated, so the list can sort by them in one query.
        return stats.with_feedback_stats(super().get_queryset(request))


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

    class Media:
        css = {"all": ("css/admin-ratings.css",)}

    def has_export_permission(self, request):
        return request.user.has_perm("feedback.export_rating")

    @admin.display(description="time", ordering="created_at")
    def voted_at(self, obj):
        return short_time(obj.created_at)

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
            "share": stats.format_percent(stats.useful_share(useful, votes), votes),
            "ranking": [RankedExplainer.from_annotated(e) for e in stats.ranking(since=since)],
            "reasons": stats.reason_breakdown(since=since, explainer=explainer),
            "chart": DailyChart.build(series, changes),
            "narrow_chart": NarrowChart.build(series, changes),
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
            share=stats.format_percent(explainer.useful_share, explainer.votes),
            lower_bound=stats.format_percent(explainer.wilson_lower_bound, explainer.votes),
            enough_votes=explainer.useful_share is not None,
        )
