"""Workflow emails: editors hear of explainers waiting for them, writers of their own.

Sent through Django's mail framework after the transaction commits, so an email never
announces a step that was rolled back, and never holds up or fails the step itself: a mail
server that refuses is logged and recorded (``UndeliveredNotification``), and the editors'
home page says so. Nobody is told of their own actions; each person can turn any kind off.
"""

import logging
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.urls import reverse

from newsroom.site import absolute_url

from .models import Explainer, NotificationPreference, UndeliveredNotification

logger = logging.getLogger(__name__)

# Kind of notification -> the permission that makes someone a recipient of the role's kind.
EDITOR_KINDS = {
    "submitted": "explainers.review_explainer",
    "signoff_needed": "explainers.signoff_explainer",
}
WRITER_KINDS = ("sent_back", "published")
KINDS = (*EDITOR_KINDS, *WRITER_KINDS)


def kinds_for(user: AbstractBaseUser) -> list[str]:
    """The kinds of notification that fit this user's role (their settings page offers these)."""
    kinds = [kind for kind, permission in EDITOR_KINDS.items() if user.has_perm(permission)]
    if user.has_perm("explainers.change_explainer"):
        kinds += WRITER_KINDS
    return kinds


def _wants(users: Iterable[AbstractBaseUser], kind: str) -> list[AbstractBaseUser]:
    users = [user for user in users if user.is_active and user.email]
    off = set(
        NotificationPreference.objects.filter(user__in=users, **{kind: False}).values_list(
            "user_id", flat=True
        )
    )
    return [user for user in users if user.pk not in off]


def _admin_link(explainer: Explainer) -> str:
    return absolute_url(reverse("admin:explainers_explainer_change", args=[explainer.pk]))


def _send_after_commit(kind: str, recipients, subject: str, body: str) -> None:
    recipients = [user.email for user in recipients]
    if not recipients:
        return
    # A headline is one line, but a crafted form could slip a line break in: headers have none.
    subject = " ".join(f"[Newsroom] {subject}".split())
    # One message per person: nobody learns who else was told.
    messages = [EmailMessage(subject, body, to=[address]) for address in recipients]

    def deliver():
        try:
            get_connection(fail_silently=False).send_messages(messages)
        except Exception as error:  # any mail server failure: the step itself stands
            logger.exception("Could not send the %s notification %r", kind, subject)
            UndeliveredNotification.objects.create(
                subject=subject, recipients=", ".join(recipients), error=str(error)[:1000]
            )

    transaction.on_commit(deliver)


def _editors(kind: str, actor: AbstractBaseUser | None):
    users = get_user_model().objects.with_perm(
        EDITOR_KINDS[kind],
        include_superusers=False,
        # Permissions come from groups and users (ModelBackend); axes' backend grants none.
        backend="django.contrib.auth.backends.ModelBackend",
    )
    if actor is not None:
        users = users.exclude(pk=actor.pk)
    return _wants(users, kind)


def _writer(explainer: Explainer, kind: str, actor: AbstractBaseUser | None):
    writer = explainer.created_by
    if writer is None or (actor is not None and writer.pk == actor.pk):
        return []
    return _wants([writer], kind)


def submitted(explainer: Explainer, *, actor: AbstractBaseUser | None, comment: str) -> None:
    """Tell editors an explainer waits for review (and signers, when its AI text needs it)."""
    who = actor.get_username() if actor else "An import"
    note = f"\n\nTheir note: {comment}" if comment else ""
    body = f"{who} submitted “{explainer.headline}” for review.{note}\n\n{_admin_link(explainer)}"
    _send_after_commit(
        "submitted",
        _editors("submitted", actor),
        f"Waiting for review: {explainer.headline}",
        body,
    )
    if explainer.ai_generated and not explainer.is_signed_off:
        signoff_needed(explainer, actor=actor)


def signoff_needed(explainer: Explainer, *, actor: AbstractBaseUser | None) -> None:
    body = (
        f"The AI-drafted text of “{explainer.headline}” (version {explainer.version}) needs an "
        f"editor's sign-off before it can be published.\n\n{_admin_link(explainer)}"
    )
    _send_after_commit(
        "signoff_needed",
        _editors("signoff_needed", actor),
        f"AI text to sign off: {explainer.headline}",
        body,
    )


def sent_back(explainer: Explainer, *, actor: AbstractBaseUser | None, comment: str) -> None:
    who = actor.get_username() if actor else "An editor"
    body = (
        f"{who} sent “{explainer.headline}” back to draft:\n\n{comment}\n\n{_admin_link(explainer)}"
    )
    _send_after_commit(
        "sent_back",
        _writer(explainer, "sent_back", actor),
        f"Sent back: {explainer.headline}",
        body,
    )


def published(explainer: Explainer, *, actor: AbstractBaseUser | None, scheduled_for) -> None:
    when = f"is scheduled for {scheduled_for:%d %b %Y %H:%M %Z}" if scheduled_for else "is live"
    body = f"“{explainer.headline}” {when}.\n\n{_admin_link(explainer)}"
    _send_after_commit(
        "published",
        _writer(explainer, "published", actor),
        f"{'Scheduled' if scheduled_for else 'Published'}: {explainer.headline}",
        body,
    )
