"""The editorial workflow's rules, written once.

Each step says who may take it (a permission), from which states, and under which
condition. ``available_steps(explainer, user)`` answers "what may this user do now";
``check(...)`` raises the reason a step is refused. The services call ``check`` before
they write, and the admin's Workflow panel and form, its bulk actions and the import
command ask the same table, so what the admin offers is exactly what the services accept.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError

from .models import HEADLINE_PLACEHOLDER, Explainer

Status = Explainer.Status
NOT_ARCHIVED = frozenset(Status) - {Status.ARCHIVED}


def _nothing(explainer: Explainer) -> ValidationError | None:
    return None


def _unsigned_ai_text(explainer: Explainer) -> ValidationError | None:
    if explainer.ai_generated and not explainer.is_signed_off:
        return None
    return ValidationError(
        "There is no AI-drafted text waiting for a sign-off.", code="nothing_to_sign_off"
    )


def _letters(text: str) -> str:
    """``text`` without its white space, in one case: the placeholder however it was typed."""
    return "".join(text.split()).casefold()


def _unpublishable_headline(headline: str) -> ValidationError | None:
    """Why ``headline`` may not go to readers: missing, the import's placeholder, or cut off."""
    headline = headline.strip()
    if not headline or _letters(headline) == _letters(HEADLINE_PLACEHOLDER):
        return ValidationError(
            "The explainer has no headline yet: write one before publishing.",
            code="headline_required",
        )
    if headline.endswith(("…", "...")):
        # Older imports cut a long first sentence to make a headline; readers must not get one.
        return ValidationError(
            "The headline ends in “…”, as a cut-off sentence does: write a complete headline "
            "before publishing.",
            code="headline_cut",
        )
    return None


def _publishable(explainer: Explainer) -> ValidationError | None:
    headline_error = _unpublishable_headline(explainer.headline)
    if headline_error is not None:
        return headline_error
    if explainer.ai_generated and not explainer.is_signed_off:
        return ValidationError(
            "AI-generated text must be signed off by an editor before it is published; "
            "a change to the text since the last sign-off voids it.",
            code="signoff_required",
        )
    if (
        explainer.status == Status.PUBLISHED
        and not explainer.has_pending_changes
        and not explainer.is_scheduled
    ):
        return ValidationError(
            "Nothing new to publish: readers already see this version.", code="nothing_new"
        )
    return None


def _has_live_version(explainer: Explainer) -> ValidationError | None:
    if explainer.live_revision_id is None:
        return ValidationError(
            "Notices go on published explainers; edit the draft instead.", code="not_published"
        )
    return None


def _ai_labelled(explainer: Explainer) -> ValidationError | None:
    if explainer.ai_generated:
        return None
    return ValidationError("The text is not marked as AI generated.", code="not_ai")


@dataclass(frozen=True)
class Step:
    name: str
    label: str
    # Codename of the explainers permission that lets a user take this step.
    permission: str
    statuses: frozenset[str]
    # How a refusal for the wrong state reads: "An explainer that is draft cannot be …".
    refused_as: str
    # What else must hold; returns the error that says why not, or None.
    condition: Callable[[Explainer], ValidationError | None] = _nothing
    # Steps a management command (user=None, the operator) may take.
    system_may: bool = True
    # Shown as a button in the Workflow panel (the others have pages or fields of their own).
    in_panel: bool = True
    # What a user whose role lacks the permission is told, when the default would mislead.
    denied: str = ""
    # For a step refused without a comment: what the comment must say.
    comment_required: str = ""
    # What the step does to readers, for a step that takes the explainer away from them:
    # the admin styles it as destructive and asks before taking it.
    warning: str = ""

    def label_for(self, explainer: Explainer) -> str:
        if self.name == "publish" and explainer.live_revision_id:
            return "Publish changes"
        return self.label

    def comment_refusal(self, comment: str) -> ValidationError | None:
        """Why ``comment`` will not do for this step, or None if it will."""
        if self.comment_required and not comment.strip():
            return ValidationError(self.comment_required, code="comment_required")
        return None

    def permitted(self, user: AbstractBaseUser | None) -> bool:
        """The user's role allows this step at all (None is the operator running a command)."""
        if user is None:
            return self.system_may
        return user.has_perm(f"explainers.{self.permission}")

    def refusal(
        self, explainer: Explainer, user: AbstractBaseUser | None
    ) -> PermissionDenied | ValidationError | None:
        """Why ``user`` may not take this step on ``explainer`` now, or None if they may."""
        if not self.permitted(user):
            if user is None:
                return ValidationError(f"“{self.label}” needs a named user.", code="user_required")
            return PermissionDenied(
                self.denied or f"You do not have permission to {self.label.lower()}."
            )
        if explainer.status not in self.statuses:
            return ValidationError(
                "An explainer that is %(status)s cannot be %(doing)s.",
                code="invalid_transition",
                params={"status": explainer.get_status_display().lower(), "doing": self.refused_as},
            )
        return self.condition(explainer)


