import json
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.admin import helpers
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from explainers import services
from explainers.models import Explainer, Notice
from feedback import export
from feedback.export_audit import audited_export
from tests.factories import ExplainerFactory, TopicFactory, UserFactory, editor, writer
from tests.feedback.factories import RatingFactory
from tests.staff import PASSWORD, log_in

pytestmark = pytest.mark.django_db

Action = AuditEvent.Action


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def only(action: str) -> AuditEvent:
    (event,) = events(action)
    return event


def said(event: AuditEvent) -> dict:
    """The details, less the system account a test run adds (no request: as a command)."""
    return {key: value for key, value in event.details.items() if key != "run_by"}


# Logins.


def test_a_login_is_recorded_with_who_and_where(client):
    """Who logged in, when, from which address."""
    user = editor()
    log_in(client, "editor", REMOTE_ADDR="198.51.100.7")
    event = only(Action.LOGIN)
    assert (event.actor, event.actor_name, event.ip_address) == (user, "editor", "198.51.100.7")


def test_a_failed_login_records_the_name_tried_never_the_password(client):
    """The username typed is kept; the password appears nowhere in the log."""
    editor()
    log_in(client, "editor", "hunter2-secret", REMOTE_ADDR="203.0.113.66")
    event = only(Action.LOGIN_FAILED)
    assert (event.actor, event.actor_name) == (None, "editor")
    assert event.details["username"] == "editor"
    stored = json.dumps(list(AuditEvent.objects.values()), default=str)
    assert "hunter2-secret" not in stored
    assert PASSWORD not in stored


def test_a_failed_login_for_an_unknown_name_is_recorded_too(client):
    """Guessing at accounts that do not exist shows up as well."""
    log_in(client, "nobody-here", "guess")
    assert only(Action.LOGIN_FAILED).actor_name == "nobody-here"


# Who may do what.


def test_adding_someone_to_a_group_in_the_admin_is_recorded(admin_client):
    """The user form's groups: who was given which group, by whom."""
    user = writer("wanda")
    url = reverse("admin:auth_user_change", args=[user.pk])
    data = {
        "username": "wanda",
        "is_active": "on",
        "is_staff": "on",
        "groups": [Group.objects.get(name="Writers").pk, Group.objects.get(name="Editors").pk],
        "date_joined_0": "2026-11-26",
        "date_joined_1": "10:00:00",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    event = events(Action.GROUPS_CHANGED)[-1]
    assert event.details == {"added": ["Editors"]}
    assert (event.object_repr, event.actor.username) == ("wanda", "chief")


def test_removing_and_clearing_groups_is_recorded(db):
    """Removal names the group; clearing names every group that went."""
    user = editor("eddie")
    user.groups.add(Group.objects.get(name="Writers"))
    user.groups.remove(Group.objects.get(name="Writers"))
    user.groups.clear()
    details = [said(event) for event in events(Action.GROUPS_CHANGED)]
    assert details[-2:] == [{"removed": ["Writers"]}, {"removed": ["Editors"]}]


def test_adding_users_from_the_group_side_is_recorded_per_user(db):
    """group.user_set.add(a, b): one event for each user."""
    first, second = UserFactory(username="a1"), UserFactory(username="b2")
    Group.objects.get(name="Analysts").user_set.add(first, second)
    recorded = {(e.object_repr, tuple(e.details["added"])) for e in events(Action.GROUPS_CHANGED)}
    assert recorded == {("a1", ("Analysts",)), ("b2", ("Analysts",))}


def test_a_users_own_permissions_are_recorded(db):
    """A permission granted to one person directly."""
    user = UserFactory(username="solo", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="publish_explainer"))
    assert said(only(Action.USER_PERMISSIONS_CHANGED)) == {
        "added": ["explainers.publish_explainer"]
    }


