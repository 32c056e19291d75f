import pytest
from django.urls import reverse

from audit.models import AppendOnlyError, AuditEvent
from audit.services import record
from tests.explainers.admin_client import logged_in
from tests.factories import analyst, editor, writer

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:audit_auditevent_changelist")


@pytest.fixture
def event(db):
    return record(action="login_failed", actor_name="mallory", details={"username": "mallory"})


def test_superusers_read_the_audit_log(admin_client, event):
    """The changelist and an event's page open for a superuser."""
    assert "mallory" in admin_client.get(CHANGELIST).content.decode()
    page = admin_client.get(reverse("admin:audit_auditevent_change", args=[event.pk]))
    assert page.status_code == 200
    assert "Login failed" in page.content.decode()


def test_the_log_is_listed_on_the_admin_index_for_superusers(admin_client):
    """A superuser finds "Audit log" on the admin's front page."""
    assert CHANGELIST in admin_client.get("/admin/").content.decode()


@pytest.mark.parametrize("make_user", [analyst, writer, editor])
def test_other_staff_cannot_see_the_audit_log(make_user, event):
    """Analysts, writers and editors get 403 and no link to it."""
    client = logged_in(make_user())
    assert client.get(CHANGELIST).status_code == 403
    assert client.get(reverse("admin:audit_auditevent_change", args=[event.pk])).status_code == 403
    assert CHANGELIST not in client.get("/admin/").content.decode()


def test_nobody_adds_an_event_in_the_admin(admin_client):
    """There is no add page, superusers included."""
    assert admin_client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    assert admin_client.post(reverse("admin:audit_auditevent_add"), {}).status_code == 403


def test_nobody_changes_an_event_in_the_admin(admin_client, event):
    """The event's page is read-only, and a posted change is refused."""
    url = reverse("admin:audit_auditevent_change", args=[event.pk])
    assert 'name="actor_name"' not in admin_client.get(url).content.decode()
    response = admin_client.post(url, {"actor_name": "someone-else", "action": "login"})
    assert response.status_code == 403
    event.refresh_from_db()
    assert (event.actor_name, event.action) == ("mallory", "login_failed")


def test_nobody_deletes_an_event_in_the_admin(admin_client, event):
    """No delete page and no bulk delete action."""
    url = reverse("admin:audit_auditevent_delete", args=[event.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    response = admin_client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"}
    )
    assert "delete_selected" not in admin_client.get(CHANGELIST).content.decode()
    assert response.status_code in (200, 302)
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_model_refuses_changes_and_deletes(event):
    """Saving again, deleting, bulk updates and bulk deletes all raise."""
    event.actor_name = "someone-else"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.update(actor_name="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get().actor_name == "mallory"


def test_deleting_a_user_keeps_their_events(admin_client):
    """An account deleted later: its events stay, with the name it had."""
    gone = writer("gone")
    record(action="login", actor=gone)
    gone.delete()
    kept = AuditEvent.objects.get(action="login", actor_name="gone")
    assert kept.actor is None


def test_an_unknown_action_is_refused(db):
    """A typo in a call to record() fails loudly instead of logging nonsense."""
    with pytest.raises(ValueError):
        record(action="publishd")


def test_the_changelist_reads_in_few_queries(admin_client, django_assert_max_num_queries):
    """Fifty events list with a fixed number of queries."""
    for n in range(50):
        record(action="login_failed", actor_name=f"guess{n}")
    with django_assert_max_num_queries(10):
        admin_client.get(CHANGELIST)
