"""Writes to explainers. Views, the admin and commands call these instead of saving directly.

Every editorial step is one function here: it asks the workflow table (``workflow.py``)
whether this user may take it now, makes the change, and logs a WorkflowEvent, so no path
(admin form, bulk action, command) can do what the rules forbid.
"""

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from audit import services as audit

from . import notifications, renditions, search, workflow
from .models import (
    VERSIONED_FIELDS,
    Explainer,
    Notice,
    NotificationPreference,
    PreviewLink,
    SlugRedirect,
    Source,
    Topic,
    WorkflowEvent,
)

Status = Explainer.Status
Action = WorkflowEvent.Action
SLUG_MAX_LENGTH = Explainer._meta.get_field("slug").max_length


def _slugs_in_use(lookup: str, value: str, *, exclude_pk: int | None) -> set[str]:
    """Slugs other explainers hold: working, live, scheduled, or kept as a redirect."""
    explainers = Explainer.objects.exclude(pk=exclude_pk)
    found = set(
        SlugRedirect.objects.exclude(explainer_id=exclude_pk)
        .filter(**{f"old_slug__{lookup}": value})
        .values_list("old_slug", flat=True)
    )
    for field in ("slug", "live_revision__slug", "scheduled_revision__slug"):
        found.update(
            explainers.filter(**{f"{field}__{lookup}": value}).values_list(field, flat=True)
        )
    return found


def slug_is_taken(slug: str, *, exclude_pk: int | None = None) -> bool:
    """Used by another explainer (as written, live or scheduled), or redirecting to one."""
    return bool(_slugs_in_use("exact", slug, exclude_pk=exclude_pk))


def unique_slug(headline: str, *, exclude_pk: int | None = None) -> str:
    """A URL-safe slug from ``headline`` that no other explainer uses (``-2``, ``-3``…)."""
    base = slugify(headline)[: SLUG_MAX_LENGTH - 4].strip("-") or "explainer"
    if len(slugify(headline)) > len(base) and "-" in base:
        base = base[: base.rindex("-")]  # don't leave half a word at the end of the address
    taken = _slugs_in_use("startswith", base, exclude_pk=exclude_pk)
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


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


def _audited(explainer: Explainer) -> dict:
    """What the audit log keeps of a workflow step: the version and the times it set."""
    return {
        "version": explainer.version,
        "status": explainer.status,
        "published_at": explainer.published_at,
        "scheduled_at": explainer.scheduled_at,
        "expires_at": explainer.expires_at,
    }


def _link(link: PreviewLink) -> dict:
    """A preview link as the audit log keeps it: never its token."""
    return {"link": link.pk, "label": link.label, "expires_at": link.expires_at}


def _notice(notice: Notice) -> dict:
    """A notice as the audit log keeps it: its words, as readers saw them."""
    return {"notice": notice.pk, "kind": notice.kind, "text": notice.text}


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


def source_snapshot(explainer: Explainer) -> list[dict]:
    """The explainer's Source rows as the version records them: label and address, in order."""
    return [
        {"label": source.label, "url": source.url}
        for source in Source.objects.filter(explainer=explainer).order_by("position", "id")
    ]


@transaction.atomic
def explainer_record_edit(
    *, explainer: Explainer, user: AbstractBaseUser | None, ai_label_reason: str = ""
) -> None:
    """Record an edit saved in the admin, sources included, as one new version.

    On a live explainer the edit waits for an editor to publish it. Removing the AI label
    takes a user who may sign off AI text, and a reason, which the timeline keeps; removing
    the AI-generated image label takes such a user too.
    """
    removes_ai_label = bool(explainer.stored("ai_generated")) and not explainer.ai_generated
    removes_ai_image_label = (
        bool(explainer.stored("image_ai_generated")) and not explainer.image_ai_generated
    )
    if removes_ai_image_label and not workflow.may(user, "remove_ai_label"):
        raise PermissionDenied(
            "Only an editor who may sign off AI content can remove the AI-generated image label."
        )
    if removes_ai_label:
        if not workflow.may(user, "remove_ai_label"):
            raise PermissionDenied(
                "Only an editor who may sign off AI text can remove the AI label."
            )
        if not ai_label_reason.strip():
            raise ValidationError(
                "Say why the text is not AI generated.", code="ai_label_reason_required"
            )
    explainer.source_list = source_snapshot(explainer)
    if user is not None:
        explainer.updated_by = user
    was_signed_off = explainer.is_signed_off
    explainer.save()
    # A new or changed image gets its renditions once saved, so previews and publishing have them.
    renditions.after_commit(renditions.ensure_logged, explainer.pk)
    if was_signed_off and not explainer.is_signed_off and explainer.live_revision_id:
        # An edit to signed-off AI text that readers see voids the sign-off: editors must know.
        notifications.signoff_needed(explainer, actor=user)
    if removes_ai_label:
        _log(
            explainer,
            Action.AI_LABEL_REMOVED,
            user=user,
            from_status=explainer.status,
            comment=ai_label_reason.strip(),
        )