def test_a_groups_permissions_are_recorded(db):
    """Changing what a whole group may do."""
    group = Group.objects.get(name="Writers")
    group.permissions.remove(Permission.objects.get(codename="add_explainer"))
    event = only(Action.GROUP_PERMISSIONS_CHANGED)
    assert (event.object_repr, said(event)) == (
        "Writers",
        {"removed": ["explainers.add_explainer"]},
    )


def test_making_someone_a_superuser_is_recorded(db):
    """is_superuser, is_staff and is_active changes are permission changes too."""
    user = UserFactory(username="promoted")
    user.is_staff = user.is_superuser = True
    user.save()
    assert said(only(Action.ACCOUNT_CHANGED)) == {"is_staff": True, "is_superuser": True}


def test_a_new_staff_account_is_recorded(db):
    """createsuperuser (or the admin's add user) shows up with the flags it was given."""
    UserFactory(username="newchief", is_staff=True, is_superuser=True)
    assert said(only(Action.ACCOUNT_CHANGED)) == {
        "created": True,
        "is_active": True,
        "is_staff": True,
        "is_superuser": True,
    }


def test_a_login_stamping_last_login_records_no_account_change(client):
    """Saving last_login is not a change of who may do what."""
    UserFactory(username="plain", is_staff=True)
    before = AuditEvent.objects.filter(action=Action.ACCOUNT_CHANGED).count()
    log_in(client, "plain")
    assert AuditEvent.objects.filter(action=Action.ACCOUNT_CHANGED).count() == before


# The workflow.


@pytest.fixture
def chief_editor(db):
    return editor("chief-editor")


def test_ai_sign_off_is_recorded(chief_editor):
    """Who signed off which explainer, at which version."""
    explainer = ExplainerFactory(ai_generated=True, status=Explainer.Status.IN_REVIEW)
    services.explainer_sign_off(explainer=explainer, user=chief_editor)
    event = only(Action.SIGNED_OFF)
    assert (event.actor, event.object_id, event.details["version"]) == (
        chief_editor,
        str(explainer.pk),
        explainer.version,
    )
    assert event.object_type == "explainers.explainer"


def test_publishing_scheduling_unpublishing_and_archiving_are_recorded(chief_editor):
    """Each publication step is one event, with the times it set."""
    explainer = ExplainerFactory(status=Explainer.Status.IN_REVIEW)
    later = timezone.now() + timedelta(days=1)
    services.explainer_publish(explainer=explainer, user=chief_editor, at=later)
    services.explainer_publish(explainer=explainer, user=chief_editor)
    services.explainer_unpublish(explainer=explainer, user=chief_editor)
    services.explainer_archive(explainer=explainer, user=chief_editor)
    recorded = [
        event.action
        for event in AuditEvent.objects.filter(object_type="explainers.explainer").order_by("id")
    ]
    assert recorded == ["scheduled", "published", "unpublished", "archived"]
    assert events(Action.SCHEDULED)[0].details["published_at"] is not None


def test_scheduling_changes_to_a_live_explainer_is_recorded(chief_editor, published_explainer):
    """Changes set to go live later are a publication too."""
    published_explainer.headline = "A corrected headline"
    services.explainer_record_edit(explainer=published_explainer, user=chief_editor)
    services.explainer_publish(
        explainer=published_explainer, user=chief_editor, at=timezone.now() + timedelta(hours=2)
    )
    assert only(Action.SCHEDULED).details["scheduled_at"] is not None


def test_preview_links_created_and_revoked_are_recorded_without_their_token(chief_editor):
    """Creation and revocation are recorded; the token, which is the secret, never is."""
    explainer = ExplainerFactory()
    link, token = services.preview_link_create(
        explainer=explainer, user=chief_editor, days=3, label="the lawyer"
    )
    services.preview_link_revoke(link=link, user=chief_editor)
    services.preview_link_revoke(link=link, user=chief_editor)  # already revoked: nothing new
    created, revoked = only(Action.PREVIEW_LINK_CREATED), only(Action.PREVIEW_LINK_REVOKED)
    assert created.details["label"] == "the lawyer"
    assert revoked.details["link"] == link.pk
    assert token not in json.dumps(list(AuditEvent.objects.values()), default=str)


