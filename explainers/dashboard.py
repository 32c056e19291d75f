"""The editorial queues: writers' and editors' panels on the admin's home page.

Each queue is defined once and serves both its panel and the explainer list's "Queue"
filter, which the panel links to, so the panel's count and the list always agree.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import Truncator

from newsroom import dashboard

from . import workflow
from .models import Explainer, Notice, UndeliveredNotification, WorkflowEvent

Status = Explainer.Status
Action = WorkflowEvent.Action


def short(value) -> str:
    """A local date and time in the admin's one format (DATETIME_FORMAT)."""
    return date_format(timezone.localtime(value), "DATETIME_FORMAT") if value else ""


def _last_event(field: str, action: str | None = None) -> Subquery:
    events = WorkflowEvent.objects.filter(explainer=OuterRef("pk"))
    if action:
        events = events.filter(action=action)
    return Subquery(events.order_by("-created_at", "-id").values(field)[:1])


def _with_last_step(queryset: QuerySet) -> QuerySet:
    return queryset.annotate(
        last_action=_last_event("action"),
        last_comment=_last_event("comment"),
        last_user=_last_event("user__username"),
        last_at=_last_event("created_at"),
    )


def writes(user: AbstractBaseUser) -> bool:
    """Writers: may edit and submit, not publish."""
    return workflow.may(user, "submit") and not workflow.may(user, "publish")


def edits(user: AbstractBaseUser) -> bool:
    """Editors: may publish."""
    return workflow.may(user, "publish")


@dataclass(frozen=True)
class Queue:
    key: str
    title: str
    audience: Callable[[AbstractBaseUser], bool]
    # Narrows explainers to this queue, for this user; in the panel's order.
    narrow: Callable[[QuerySet, AbstractBaseUser], QuerySet]
    meta: Callable[[Explainer], str]
    note: Callable[[Explainer], str] = lambda explainer: ""
    empty: str = "Nothing here."


def _mine(queryset, user, status):
    return queryset.filter(created_by=user, status=status)


def _sent_back(queryset, user):
    return (
        _with_last_step(queryset.filter(created_by=user, status=Status.DRAFT))
        .filter(last_action=Action.SENT_BACK)
        .order_by("-last_at")
    )


def _waiting_for_review(queryset, user):
    return (
        queryset.filter(status=Status.IN_REVIEW)
        .annotate(
            submitted_at=_last_event("created_at", Action.SUBMITTED),
            submitted_by=_last_event("user__username", Action.SUBMITTED),
        )
        .order_by(F("submitted_at").asc(nulls_first=True), "pk")
    )


def _needs_sign_off(queryset, user):
    unsigned = Q(reviewed_version__isnull=True) | ~Q(reviewed_version=F("version"))
    return (
        queryset.filter(unsigned, ai_generated=True)
        .exclude(status=Status.ARCHIVED)
        .order_by("updated_at")
    )


def _scheduled_soon(queryset, user):
    now = timezone.now()
    soon = (now, now + timedelta(hours=24))
    return queryset.filter(
        Q(status=Status.PUBLISHED, published_at__range=soon) | Q(scheduled_at__range=soon)
    ).order_by("published_at")


def _expiring_soon(queryset, user):
    now = timezone.now()
    return queryset.filter(
        status=Status.PUBLISHED, expires_at__range=(now, now + timedelta(days=7))
    ).order_by("expires_at")


def _pending(queryset, user):
    # By version number: a version that restores the approved text counts as pending too.
    return (
        queryset.filter(status=Status.PUBLISHED, live_revision__isnull=False)
        .exclude(live_revision__version=F("version"))
        .exclude(scheduled_revision__version=F("version"))
        .order_by("-updated_at")
    )


