"""Writes to explainers. Views, the admin and commands call these instead of saving directly.

Every editorial transition is one function here: it checks the user's role and the
explainer's state, makes the change, and logs a WorkflowEvent, so no path (admin form,
bulk action, command) can publish what the rules forbid.
"""

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from .models import (
    CONTENT_FIELDS,
    Explainer,
    Notice,
    PreviewLink,
    SlugRedirect,
    WorkflowEvent,
)

Status = Explainer.Status
Action = WorkflowEvent.Action
SLUG_MAX_LENGTH = Explainer._meta.get_field("slug").max_length


def slug_is_taken(slug: str, *, exclude_pk: int | None = None) -> bool:
    """Used by another explainer, or still redirecting to one."""
    explainers = Explainer.objects.filter(slug=slug)
    redirects = SlugRedirect.objects.filter(old_slug=slug)
    if exclude_pk is not None:
        explainers = explainers.exclude(pk=exclude_pk)
        redirects = redirects.exclude(explainer_id=exclude_pk)
    return explainers.exists() or redirects.exists()


def unique_slug(headline: str, *, exclude_pk: int | None = None) -> str:
    """A URL-safe slug from ``headline`` that no other explainer uses (``-2``, ``-3``…)."""
    base = slugify(headline)[: SLUG_MAX_LENGTH - 4].strip("-") or "explainer"
    if len(slugify(headline)) > len(base) and "-" in base:
        base = base[: base.rindex("-")]  # don't leave half a word at the end of the address
    taken = set(
        Explainer.objects.filter(slug__startswith=base)
        .exclude(pk=exclude_pk)
        .values_list("slug", flat=True)
    ) | set(
        SlugRedirect.objects.filter(old_slug__startswith=base)
        .exclude(explainer_id=exclude_pk)
        .values_list("old_slug", flat=True)
    )
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


def _require(user: AbstractBaseUser | None, permission: str, doing: str) -> None:
    # user=None is the system itself (a management command run by an operator).
    if user is not None and not user.has_perm(f"explainers.{permission}"):
        raise PermissionDenied(f"You do not have permission to {doing}.")


def _require_status(explainer: Explainer, allowed: set[str], doing: str) -> None:
    if explainer.status not in allowed:
        raise ValidationError(
            "An explainer that is %(status)s cannot be %(doing)s.",
            code="invalid_transition",
            params={"status": explainer.get_status_display().lower(), "doing": doing},
        )


def _log(
    explainer: Explainer,
    action: str,
    *,
    user: AbstractBaseUser | None,
    from_status: str,
    comment: str = "",
) -> WorkflowEvent:
    return WorkflowEvent.objects.create(
        explainer=explainer,
        action=action,
        from_status=from_status,
        to_status=explainer.status,
        version=explainer.version,
        user=user,
        comment=comment,
    )


def _save(explainer: Explainer, user: AbstractBaseUser | None, fields: Iterable[str]) -> None:
    if user is not None:
        explainer.updated_by = user
    explainer.save(update_fields={*fields, "updated_by", "updated_at"})


def _move(
    explainer: Explainer, to: str, action: str, *, user: AbstractBaseUser | None, comment: str
) -> None:
    """Change the status, save it and log the step."""
    before, explainer.status = explainer.status, to
    _save(explainer, user, ["status"])
    _log(explainer, action, user=user, from_status=before, comment=comment)


@transaction.atomic
def explainer_submit(
    *, explainer: Explainer, user: AbstractBaseUser | None, comment: str = ""
) -> None:
    """A writer hands a draft to the editors."""
    _require(user, "change_explainer", "submit explainers for review")
    _require_status(explainer, {Status.DRAFT}, "submitted for review")
    _move(explainer, Status.IN_REVIEW, Action.SUBMITTED, user=user, comment=comment)


@transaction.atomic
def explainer_send_back(
    *, explainer: Explainer, user: AbstractBaseUser | None, comment: str
) -> None:
    """An editor returns an explainer in review to its writers, saying what to change."""
    _require(user, "review_explainer", "review explainers")
    _require_status(explainer, {Status.IN_REVIEW}, "sent back")
    if not comment.strip():
        raise ValidationError("Say what needs changing when sending back.", code="comment_required")
    _move(explainer, Status.DRAFT, Action.SENT_BACK, user=user, comment=comment.strip())