def test_links_revoked_by_unpublishing_are_recorded(chief_editor, published_explainer):
    """Unpublishing stops the active links, and the log says how many."""
    services.preview_link_create(explainer=published_explainer, user=chief_editor)
    services.explainer_unpublish(explainer=published_explainer, user=chief_editor)
    assert only(Action.PREVIEW_LINK_REVOKED).details["links"] == 1


def test_a_correction_is_recorded_with_its_text(chief_editor, published_explainer):
    """Who published which correction on which explainer, in its words."""
    notice = services.notice_add(
        explainer=published_explainer,
        user=chief_editor,
        kind=Notice.Kind.CORRECTION,
        text="  The vote was on Tuesday, not Monday.  ",
    )
    event = only(Action.NOTICE_ADDED)
    assert (event.actor, event.object_type, event.object_id) == (
        chief_editor,
        "explainers.explainer",
        str(published_explainer.pk),
    )
    assert said(event) == {
        "notice": notice.pk,
        "kind": "correction",
        "text": "The vote was on Tuesday, not Monday.",
    }


def test_hiding_a_notice_is_recorded_with_its_text_and_reason(
    chief_editor, superuser, published_explainer
):
    """Who hid which notice, what it said and why: the text readers no longer see is kept."""
    notice = services.notice_add(
        explainer=published_explainer, user=chief_editor, kind="correction", text="Wrong fix."
    )
    services.notice_hide(notice=notice, user=superuser, reason="Posted on the wrong story.")
    event = only(Action.NOTICE_HIDDEN)
    assert event.actor == superuser
    assert said(event) == {
        "notice": notice.pk,
        "kind": "correction",
        "text": "Wrong fix.",
        "reason": "Posted on the wrong story.",
    }


def test_a_refused_hide_records_nothing(chief_editor, published_explainer):
    """An editor may not hide a notice: refused, and nothing reaches the log."""
    notice = services.notice_add(
        explainer=published_explainer, user=chief_editor, kind="update", text="More news."
    )
    with pytest.raises(PermissionDenied):
        services.notice_hide(notice=notice, user=chief_editor, reason="Not wanted.")
    assert not events(Action.NOTICE_HIDDEN)
    assert Notice.objects.get(pk=notice.pk).hidden_at is None


def test_a_correction_in_the_admin_records_the_editors_address(
    client, chief_editor, published_explainer
):
    """A correction published from the admin's notices page carries the request's address."""
    client.force_login(chief_editor)
    url = reverse("admin:explainers_explainer_notices", args=[published_explainer.pk])
    response = client.post(
        url, {"kind": "correction", "text": "A fixed figure."}, REMOTE_ADDR="198.51.100.10"
    )
    assert response.status_code == 302
    event = only(Action.NOTICE_ADDED)
    assert (event.ip_address, event.details["text"]) == ("198.51.100.10", "A fixed figure.")


def test_a_refused_step_records_nothing(db):
    """A writer's publish is refused, and nothing reaches the log."""
    explainer = ExplainerFactory(status=Explainer.Status.IN_REVIEW)
    with pytest.raises(Exception):  # noqa: B017 (PermissionDenied or ValidationError)
        services.explainer_publish(explainer=explainer, user=writer())
    assert not events(Action.PUBLISHED)


def test_a_workflow_step_in_the_admin_records_the_editors_address(client, chief_editor):
    """Steps taken in the admin carry the request's address."""
    explainer = ExplainerFactory(status=Explainer.Status.IN_REVIEW)
    client.force_login(chief_editor)
    url = reverse("admin:explainers_explainer_transition", args=[explainer.pk])
    client.post(
        url, {"action": "publish", "version": explainer.version}, REMOTE_ADDR="198.51.100.9"
    )
    assert only(Action.PUBLISHED).ip_address == "198.51.100.9"