QUEUES = {
    queue.key: queue
    for queue in (
        Queue(
            "my-drafts",
            "My drafts",
            writes,
            lambda qs, user: _mine(qs, user, Status.DRAFT).order_by("-updated_at"),
            lambda e: f"updated {short(e.updated_at)}",
            empty="No drafts of yours.",
        ),
        Queue(
            "sent-back",
            "Sent back to me",
            writes,
            _sent_back,
            lambda e: f"by {e.last_user or 'an editor'}, {short(e.last_at)}",
            note=lambda e: Truncator(e.last_comment).chars(140),
            empty="Nothing was sent back to you.",
        ),
        Queue(
            "my-reviews",
            "Mine in review",
            writes,
            lambda qs, user: _mine(qs, user, Status.IN_REVIEW).order_by("-updated_at"),
            lambda e: f"updated {short(e.updated_at)}",
            empty="None of yours is in review.",
        ),
        Queue(
            "review",
            "Waiting for review",
            edits,
            _waiting_for_review,
            lambda e: f"submitted by {e.submitted_by or 'someone'}, {short(e.submitted_at)}",
            empty="Nothing waits for review.",
        ),
        Queue(
            "sign-off",
            "AI text waiting for sign-off",
            edits,
            _needs_sign_off,
            lambda e: f"{e.get_status_display().lower()}, version {e.version}",
            empty="No AI text waits for a sign-off.",
        ),
        Queue(
            "scheduled",
            "Scheduled in the next 24 hours",
            edits,
            _scheduled_soon,
            lambda e: f"at {short(e.scheduled_for)}",
            empty="Nothing is scheduled for the next 24 hours.",
        ),
        Queue(
            "expiring",
            "Expiring in the next 7 days",
            edits,
            _expiring_soon,
            lambda e: f"expires {short(e.expires_at)}",
            empty="Nothing expires in the next 7 days.",
        ),
        Queue(
            "pending",
            "Live, with changes waiting for publication",
            edits,
            _pending,
            lambda e: f"version {e.version}, readers see {e.live_revision.version}",
            empty="No live explainer has unpublished changes.",
        ),
    )
}


def _change_url(explainer) -> str:
    return reverse("admin:explainers_explainer_change", args=[explainer.pk])


def _queue_panel(queue: Queue) -> dashboard.Panel:
    return dashboard.Panel(
        key=f"explainers:{queue.key}",
        title=queue.title,
        audience=queue.audience,
        rows=lambda user: queue.narrow(
            Explainer.objects.select_related("live_revision", "scheduled_revision"), user
        ),
        describe=lambda e: dashboard.Item(
            label=e.headline, url=_change_url(e), meta=queue.meta(e), note=queue.note(e)
        ),
        link=lambda: f"{reverse('admin:explainers_explainer_changelist')}?queue={queue.key}",
        empty=queue.empty,
    )


for _queue in QUEUES.values():
    dashboard.register(_queue_panel(_queue))

dashboard.register(
    dashboard.Panel(
        key="explainers:corrections",
        title="Latest corrections",
        audience=edits,
        rows=lambda user: (
            Notice.objects.filter(kind=Notice.Kind.CORRECTION)
            .select_related("explainer", "created_by")
            .order_by("-created_at", "-id")
        ),
        describe=lambda n: dashboard.Item(
            label=n.explainer.headline,
            url=_change_url(n.explainer),
            meta=f"by {n.created_by}, {short(n.created_at)}" + (" (hidden)" if n.hidden_at else ""),
            note=Truncator(n.text).chars(140),
        ),
        link=lambda: f"{reverse('admin:explainers_notice_changelist')}?kind__exact=correction",
        empty="No corrections yet.",
    )
)

dashboard.register(
    dashboard.Panel(
        key="explainers:undelivered",
        title="Notifications that could not be sent",
        audience=edits,
        rows=lambda user: UndeliveredNotification.objects.filter(
            created_at__gte=timezone.now() - timedelta(days=7)
        ).order_by("-created_at", "-id"),
        describe=lambda n: dashboard.Item(
            label=n.subject, url="", meta=f"to {n.recipients}, {short(n.created_at)}", note=n.error
        ),
        hide_when_empty=True,
    )
)