@transaction.atomic
def explainer_sign_off(*, explainer: Explainer, user: AbstractBaseUser, comment: str = "") -> None:
    """An editor takes responsibility for the current AI-drafted text.

    The sign-off holds for this version only: any later change to the text voids it.
    """
    if user is None:
        raise ValidationError("A sign-off needs a named editor.", code="signoff_user")
    _require(user, "signoff_explainer", "sign off AI-generated text")
    _require_status(
        explainer,
        {Status.DRAFT, Status.IN_REVIEW, Status.PUBLISHED, Status.UNPUBLISHED},
        "signed off",
    )
    explainer.reviewed_by = user
    explainer.reviewed_at = timezone.now()
    explainer.reviewed_version = explainer.version
    _save(explainer, user, ["reviewed_by", "reviewed_at", "reviewed_version"])
    _log(explainer, Action.SIGNED_OFF, user=user, from_status=explainer.status, comment=comment)


@transaction.atomic
def explainer_publish(
    *,
    explainer: Explainer,
    user: AbstractBaseUser | None,
    at: datetime | None = None,
    expires_at: datetime | None = None,
    comment: str = "",
) -> None:
    """Make the current text what readers see, now or at ``at`` (scheduling).

    Also publishes the pending version of an explainer already live. AI-generated text
    must carry an editor's sign-off of this very version.
    """
    _require(user, "publish_explainer", "publish explainers")
    _require_status(
        explainer,
        {Status.DRAFT, Status.IN_REVIEW, Status.UNPUBLISHED, Status.PUBLISHED},
        "published",
    )
    if explainer.ai_generated and not explainer.is_signed_off:
        raise ValidationError(
            "AI-generated text must be signed off by an editor before it is published; "
            "a change to the text since the last sign-off voids it.",
            code="signoff_required",
        )
    now = timezone.now()
    if at is None:
        # Coming back (or publishing an edit) keeps the first publication time.
        first = explainer.published_at
        at = first if first is not None and first <= now else now
    if expires_at is not None and expires_at <= at:
        raise ValidationError(
            "The expiry time must come after the publication time.", code="expiry"
        )
    before = explainer.status
    explainer.status = Status.PUBLISHED
    explainer.published_at = at
    explainer.expires_at = expires_at
    explainer.public_updated_at = max(at, now)
    _save(explainer, user, ["status", "published_at", "expires_at", "public_updated_at"])
    # The revision simple-history just recorded is the text readers now get.
    revision = explainer.history.latest()
    Explainer.objects.filter(pk=explainer.pk).update(live_revision=revision)
    explainer.live_revision = revision
    action = Action.SCHEDULED if at > now else Action.PUBLISHED
    _log(explainer, action, user=user, from_status=before, comment=comment)


@transaction.atomic
def explainer_unpublish(
    *, explainer: Explainer, user: AbstractBaseUser | None, comment: str = ""
) -> None:
    """Take an explainer off the site (or cancel its schedule)."""
    _require(user, "publish_explainer", "unpublish explainers")
    _require_status(explainer, {Status.PUBLISHED}, "unpublished")
    _move(explainer, Status.UNPUBLISHED, Action.UNPUBLISHED, user=user, comment=comment)


@transaction.atomic
def explainer_archive(
    *, explainer: Explainer, user: AbstractBaseUser | None, comment: str = ""
) -> None:
    """Retire an explainer for good: off the site and out of the working lists."""
    _require(user, "publish_explainer", "archive explainers")
    _require_status(
        explainer,
        {Status.DRAFT, Status.IN_REVIEW, Status.PUBLISHED, Status.UNPUBLISHED},
        "archived",
    )
    _move(explainer, Status.ARCHIVED, Action.ARCHIVED, user=user, comment=comment)


def bulk(transition, *, explainers: Iterable[Explainer], user, **kwargs) -> tuple[int, list[str]]:
    """Apply one transition to many explainers; returns (done, problems) instead of stopping."""
    done, problems = 0, []
    for explainer in explainers:
        try:
            transition(explainer=explainer, user=user, **kwargs)
        except ValidationError as error:
            problems.append(f"“{explainer}”: {' '.join(error.messages)}")
        else:
            done += 1
    return done, problems