@transaction.atomic
def explainer_submit(
    *, explainer: Explainer, user: AbstractBaseUser | None, comment: str = ""
) -> None:
    """A writer hands a draft to the editors."""
    workflow.check(explainer, user, "submit")
    _move(explainer, Status.IN_REVIEW, Action.SUBMITTED, user=user, comment=comment)
    notifications.submitted(explainer, actor=user, comment=comment)


@transaction.atomic
def explainer_send_back(
    *, explainer: Explainer, user: AbstractBaseUser | None, comment: str
) -> None:
    """An editor returns an explainer in review to its writers, saying what to change."""
    workflow.check(explainer, user, "send_back")
    workflow.check_comment("send_back", comment)
    _move(explainer, Status.DRAFT, Action.SENT_BACK, user=user, comment=comment.strip())
    notifications.sent_back(explainer, actor=user, comment=comment.strip())


@transaction.atomic
def explainer_sign_off(*, explainer: Explainer, user: AbstractBaseUser, comment: str = "") -> None:
    """An editor takes responsibility for the current AI-drafted text.

    The sign-off holds for this version only: any later change to the text voids it.
    """
    workflow.check(explainer, user, "sign_off")
    explainer.reviewed_by = user
    explainer.reviewed_at = timezone.now()
    explainer.reviewed_version = explainer.version
    _save(explainer, user, ["reviewed_by", "reviewed_at", "reviewed_version"])
    _log(explainer, Action.SIGNED_OFF, user=user, from_status=explainer.status, comment=comment)
    audit.record(action="signed_off", actor=user, obj=explainer, details=_audited(explainer))


def _keep_old_address(explainer: Explainer, old, new) -> None:
    """A published slug that changes keeps answering, with a permanent redirect.

    Redirects point at the explainer, not at a slug, so chains collapse by construction.
    """
    SlugRedirect.objects.filter(old_slug=new.slug, explainer=explainer).delete()
    if old is not None and old.slug != new.slug:
        SlugRedirect.objects.get_or_create(old_slug=old.slug, defaults={"explainer": explainer})


def _settle(explainer: Explainer) -> None:
    """Make scheduled changes whose time has come the live revision, before a new step.

    Readers get them from their time on regardless (``public_revision``); this only
    tidies the record, so nothing depends on when it runs.
    """
    if not explainer.scheduled_revision_id or explainer.scheduled_at > timezone.now():
        return
    old, new = explainer.live_revision, explainer.scheduled_revision
    _keep_old_address(explainer, old, new)
    fields = {
        "live_revision": new,
        "scheduled_revision": None,
        "scheduled_at": None,
        "public_updated_at": explainer.reader_updated_at,
    }
    Explainer.objects.filter(pk=explainer.pk).update(**fields)
    for name, value in fields.items():
        setattr(explainer, name, value)


def _cancel_schedule(explainer: Explainer) -> None:
    if explainer.scheduled_revision_id:
        Explainer.objects.filter(pk=explainer.pk).update(scheduled_revision=None, scheduled_at=None)
        explainer.scheduled_revision = explainer.scheduled_at = None


def _publish_renditions(explainer: Explainer, revision) -> None:
    """Readers get the revision's renditions from the moment it is theirs (made now if they
    are missing); once committed, those of a replaced image are deleted."""
    renditions.ensure_logged(revision)
    renditions.after_commit(renditions.prune, explainer.pk)


