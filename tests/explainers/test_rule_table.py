"""The workflow's one rule table: the admin offers a step exactly when the service accepts it."""

import itertools
from datetime import timedelta

import pytest
from django.contrib import admin
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


# The specification, written out independently of workflow.STEPS: who may take which step,
# from which state, under which AI condition. A dot is a refusal. Steps, one letter each:
#   e edit             s submit for review   b send back       o sign off the AI text
#   p publish          u unpublish           a archive         r restore a revision
#   l remove AI label  n add a notice        h hide a notice   v share preview links
# The operator is a management command (no named user).
EXPECTED = """
state              text       writer        editor        analyst       superuser     operator
draft              human      es.....r....  es..p.ar...v  ............  es..p.ar..hv  es..p.ar....
draft              ai         es.....r....  es.o..arl..v  ............  es.o..arl.hv  es....ar....
draft              ai-signed  es.....r....  es..p.arl..v  ............  es..p.arl.hv  es..p.ar....
in-review          human      e......r....  e.b.p.ar...v  ............  e.b.p.ar..hv  e.b.p.ar....
in-review          ai         e......r....  e.bo..arl..v  ............  e.bo..arl.hv  e.b...ar....
in-review          ai-signed  e......r....  e.b.p.arl..v  ............  e.b.p.arl.hv  e.b.p.ar....
published          human      e......r....  e....uar.n.v  ............  e....uar.nhv  e....uar....
published          ai         e......r....  e..o.uarln.v  ............  e..o.uarlnhv  e....uar....
published          ai-signed  e......r....  e....uarln.v  ............  e....uarlnhv  e....uar....
pending-changes    human      e......r....  e...puar.n.v  ............  e...puar.nhv  e...puar....
pending-changes    ai         e......r....  e..o.uarln.v  ............  e..o.uarlnhv  e....uar....
pending-changes    ai-signed  e......r....  e...puarln.v  ............  e...puarlnhv  e...puar....
scheduled          human      e......r....  e...puar.n.v  ............  e...puar.nhv  e...puar....
scheduled          ai         e......r....  e..o.uarln.v  ............  e..o.uarlnhv  e....uar....
scheduled          ai-signed  e......r....  e...puarln.v  ............  e...puarlnhv  e...puar....
changes-scheduled  human      e......r....  e...puar.n.v  ............  e...puar.nhv  e...puar....
changes-scheduled  ai         e......r....  e..o.uarln.v  ............  e..o.uarlnhv  e....uar....
changes-scheduled  ai-signed  e......r....  e...puarln.v  ............  e...puarlnhv  e...puar....
unpublished        human      e......r....  e...p.ar.n.v  ............  e...p.ar.nhv  e...p.ar....
unpublished        ai         e......r....  e..o..arln.v  ............  e..o..arlnhv  e.....ar....
unpublished        ai-signed  e......r....  e...p.arln.v  ............  e...p.arlnhv  e...p.ar....
archived           human      ............  ............  ............  ..........h.  ............
archived           ai         ............  ............  ............  ..........h.  ............
archived           ai-signed  ............  ............  ............  ..........h.  ............
"""
LETTERS = {
    "e": "edit",
    "s": "submit",
    "b": "send_back",
    "o": "sign_off",
    "p": "publish",
    "u": "unpublish",
    "a": "archive",
    "r": "restore",
    "l": "remove_ai_label",
    "n": "add_notice",
    "h": "hide_notice",
    "v": "share_preview",
}
# The steps that are buttons in the Workflow panel; the others have pages or fields of their own.
PANEL = {"submit", "send_back", "sign_off", "publish", "unpublish", "archive"}
SPEC_STATES = {
    "draft": "draft",
    "in-review": "in review",
    "published": "published",
    "pending-changes": "published, changes pending",
    "scheduled": "scheduled",
    "changes-scheduled": "published, changes scheduled",
    "unpublished": "unpublished",
    "archived": "archived",
}
SPEC_TEXT = {"human": AI[0], "ai": AI[1], "ai-signed": AI[2]}


def _expected() -> dict[tuple[str, str], dict[str, set[str]]]:
    header, *rows = EXPECTED.strip().splitlines()
    roles = header.split()[2:]
    table = {}
    for row in rows:
        state, text, *masks = row.split()
        table[(state, text)] = {
            role: {LETTERS[letter] for letter in mask if letter != "."}
            for role, mask in zip(roles, masks, strict=True)
        }
    return table


SPEC = _expected()
SPEC_ROLES = {**ROLES, "operator": lambda: None}


def test_the_written_table_covers_every_role_state_and_text():
    """The specification has one row per state and AI condition, one column per role."""
    assert set(SPEC) == set(itertools.product(SPEC_STATES, SPEC_TEXT))
    assert all(set(row) == set(SPEC_ROLES) for row in SPEC.values())
    assert set(LETTERS.values()) == set(workflow.STEPS)


@pytest.mark.parametrize(("state", "text"), list(SPEC))
def test_the_rule_table_allows_exactly_the_written_steps(state, text):
    """workflow.allows answers each role's steps exactly as the written table says."""
    explainer = build(SPEC_STATES[state], SPEC_TEXT[text])
    for role, make in SPEC_ROLES.items():
        user = make()
        allowed = {step for step in workflow.STEPS if workflow.allows(explainer, user, step)}
        assert allowed == SPEC[(state, text)][role], (role, state, text)


@pytest.mark.parametrize(("state", "text"), list(SPEC))
def test_the_workflow_panel_offers_exactly_the_written_panel_steps(state, text):
    """The steps the admin's Workflow panel asks for are the table's panel steps, in order."""
    explainer = build(SPEC_STATES[state], SPEC_TEXT[text])
    for role, make in SPEC_ROLES.items():
        offered_steps = [step.name for step in workflow.available_steps(explainer, make())]
        expected = SPEC[(state, text)][role] & PANEL
        assert offered_steps == [name for name in workflow.STEPS if name in expected], (
            role,
            state,
            text,
        )


@pytest.mark.parametrize(("state", "text"), list(SPEC))
def test_the_services_and_commands_accept_exactly_the_written_steps(state, text):
    """The services (and so the commands, as the operator) take exactly the written steps."""
    explainer = build(SPEC_STATES[state], SPEC_TEXT[text])
    for role, make in SPEC_ROLES.items():
        user = make()
        accepts = {step for step in CHECKED_STEPS if accepted(step, explainer, user)}
        assert accepts == SPEC[(state, text)][role] & set(CHECKED_STEPS), (role, state, text)


@pytest.mark.parametrize(("state", "text"), list(SPEC))
def test_the_change_form_is_editable_exactly_where_the_table_allows_edit(state, text, rf):
    """The admin gives a role the change form exactly where the table lets it edit."""
    model_admin = admin.site.get_model_admin(Explainer)
    explainer = build(SPEC_STATES[state], SPEC_TEXT[text])
    for role, make in ROLES.items():
        request = rf.get("/")
        request.user = make()
        editable = model_admin.has_change_permission(request, explainer)
        assert editable == ("edit" in SPEC[(state, text)][role]), (role, state, text)
