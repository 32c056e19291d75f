"""The workflow's one rule table: the admin offers a step exactly when the service accepts it."""

import itertools
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from explainers import services, workflow
from explainers.models import Explainer, Notice
from tests.explainers.admin_client import logged_in, url
from tests.factories import ExplainerFactory, UserFactory, analyst, editor, writer

pytestmark = pytest.mark.django_db

Status = Explainer.Status


ROLES = {
    "writer": writer,
    "editor": editor,
    "analyst": analyst,
    "superuser": lambda: UserFactory(username="root", is_staff=True, is_superuser=True),
}


def _edit(explainer: Explainer) -> None:
    explainer.whats_next = f"{explainer.whats_next} More."
    explainer.save()


def _publish(explainer: Explainer, **kwargs) -> None:
    if explainer.ai_generated:
        _sign(explainer)
    services.explainer_publish(explainer=explainer, user=None, **kwargs)


def _sign(explainer: Explainer) -> None:
    Explainer.objects.filter(pk=explainer.pk).update(
        reviewed_version=explainer.version, reviewed_by=editor("signer")
    )
    explainer.refresh_from_db()


def _tomorrow() -> dict:
    return {"at": timezone.now() + timedelta(days=1)}


# Each state as the workflow reaches it, built with the services.
STATES = {
    "draft": [],
    "in review": [lambda e: services.explainer_submit(explainer=e, user=None)],
    "published": [_publish],
    "published, changes pending": [_publish, _edit],
    "scheduled": [lambda e: _publish(e, **_tomorrow())],
    "published, changes scheduled": [_publish, _edit, lambda e: _publish(e, **_tomorrow())],
    "unpublished": [_publish, lambda e: services.explainer_unpublish(explainer=e, user=None)],
    "archived": [lambda e: services.explainer_archive(explainer=e, user=None)],
}
AI = ("written by people", "AI, not signed off", "AI, signed off")


def build(state: str, ai: str) -> Explainer:
    explainer = ExplainerFactory(ai_generated=ai != AI[0])
    for step in STATES[state]:
        step(explainer)
        explainer.refresh_from_db()
    if ai == AI[1]:
        Explainer.objects.filter(pk=explainer.pk).update(reviewed_version=None, reviewed_by=None)
    elif ai == AI[2]:
        _sign(explainer)
    return Explainer.objects.with_public_revision().get(pk=explainer.pk)


class Rollback(Exception):
    pass


def accepted(step: str, explainer: Explainer, user) -> bool:
    """The service takes the step (then everything is rolled back)."""
    fresh = Explainer.objects.with_public_revision().get(pk=explainer.pk)
    calls = {
        **{
            name: lambda name=name: services.TRANSITIONS[name](
                explainer=fresh, user=user, comment="Because."
            )
            for name in services.TRANSITIONS
        },
        "restore": lambda: services.explainer_restore_revision(
            explainer=fresh, user=user, history_id=fresh.history.earliest().history_id
        ),
        "add_notice": lambda: services.notice_add(
            explainer=fresh, user=user, kind="correction", text="Fixed."
        ),
        "share_preview": lambda: services.preview_link_create(explainer=fresh, user=user),
        "hide_notice": lambda: services.notice_hide(
            notice=Notice.objects.create(
                explainer=fresh, kind="correction", text="Wrong.", created_by=editor("noter")
            ),
            user=user,
            reason="Posted on the wrong explainer.",
        ),
    }
    try:
        with transaction.atomic():
            calls[step]()
            raise Rollback
    except Rollback:
        return True
    except (PermissionDenied, ValidationError):
        return False


def offered(client, explainer: Explainer) -> set[str]:
    """Every step the admin shows this user: panel buttons, restore, notices, previews."""
    steps = {name for name, *_ in client.get(url("change", explainer)).context["workflow_steps"]}
    pages = {
        "restore": ("revisions", "can_restore"),
        "add_notice": ("notices", "can_add"),
        "share_preview": ("preview_links", "can_share"),
        "hide_notice": ("notices", "can_hide"),
    }
    for step, (page, flag) in pages.items():
        if client.get(url(page, explainer)).context[flag]:
            steps.add(step)
    return steps


CHECKED_STEPS = (
    *services.TRANSITIONS,
    "restore",
    "add_notice",
    "share_preview",
    "hide_notice",
)


@pytest.mark.parametrize(("state", "ai"), list(itertools.product(STATES, AI)))
def test_admin_offers_exactly_what_the_services_accept(state, ai):
    """For every role, state and AI condition, offered steps == accepted steps."""
    explainer = build(state, ai)
    for role, make in ROLES.items():
        user = make()
        client = logged_in(user)
        accepts = {step for step in CHECKED_STEPS if accepted(step, explainer, user)}
        assert offered(client, explainer) == accepts, (role, state, ai)
        # The table's own answer is the same again: no second copy anywhere.
        assert {step for step in CHECKED_STEPS if workflow.allows(explainer, user, step)} == accepts


def test_bulk_actions_follow_the_table():
    """The changelist offers each bulk step to exactly the roles the table gives it."""
    for make in ROLES.values():
        user = make()
        form = logged_in(user).get("/admin/explainers/explainer/").context["action_form"]
        names = {value for value, _ in form.fields["action"].choices} if form else set()
        for step in ("submit", "publish", "unpublish", "archive"):
            assert (f"{step}_selected" in names) == workflow.may(user, step), (user, step)


def test_system_may_not_sign_off():
    """A command without a named editor cannot sign off AI text."""
    explainer = build("in review", AI[1])
    assert not accepted("sign_off", explainer, None)
    assert accepted("publish", build("in review", AI[0]), None)