@transaction.atomic
def explainer_publish(
    *,
    explainer: Explainer,
    user: AbstractBaseUser | None,
    at: datetime | None = None,
    expires_at: datetime | None = None,
    comment: str = "",
) -> None:
    """Make the current version what readers see, now or at ``at`` (scheduling).

    Also publishes the pending version of an explainer already live; scheduled for later,
    readers keep the live version until then. AI-generated text must carry an editor's
    sign-off of this very version.
    """
    workflow.check(explainer, user, "publish")
    _settle(explainer)
    if slug_is_taken(explainer.slug, exclude_pk=explainer.pk):
        raise ValidationError(
            "Another explainer uses the slug “%(slug)s” now. Change it before publishing.",
            code="slug_taken",
            params={"slug": explainer.slug},
        )
    now = timezone.now()
    live_now = explainer.is_public
    if at is None or (live_now and at <= now):
        # Coming back (or publishing an edit) keeps the first publication time.
        first = explainer.published_at
        at = first if first is not None and first <= now else now
    # A live explainer's expiry must still be ahead; otherwise it follows the publication.
    floor = max(at, now) if live_now else at
    if expires_at is not None and expires_at <= floor:
        raise ValidationError(
            "The expiry time must come after the publication time.", code="expiry"
        )
    before = explainer.status
    if live_now and at > now:
        # Changes to a live explainer: the live version stays online until ``at``.
        explainer.scheduled_at = at
        explainer.expires_at = expires_at
        _save(explainer, user, ["scheduled_at", "expires_at"])
        revision = explainer.history.latest()
        Explainer.objects.filter(pk=explainer.pk).update(scheduled_revision=revision)
        explainer.scheduled_revision = revision
        _publish_renditions(explainer, revision)
        search.index_revision(explainer=explainer, revision=revision)
        _log(explainer, Action.SCHEDULED, user=user, from_status=before, comment=comment)
        audit.record(action="scheduled", actor=user, obj=explainer, details=_audited(explainer))
        notifications.published(explainer, actor=user, scheduled_for=at)
        return
    previous = explainer.live_revision
    explainer.status = Status.PUBLISHED
    explainer.published_at = at
    explainer.expires_at = expires_at
    explainer.public_updated_at = max(at, now)
    explainer.scheduled_revision = explainer.scheduled_at = None
    _save(
        explainer,
        user,
        [
            "status",
            "published_at",
            "expires_at",
            "public_updated_at",
            "scheduled_revision",
            "scheduled_at",
        ],
    )
    # The revision simple-history just recorded is the version readers now get.
    revision = explainer.history.latest()
    Explainer.objects.filter(pk=explainer.pk).update(live_revision=revision)
    explainer.live_revision = revision
    _publish_renditions(explainer, revision)
    search.index_revision(explainer=explainer, revision=revision)
    _keep_old_address(explainer, previous, revision)
    action = Action.SCHEDULED if at > now else Action.PUBLISHED
    _log(explainer, action, user=user, from_status=before, comment=comment)
    audit.record(action=action, actor=user, obj=explainer, details=_audited(explainer))
    notifications.published(explainer, actor=user, scheduled_for=at if at > now else None)


def _revoke_preview_links(explainer: Explainer, user: AbstractBaseUser | None) -> None:
    """Shared previews stop working when the explainer leaves the site; the timeline says so."""
    revoked = (
        PreviewLink.objects.filter(explainer=explainer).active().update(revoked_at=timezone.now())
    )
    if revoked:
        _log(
            explainer,
            Action.PREVIEWS_REVOKED,
            user=user,
            from_status=explainer.status,
            comment=f"{revoked} active preview link{'s' if revoked != 1 else ''} stopped working.",
        )
        audit.record(
            action="preview_link_revoked", actor=user, obj=explainer, details={"links": revoked}
        )


@transaction.atomic
def explainer_unpublish(
    *, explainer: Explainer, user: AbstractBaseUser | None, comment: str = ""
) -> None:
    """Take an explainer off the site (or cancel its schedule)."""
    workflow.check(explainer, user, "unpublish")
    _settle(explainer)
    _cancel_schedule(explainer)
    _move(explainer, Status.UNPUBLISHED, Action.UNPUBLISHED, user=user, comment=comment)
    audit.record(action="unpublished", actor=user, obj=explainer, details=_audited(explainer))
    _revoke_preview_links(explainer, user)
    # The image addresses readers saw stop working too.
    renditions.after_commit(renditions.withdraw, explainer.pk)


@transaction.atomic
def explainer_archive(
    *, explainer: Explainer, user: AbstractBaseUser | None, comment: str = ""
) -> None:
    """Retire an explainer for good: off the site and out of the working lists."""
    workflow.check(explainer, user, "archive")
    _settle(explainer)
    _cancel_schedule(explainer)
    _move(explainer, Status.ARCHIVED, Action.ARCHIVED, user=user, comment=comment)
    audit.record(action="archived", actor=user, obj=explainer, details=_audited(explainer))
    _revoke_preview_links(explainer, user)
    renditions.after_commit(renditions.withdraw, explainer.pk)