def test_a_command_records_the_account_that_ran_it(chief_editor, tmp_path):
    """import_explainers --publish: no web request, so the system account is kept."""
    draft = tmp_path / "draft.txt"
    draft.write_text(
        "A headline\nWhat's Happening?\nA.\nWhy It's Important?\nB.\nWhat's Next?\nC.\n"
    )
    call_command("import_explainers", "--publish", str(draft), stdout=StringIO())
    event = only(Action.PUBLISHED)
    assert event.details["run_by"]
    assert event.actor_name.endswith("(command)")


# CSV exports.


def test_an_admin_export_records_who_filters_and_rows(admin_client):
    """The export page: who, which filters, how many rows were written."""
    topic = TopicFactory(slug="world")
    explainer = ExplainerFactory(published=True, topic=topic, slug="talks")
    RatingFactory.create_batch(3, explainer=explainer)
    RatingFactory()  # another topic: filtered out
    response = admin_client.post(
        reverse("admin:feedback_rating_export"),
        {"kind": "ratings", "topic": "world", "since": "2000-01-01"},
    )
    b"".join(response.streaming_content)
    event = only(Action.CSV_EXPORTED)
    assert event.actor.username == "chief"
    assert event.details["rows"] == 3
    assert event.details["complete"] is True
    assert event.details["filters"] == {
        "since": "2000-01-01",
        "until": None,
        "explainers": [],
        "topic": "world",
    }


def test_an_export_cut_short_is_recorded_as_incomplete(monkeypatch):
    """A download stopped early (the client went away) is recorded, marked incomplete."""
    monkeypatch.setattr(export, "CHUNK_ROWS", 1)
    monkeypatch.setattr(export, "CHUNK_BYTES", 1)  # a chunk per row
    monkeypatch.setattr(export, "_use_copy", lambda: False)
    RatingFactory.create_batch(3)
    chunks = audited_export(kind="ratings", filters={}, via="test")
    next(chunks), next(chunks)  # two chunks, a row each, were sent
    chunks.close()  # what the server does when the client disconnects
    event = only(Action.CSV_EXPORTED)
    assert event.details["complete"] is False
    # A chunk's rows count once the next one is asked for: at least this many were sent.
    assert event.details["rows"] == 1


def test_the_export_action_records_the_selection(admin_client):
    """Exporting ratings ticked in the list records that a selection was exported."""
    ratings = RatingFactory.create_batch(2)
    response = admin_client.post(
        reverse("admin:feedback_rating_changelist") + "?useful__exact=1",
        {
            "action": "export_selected_ratings",
            helpers.ACTION_CHECKBOX_NAME: [rating.pk for rating in ratings],
        },
    )
    b"".join(response.streaming_content)
    event = only(Action.CSV_EXPORTED)
    assert event.details["rows"] == 2
    assert event.details["filters"] == {"selected": True, "list_filters": "useful__exact=1"}


def test_the_export_command_records_rows_and_the_system_account(tmp_path):
    """export_feedback: the account that ran it, the filters and the rows written."""
    RatingFactory.create_batch(4)
    call_command(
        "export_feedback", "--kind", "ratings", "-o", str(tmp_path / "out.csv"), stdout=StringIO()
    )
    event = only(Action.CSV_EXPORTED)
    assert event.actor is None
    assert event.details["rows"] == 4
    assert event.details["run_by"]
    assert "out.csv" in event.details["via"]


def test_an_export_refused_by_its_form_records_nothing(admin_client):
    """A bad filter exports nothing, so nothing is recorded."""
    admin_client.post(reverse("admin:feedback_rating_export"), {"kind": "everything"})
    assert not events(Action.CSV_EXPORTED)