STEPS: dict[str, Step] = {
    step.name: step
    for step in (
        Step(
            "edit",
            "Edit",
            "change_explainer",
            NOT_ARCHIVED,
            "edited",
            in_panel=False,
        ),
        Step(
            "submit",
            "Submit for review",
            "change_explainer",
            frozenset({Status.DRAFT}),
            "submitted for review",
        ),
        Step(
            "send_back",
            "Send back to draft",
            "review_explainer",
            frozenset({Status.IN_REVIEW}),
            "sent back",
            comment_required="Say what needs changing when sending back.",
        ),
        Step(
            "sign_off",
            "Sign off the AI-drafted text",
            "signoff_explainer",
            NOT_ARCHIVED,
            "signed off",
            condition=_unsigned_ai_text,
            system_may=False,
        ),
        Step(
            "publish",
            "Publish",
            "publish_explainer",
            NOT_ARCHIVED,
            "published",
            condition=_publishable,
        ),
        Step(
            "unpublish",
            "Unpublish",
            "publish_explainer",
            frozenset({Status.PUBLISHED}),
            "unpublished",
            warning="Readers can no longer open it, and shared preview links stop working. "
            "An editor can publish it again.",
        ),
        Step(
            "archive",
            "Archive",
            "publish_explainer",
            NOT_ARCHIVED,
            "archived",
            warning="It leaves the site and the working lists for good: an archived explainer "
            "cannot be edited or published again, and shared preview links stop working.",
        ),
        Step(
            "restore",
            "Restore as new draft",
            "change_explainer",
            NOT_ARCHIVED,
            "restored",
            in_panel=False,
        ),
        Step(
            "remove_ai_label",
            "Remove the AI label",
            "signoff_explainer",
            NOT_ARCHIVED,
            "changed",
            condition=_ai_labelled,
            system_may=False,
            in_panel=False,
        ),
        Step(
            "add_notice",
            "Add a notice",
            "publish_explainer",
            frozenset(Status),
            "given a notice",
            condition=_has_live_version,
            system_may=False,
            in_panel=False,
        ),
        Step(
            # No group has this permission: only administrators (superusers) hide notices.
            "hide_notice",
            "Hide a notice",
            "hide_notice",
            frozenset(Status),
            "changed",
            system_may=False,
            in_panel=False,
            denied="Only administrators can hide a notice.",
        ),
        Step(
            "share_preview",
            "Share preview links",
            "publish_explainer",
            NOT_ARCHIVED,
            "shared",
            system_may=False,
            in_panel=False,
        ),
    )
}


def may(user: AbstractBaseUser | None, step: str) -> bool:
    """The user's role allows ``step`` on some explainer (for menus and bulk actions)."""
    return STEPS[step].permitted(user)


def allows(explainer: Explainer, user: AbstractBaseUser | None, step: str) -> bool:
    return STEPS[step].refusal(explainer, user) is None


def check(explainer: Explainer, user: AbstractBaseUser | None, step: str) -> None:
    """Raise PermissionDenied or ValidationError saying why ``user`` may not take ``step``."""
    error = STEPS[step].refusal(explainer, user)
    if error is not None:
        raise error


def check_comment(step: str, comment: str) -> None:
    """Raise ValidationError if ``step`` needs a comment and ``comment`` is empty."""
    error = STEPS[step].comment_refusal(comment)
    if error is not None:
        raise error


def available_steps(explainer: Explainer, user: AbstractBaseUser | None) -> list[Step]:
    """The Workflow panel's steps this user may take on this explainer now, in order."""
    return [
        step for step in STEPS.values() if step.in_panel and step.refusal(explainer, user) is None
    ]


# Conditions that mean "nothing to do", not "something to fix first": the panel keeps quiet.
NOTHING_TO_DO = frozenset({"nothing_new", "nothing_to_sign_off"})


def blocked_steps(explainer: Explainer, user: AbstractBaseUser | None) -> list[tuple[Step, str]]:
    """Panel steps the user's role allows from this state but a condition blocks, and why."""
    blocked = []
    for step in STEPS.values():
        if step.in_panel and step.permitted(user) and explainer.status in step.statuses:
            error = step.condition(explainer)
            if error is not None and error.code not in NOTHING_TO_DO:
                blocked.append((step, " ".join(error.messages)))
    return blocked