# The Workflow panel's steps, by name; which of them a user may take is workflow.py's to say.
TRANSITIONS = {
    "submit": explainer_submit,
    "send_back": explainer_send_back,
    "sign_off": explainer_sign_off,
    "publish": explainer_publish,
    "unpublish": explainer_unpublish,
    "archive": explainer_archive,
}


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
    """Bring back an old revision (text, slug, topic, image, sources) as the newest version.

    History is kept. The AI label is never removed this way: that takes an editor's reason.
    """
    workflow.check(explainer, user, "restore")
    record = explainer.history.get(history_id=history_id)
    notes = [f"Restored version {record.version}."]
    fields = [Explainer._meta.get_field(name).attname for name in VERSIONED_FIELDS]
    for attname in fields:
        setattr(explainer, attname, getattr(record, attname))
    explainer.image_width, explainer.image_height = record.image_width, record.image_height
    if explainer.topic_id is not None and not Topic.objects.filter(pk=explainer.topic_id).exists():
        explainer.topic_id = None
        notes.append("Its topic no longer exists; choose one.")
    if slug_is_taken(explainer.slug, exclude_pk=explainer.pk):
        explainer.slug = Explainer.objects.values_list("slug", flat=True).get(pk=explainer.pk)
        notes.append("Its slug is used by another explainer now, so the current one stays.")
    if explainer.stored("ai_generated") and not record.ai_generated:
        explainer.ai_generated = True
        notes.append("The AI label stays: removing it takes an editor's reason.")
    if explainer.stored("image_ai_generated") and not record.image_ai_generated:
        explainer.image_ai_generated = True
        notes.append("The AI-generated image label stays: removing it takes an editor.")
    Source.objects.filter(explainer=explainer).delete()
    Source.objects.bulk_create(
        Source(explainer=explainer, label=item["label"], url=item["url"], position=position)
        for position, item in enumerate(record.source_list)
    )
    before = explainer.status
    if explainer.status == Status.IN_REVIEW:
        explainer.status = Status.DRAFT
    _save(explainer, user, [*fields, "image_width", "image_height", "status"])
    _log(explainer, Action.RESTORED, user=user, from_status=before, comment=" ".join(notes))
    renditions.after_commit(renditions.ensure_logged, explainer.pk)


@transaction.atomic
def notice_add(*, explainer: Explainer, user: AbstractBaseUser, kind: str, text: str) -> Notice:
    """Append a correction, clarification, update or editor's note to a published explainer."""
    workflow.check(explainer, user, "add_notice")
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
    audit.record(action="notice_added", actor=user, obj=explainer, details=_notice(notice))
    return notice


@transaction.atomic
def notice_hide(*, notice: Notice, user: AbstractBaseUser, reason: str) -> None:
    """Hide a notice from readers; only administrators may, and they must say why."""
    workflow.check(notice.explainer, user, "hide_notice")
    if not reason.strip():
        raise ValidationError("Say why the notice is hidden.", code="hide_reason")
    # Locked, so that of two admins hiding it at once the second is refused too: the record
    # of who hid it and why is written once.
    if Notice.objects.select_for_update().get(pk=notice.pk).hidden_at is not None:
        raise ValidationError("That notice is already hidden.", code="already_hidden")
    notice.hidden_at = timezone.now()
    notice.hidden_by = user
    notice.hidden_reason = reason.strip()
    notice.save(update_fields=["hidden_at", "hidden_by", "hidden_reason"])
    Explainer.objects.filter(pk=notice.explainer_id).update(updated_at=notice.hidden_at)
    audit.record(
        action="notice_hidden",
        actor=user,
        obj=notice.explainer,
        details={**_notice(notice), "reason": notice.hidden_reason},
    )


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
    workflow.check(explainer, user, "share_preview")
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
    audit.record(action="preview_link_created", actor=user, obj=explainer, details=_link(link))
    return link, token


def preview_link_revoke(*, link: PreviewLink, user: AbstractBaseUser) -> None:
    if not workflow.may(user, "share_preview"):
        raise PermissionDenied("You do not have permission to revoke preview links.")
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
        audit.record(
            action="preview_link_revoked", actor=user, obj=link.explainer, details=_link(link)
        )


def notification_preference_set(*, user: AbstractBaseUser, **kinds: bool) -> None:
    """Turn kinds of workflow email on or off for ``user`` (see notifications.KINDS)."""
    unknown = set(kinds) - set(notifications.KINDS)
    if unknown:
        raise ValueError(f"Unknown notification kinds: {sorted(unknown)}")
    NotificationPreference.objects.update_or_create(user=user, defaults=kinds)


def preview_link_find(token: str) -> PreviewLink | None:
    """The active link for ``token``; None for an unknown, expired or revoked one alike."""
    if not token or len(token) > 100:
        return None
    return PreviewLink.objects.active().filter(token_hash=_token_hash(token)).first()
