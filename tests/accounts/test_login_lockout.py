from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from tests.factories import UserFactory, editor
from tests.staff import PASSWORD, log_in, logged_in

pytestmark = pytest.mark.django_db

ATTACKER = {"REMOTE_ADDR": "203.0.113.66"}
EDITOR_AT_HOME = {"REMOTE_ADDR": "198.51.100.7"}


@pytest.fixture(autouse=True)
def known_limits(settings):
    """The defaults: 5 failures, 15 minutes."""
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


def guess(client, username, times, **extra):
    responses = [log_in(client, username, f"wrong-{n}", **extra) for n in range(times)]
    return responses[-1]


def test_twelve_wrong_passwords_then_the_right_one_does_not_log_in(client):
    """After twelve wrong passwords the right one is refused: the account is locked here."""
    editor()
    guess(client, "editor", 12, **ATTACKER)
    response = log_in(client, "editor", PASSWORD, **ATTACKER)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302  # back to the login page


def test_the_lockout_page_says_what_happened_and_when_to_retry(client):
    """The page names the account, the number of failures and the time logins work again."""
    editor()
    with time_machine.travel(datetime(2026, 11, 26, 14, 20, tzinfo=UTC), tick=False):
        response = guess(client, "editor", 5, **ATTACKER)
    assert response.status_code == 429
    text = response.content.decode()
    assert "Too many failed logins for “editor” from your address" in text
    assert "blocked until 14:35 UTC" in text
    assert 'id="login-form"' in text  # the site's login page, not a bare text
    assert int(response["Retry-After"]) > 0


def test_the_lockout_message_counts_down(client):
    """Trying again ten minutes later gives the same end time, five minutes away."""
    editor()
    start = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        guess(client, "editor", 5, **ATTACKER)
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        response = log_in(client, "editor", PASSWORD, **ATTACKER)
    assert response.status_code == 429
    assert "blocked until 09:15 UTC (in 5 minutes)" in response.content.decode()
    assert response["Retry-After"] == "300"


def test_the_lockout_ends_after_the_cooloff(client):
    """Once the cool-off has passed, the right password logs in again."""
    editor()
    start = timezone.now()
    with time_machine.travel(start):
        guess(client, "editor", 12, **ATTACKER)
    with time_machine.travel(start + timedelta(minutes=16)):
        assert logged_in(log_in(client, "editor", **ATTACKER))


def test_fewer_failures_than_the_limit_do_not_lock(client):
    """Four mistakes, then the right password: logged in, and the count starts again."""
    editor()
    guess(client, "editor", 4, **ATTACKER)
    assert logged_in(log_in(client, "editor", **ATTACKER))
    client.logout()
    guess(client, "editor", 4, **ATTACKER)
    assert logged_in(log_in(client, "editor", **ATTACKER))


def test_the_attacker_cannot_lock_the_editor_out_everywhere(client):
    """A lockout is per username and address: the editor still logs in from elsewhere."""
    editor()
    guess(client, "editor", 12, **ATTACKER)
    assert logged_in(log_in(client, "editor", **EDITOR_AT_HOME))


def test_other_accounts_at_the_same_address_are_not_locked(client):
    """A colleague behind the same office address is not locked out by someone's typos."""
    editor()
    UserFactory(username="colleague", is_staff=True)
    guess(client, "editor", 12, **ATTACKER)
    assert logged_in(log_in(client, "colleague", **ATTACKER))


def test_a_spoofed_forwarded_address_gives_no_fresh_guesses(client, settings):
    """Behind a proxy, changing the address the client writes into the header changes nothing."""
    settings.FEEDBACK_CLIENT_IP_HEADER = "X-Forwarded-For"
    editor()
    for n in range(12):
        log_in(
            client,
            "editor",
            f"wrong-{n}",
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 203.0.113.66",
        )
    response = log_in(
        client,
        "editor",
        PASSWORD,
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="192.0.2.200, 203.0.113.66",
    )
    assert response.status_code == 429


def test_rotating_ipv6_addresses_in_one_block_gives_no_fresh_guesses(client):
    """Every address of one /64 counts as one client."""
    editor()
    for n in range(12):
        log_in(client, "editor", f"wrong-{n}", REMOTE_ADDR=f"2001:db8:1:2::{n + 1:x}")
    response = log_in(client, "editor", PASSWORD, REMOTE_ADDR="2001:db8:1:2:ffff::1")
    assert response.status_code == 429


def test_an_administrator_unlocks_with_axes_reset_username(client):
    """The unlock command in docs/operations.md lets the user in again at once."""
    editor()
    guess(client, "editor", 12, **ATTACKER)
    call_command("axes_reset_username", "editor", stdout=StringIO())
    assert logged_in(log_in(client, "editor", **ATTACKER))


def test_without_a_cooloff_the_lock_lasts_until_unlocked(client, settings):
    """NEWSROOM_LOGIN_COOLOFF_MINUTES=0: the page says an administrator must unlock it."""
    settings.AXES_COOLOFF_TIME = None
    editor()
    response = guess(client, "editor", 5, **ATTACKER)
    assert response.status_code == 429
    assert "stays blocked until an administrator unlocks it" in response.content.decode()
    assert "Retry-After" not in response


def test_a_lockout_is_in_the_audit_log(client):
    """Each failure is recorded with the name tried; those refused by the lock say so."""
    editor()
    guess(client, "editor", 6, **ATTACKER)
    failures = AuditEvent.objects.filter(action="login_failed").order_by("id")
    assert [event.details["locked_out"] for event in failures] == [False] * 4 + [True] * 2
    assert {event.actor_name for event in failures} == {"editor"}
    assert {event.ip_address for event in failures} == {"203.0.113.66"}


def test_an_overlong_username_is_a_form_error_not_a_crash(client):
    """A 10,000-character username is answered by the login form, never a 500."""
    response = log_in(client, "x" * 10_000, "whatever", **ATTACKER)
    assert response.status_code == 200
    assert "at most 150 characters" in response.content.decode()
    assert not AuditEvent.objects.filter(action="login_failed").exists()  # never tried


def test_an_administrator_unlocks_in_the_admin(admin_client):
    """Deleting the row under Axes → Access attempts lets the user in again."""
    from axes.models import AccessAttempt

    editor()
    client = Client()
    guess(client, "editor", 12, **ATTACKER)
    attempt = AccessAttempt.objects.get(username="editor")
    url = reverse("admin:axes_accessattempt_delete", args=[attempt.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert logged_in(log_in(client, "editor", **ATTACKER))


def test_a_username_with_markup_is_shown_as_text(admin_client):
    """The name typed is escaped on the lockout page and in the audit log's admin."""
    name = "<script>alert(1)</script>"
    response = guess(Client(), name, 5, **ATTACKER)
    assert response.status_code == 429
    assert name not in response.content.decode()
    assert "&lt;script&gt;" in response.content.decode()
    event = AuditEvent.objects.filter(action="login_failed").first()
    page = admin_client.get(reverse("admin:audit_auditevent_change", args=[event.pk]))
    assert name not in page.content.decode()