@transaction.atomic
def explainer_restore_revision(
    *, explainer: Explainer, user: AbstractBaseUser | None, history_id: int
) -> None:
    """Bring back an old revision's text as the newest draft version; history is kept."""
    _require(user, "change_explainer", "restore revisions")
    _require_status(
        explainer,
        {Status.DRAFT, Status.IN_REVIEW, Status.PUBLISHED, Status.UNPUBLISHED},
        "restored",
    )
    record = explainer.history.get(history_id=history_id)
    for name in CONTENT_FIELDS:
        setattr(explainer, name, getattr(record, name))
    before = explainer.status
    if explainer.status == Status.IN_REVIEW:
        explainer.status = Status.DRAFT
    _save(explainer, user, [*CONTENT_FIELDS, "status"])
    _log(
        explainer,
        Action.RESTORED,
        user=user,
        from_status=before,
        comment=f"Restored the text of version {record.version}.",
    )


def record_slug_change(*, explainer: Explainer, old_slug: str) -> None:
    """Keep an old address of a published explainer working, as a permanent redirect.

    Redirects point at the explainer, not at a slug, so chains collapse by construction.
    """
    if old_slug == explainer.slug:
        return
    SlugRedirect.objects.filter(old_slug=explainer.slug, explainer=explainer).delete()
    if explainer.live_revision_id is not None:
        SlugRedirect.objects.get_or_create(old_slug=old_slug, defaults={"explainer": explainer})


@transaction.atomic
def notice_add(*, explainer: Explainer, user: AbstractBaseUser, kind: str, text: str) -> Notice:
    """Append a correction, clarification, update or editor's note to a published explainer."""
    _require(user, "publish_explainer", "add notices")
    if explainer.live_revision_id is None:
        raise ValidationError(
            "Notices go on published explainers; edit the draft instead.", code="not_published"
        )
    if not text.strip():
        raise ValidationError("Write the notice's text.", code="notice_text")
    notice = Notice.objects.create(
        explainer=explainer, kind=kind, text=text.strip(), created_by=user
    )
    Explainer.objects.filter(pk=explainer.pk).update(
        public_updated_at=notice.created_at, updated_at=notice.created_at
    )
    explainer.public_updated_at = notice.created_at
    _log(
        explainer,
        Action.NOTICE,
        user=user,
        from_status=explainer.status,
        comment=f"{notice.get_kind_display()}: {notice.text}",
    )
    return notice


@transaction.atomic
def notice_hide(*, notice: Notice, user: AbstractBaseUser, reason: str) -> None:
    """Hide a notice from readers; only administrators may, and they must say why."""
    if not user.is_superuser:
        raise PermissionDenied("Only administrators can hide a notice.")
    if not reason.strip():
        raise ValidationError("Say why the notice is hidden.", code="hide_reason")
    notice.hidden_at = timezone.now()
    notice.hidden_by = user
    notice.hidden_reason = reason.strip()
    notice.save(update_fields=["hidden_at", "hidden_by", "hidden_reason"])
    Explainer.objects.filter(pk=notice.explainer_id).update(updated_at=notice.hidden_at)


def _token_hash(token: str) -> str:
    return hashlib.sha256(f"{settings.SECRET_KEY}:{token}".encode()).hexdigest()


@transaction.atomic
def preview_link_create(
    *,
    explainer: Explainer,
    user: AbstractBaseUser,
    days: int = 7,
    label: str = "",
) -> tuple[PreviewLink, str]:
    """A new shareable preview link; returns it and its token, which is not stored."""
    _require(user, "publish_explainer", "share preview links")
    if not 1 <= days <= 90:
        raise ValidationError("A preview link lasts from 1 to 90 days.", code="preview_days")
    token = secrets.token_urlsafe(32)
    link = PreviewLink.objects.create(
        explainer=explainer,
        token_hash=_token_hash(token),
        label=label.strip(),
        expires_at=timezone.now() + timedelta(days=days),
        created_by=user,
    )
    return link, token


def preview_link_revoke(*, link: PreviewLink, user: AbstractBaseUser) -> None:
    _require(user, "publish_explainer", "revoke preview links")
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])


def preview_link_find(token: str) -> PreviewLink | None:
    """The active link for ``token``; None for an unknown, expired or revoked one alike."""
    if not token or len(token) > 100:
        return None
    return (
        PreviewLink.objects.filter(
            Q(revoked_at__isnull=True),
            token_hash=_token_hash(token),
            expires_at__gt=timezone.now(),
        )
        .select_related("explainer", "explainer__topic")
        .first()
    )
