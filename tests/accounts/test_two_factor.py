import re
import time

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.views import PENDING_KEY
from audit.models import AuditEvent
from tests.factories import UserFactory, analyst, editor, writer
from tests.newsroom.test_settings import manage
from tests.staff import (
    authenticator,
    code_for,
    code_for_key,
    log_in,
    logged_in,
    recovery_codes,
)

pytestmark = pytest.mark.django_db

SETUP = "/admin/two-factor/"


@pytest.fixture
def required(settings):
    """Production's setting: two-factor authentication required of editors and superusers."""
    settings.REQUIRE_TWO_FACTOR = True
    return settings


def wrong_code(device) -> str:
    return f"{(int(code_for(device)) + 1) % 1_000_000:06d}"


def later(seconds: int):
    """Travel ``seconds`` ahead, to a later time step with fresh codes."""
    return time_machine.travel(time.time() + seconds, tick=False)


def chief():
    return UserFactory(username="chief", is_staff=True, is_superuser=True)


def enrol(client: Client):
    """Set up an app through the admin's page, as a person would; returns the codes page."""
    client.get(SETUP)
    key = client.session[PENDING_KEY]
    return client.post(SETUP, {"code": code_for_key(key)})


# Logging in with an authenticator app.


def test_a_user_with_an_app_logs_in_with_password_and_code(client):
    """Password plus the app's current code: logged in, and the admin opens."""
    device = authenticator(editor())
    assert logged_in(log_in(client, "editor", code=code_for(device)))
    assert client.get("/admin/").status_code == 200


def test_a_user_with_an_app_cannot_log_in_with_the_password_alone(client):
    """Without the code the password is not enough, and the page asks for the code."""
    authenticator(editor())
    response = log_in(client, "editor")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "enter the code your authenticator app shows" in response.content.decode()


def test_a_wrong_code_is_refused_and_recorded(client):
    """A wrong code does not log in; the audit log records a failed login, saying why."""
    device = authenticator(editor())
    response = log_in(client, "editor", code=wrong_code(device))
    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get(action="login_failed")
    assert (event.actor_name, event.details["reason"]) == ("editor", "wrong authentication code")


def test_guessing_codes_ends_in_the_login_lockout(client, settings):
    """Someone with the password cannot try codes without limit: wrong codes lock out too."""
    settings.AXES_FAILURE_LIMIT = 5
    device = authenticator(editor())
    for _ in range(5):
        log_in(client, "editor", code=wrong_code(device), REMOTE_ADDR="203.0.113.66")
    response = log_in(client, "editor", code=code_for(device), REMOTE_ADDR="203.0.113.66")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_leaving_out_the_code_is_not_a_failed_login(client):
    """Forgetting the code is the normal first step, not a failure that counts."""
    authenticator(editor())
    log_in(client, "editor")
    assert not AuditEvent.objects.filter(action="login_failed").exists()


def test_a_code_works_only_once(client):
    """The same code cannot be replayed for a second login."""
    device = authenticator(editor())
    code = code_for(device)
    assert logged_in(log_in(client, "editor", code=code))
    assert not logged_in(log_in(Client(), "editor", code=code))


def test_another_users_code_does_not_work(client):
    """A code is checked against the app of the account logging in, never another's."""
    authenticator(editor())
    someone_else = authenticator(writer())
    assert not logged_in(log_in(client, "editor", code=code_for(someone_else)))


def test_a_recovery_code_logs_in_once(client):
    """A recovery code (in any case, with spaces) replaces the app's code, one time only."""
    user = editor()
    authenticator(user)
    recovery_codes(user, "abcd2345", "efgh6789")
    assert logged_in(log_in(client, "editor", code="ABCD 2345"))
    assert not logged_in(log_in(Client(), "editor", code="abcd2345"))
    assert list(StaticToken.objects.values_list("token", flat=True)) == ["efgh6789"]


def test_the_login_records_how_it_was_verified(client):
    """The audit log says the login used the app."""
    device = authenticator(editor())
    log_in(client, "editor", code=code_for(device))
    assert AuditEvent.objects.get(action="login").details == {"two_factor": "authenticator app"}


def test_a_session_that_gave_no_code_is_sent_to_log_in_again(client):
    """An app set up elsewhere: a session that never gave a code has no admin."""
    user = editor()
    client.force_login(user)
    authenticator(user)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


# Required: editors and superusers must set up an app.


@pytest.mark.parametrize("make_user", [editor, chief])
def test_required_users_without_an_app_are_sent_to_set_it_up(client, required, make_user):
    """After the password, an editor or superuser without an app lands on the set-up page."""
    make_user()
    username = "editor" if make_user is editor else "chief"
    response = log_in(client, username)
    assert response.status_code == 302
    response = client.get(response["Location"])
    assert response.status_code == 302
    assert response["Location"] == SETUP


@pytest.mark.parametrize(
    "path",
    [
        "/admin/",
        "/admin/explainers/explainer/",
        "/admin/explainers/explainer/add/",
        "/admin/auth/user/",
        "/admin/password_change/",
        "/admin/feedback/rating/",
        "/admin/login/",
    ],
)
def test_until_set_up_every_admin_page_leads_to_set_up(client, required, path):
    """Nothing else in the admin is reachable before the app is set up."""
    client.force_login(editor())
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == SETUP


def test_until_set_up_no_admin_post_goes_through(client, required, draft_explainer):
    """A workflow step posted directly is turned away too."""
    client.force_login(editor())
    url = reverse("admin:explainers_explainer_transition", args=[draft_explainer.pk])
    response = client.post(url, {"action": "submit", "version": draft_explainer.version})
    assert response["Location"] == SETUP
    draft_explainer.refresh_from_db()
    assert draft_explainer.status == "draft"


def test_until_set_up_one_can_still_log_out(client, required):
    """The set-up page offers logging out, and it works."""
    client.force_login(editor())
    page = client.get(SETUP)
    assert 'action="/admin/logout/"' in page.content.decode()
    client.post("/admin/logout/")
    assert "_auth_user_id" not in client.session


def test_the_set_up_page_shows_a_qr_code_and_the_secret(client, required):
    """An inline SVG QR code, the otpauth address and the key in text."""
    client.force_login(editor())
    response = client.get(SETUP)
    text = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in text
    assert "otpauth://totp/Newsroom%3Aeditor?secret=" in text
    assert re.search(r'id="totp-secret">([A-Z2-7]{4} ){7}[A-Z2-7]{4}<', text)
    assert "no-cache" in response["Cache-Control"]


def test_reloading_the_set_up_page_keeps_the_same_secret(client, required):
    """The QR code does not change under the user's phone."""
    client.force_login(editor())
    first = client.get(SETUP).content.decode()
    second = client.get(SETUP).content.decode()
    secret = re.compile(r'id="totp-secret">([^<]+)<')
    assert secret.search(first).group(1) == secret.search(second).group(1)
    assert not TOTPDevice.objects.exists()  # nothing stored before a code confirms it


def test_a_wrong_set_up_code_is_explained(client, required):
    """A code that does not match leaves the page with a message and nothing set up."""
    client.force_login(editor())
    client.get(SETUP)
    response = client.post(SETUP, {"code": "000000"})
    assert response.status_code == 200
    assert "That code does not match" in response.content.decode()
    assert not TOTPDevice.objects.exists()


@pytest.mark.parametrize("code", ["", "12345", "abcdef", "1234567", "x" * 5000])
def test_a_malformed_set_up_code_is_a_form_error(client, required, code):
    """Bad input is a message on the page, never a 500."""
    client.force_login(editor())
    client.get(SETUP)
    response = client.post(SETUP, {"code": code})
    assert response.status_code == 200
    assert "errornote" in response.content.decode()


def test_setting_up_opens_the_admin_and_shows_recovery_codes_once(client, required):
    """The right code turns it on: ten recovery codes shown, then the admin is open."""
    client.force_login(editor())
    response = enrol(client)
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", response.content.decode())
    assert len(set(codes)) == 10
    assert "no-cache" in response["Cache-Control"]
    assert TOTPDevice.objects.get().confirmed
    assert client.get("/admin/").status_code == 200
    status = client.get(SETUP).content.decode()
    assert "Two-factor authentication is on" in status
    assert not any(code in status for code in codes)
    assert AuditEvent.objects.filter(action="two_factor_enabled").count() == 1


def test_the_set_up_code_cannot_be_replayed_to_log_in(client, required):
    """The code typed at set-up has been used: it cannot log in a second session."""
    user = editor()
    client.force_login(user)
    client.get(SETUP)
    code = code_for_key(client.session[PENDING_KEY])
    client.post(SETUP, {"code": code})
    assert not logged_in(log_in(Client(), "editor", code=code))


def test_after_setting_up_the_next_login_asks_for_the_code(client, required):
    """The newly set-up app is what the login form then checks."""
    client.force_login(editor())
    enrol(client)
    device = TOTPDevice.objects.get()
    with later(60):
        assert not logged_in(log_in(Client(), "editor"))
        assert logged_in(log_in(Client(), "editor", code=code_for(device)))


def test_a_session_without_a_code_cannot_replace_the_app(client):
    """Someone holding only the password (a session that gave no code) cannot swap the app."""
    user = editor()
    client.force_login(user)
    original = authenticator(user)
    response = client.get(SETUP + "?replace=1")
    assert response["Location"].startswith("/admin/login/")
    response = client.post(SETUP, {"code": "123456"})
    assert response["Location"].startswith("/admin/login/")
    assert list(TOTPDevice.objects.all()) == [original]


def test_replacing_the_app_retires_the_old_one(client):
    """A verified user sets up a new phone; the old app's codes stop working."""
    user = editor()
    old = authenticator(user)
    log_in(client, "editor", code=code_for(old))
    with later(60):
        client.get(SETUP + "?replace=1")
        key = client.session[PENDING_KEY]
        client.post(SETUP, {"code": code_for_key(key)})
    assert list(TOTPDevice.objects.values_list("key", flat=True)) == [key]
    with later(120):
        assert not logged_in(log_in(Client(), "editor", code=code_for(old)))


def test_new_recovery_codes_replace_the_old_ones(client):
    """Making new recovery codes shows ten new ones; an old one no longer logs in."""
    user = editor()
    device = authenticator(user)
    recovery_codes(user, "oldcode2")
    log_in(client, "editor", code=code_for(device))
    response = client.post("/admin/two-factor/recovery-codes/")
    assert len(re.findall(r"<li><code>", response.content.decode())) == 10
    assert not logged_in(log_in(Client(), "editor", code="oldcode2"))
    assert AuditEvent.objects.filter(action="recovery_codes").exists()


def test_recovery_codes_need_a_session_that_gave_a_code(client):
    """Without a code this session cannot mint recovery codes."""
    user = editor()
    authenticator(user)
    client.force_login(user)
    response = client.post("/admin/two-factor/recovery-codes/")
    assert response["Location"].startswith("/admin/login/")
    assert not StaticToken.objects.exists()


def test_the_set_up_page_is_for_staff_only(client):
    """Anonymous visitors are sent to log in; readers' accounts too."""
    assert client.get(SETUP)["Location"].startswith("/admin/login/")
    client.force_login(UserFactory(username="reader"))
    assert client.get(SETUP)["Location"].startswith("/admin/login/")


# Who must, and who may.


@pytest.mark.parametrize("make_user", [writer, analyst])
def test_writers_and_analysts_are_not_required_to(client, required, make_user):
    """With the requirement on, a writer or analyst still logs in with a password alone."""
    user = make_user()
    assert logged_in(log_in(client, user.username))
    assert client.get("/admin/").status_code == 200


def test_whoever_may_publish_is_required_to(client, required):
    """Publishing granted outside the Editors group still requires two factors."""
    user = UserFactory(username="publisher", is_staff=True)
    user.user_permissions.add(
        *Group.objects.get(name="Editors").permissions.filter(codename="publish_explainer")
    )
    log_in(client, "publisher")
    assert client.get("/admin/")["Location"] == SETUP


def test_a_writer_may_set_up_an_app_anyway(client, required):
    """Anyone on the staff can turn it on; from then on their login needs the code."""
    client.force_login(writer())
    enrol(client)
    with later(60):
        assert not logged_in(log_in(Client(), "writer"))


def test_in_development_the_admin_works_without_two_factor(client, settings):
    """make run's admin (a superuser with no app) logs in with its password alone."""
    settings.REQUIRE_TWO_FACTOR = False
    chief()
    assert logged_in(log_in(client, "chief"))
    assert client.get("/admin/").status_code == 200


def test_every_admin_page_links_to_two_factor_set_up(admin_client):
    """The user links at the top of the admin lead to the set-up page."""
    assert f'href="{SETUP}"' in admin_client.get("/admin/").content.decode()


def test_make_runs_admin_account_logs_in_with_its_printed_password(client, settings, tmp_path):
    """ensure_admin's account and password work in the admin's login form, no code asked."""
    settings.VAR_DIR = tmp_path
    call_command("ensure_admin", verbosity=0)
    password = (tmp_path / "admin-password.txt").read_text().strip()
    assert logged_in(log_in(client, "admin", password))
    assert client.get("/admin/explainers/explainer/").status_code == 200


def test_production_requires_two_factor_by_default(tmp_path):
    """DJANGO_ENV=production turns the requirement on; development leaves it off."""
    production = {
        "DJANGO_ENV": "production",
        "DJANGO_SECRET_KEY": "x" * 50,
        "DJANGO_ALLOWED_HOSTS": "news.example.com",
        "NEWSROOM_SITE_URL": "https://news.example.com",
    }

    def required_with(env):
        code = "from django.conf import settings; print(settings.REQUIRE_TWO_FACTOR)"
        result = manage("shell", "-c", code, env_overrides=env, tmp_path=tmp_path)
        return result.stdout.split()[-1]

    assert required_with(production) == "True"
    assert required_with({}) == "False"
    assert required_with({**production, "NEWSROOM_REQUIRE_2FA": "false"}) == "False"


def test_an_administrator_resets_a_lost_phone(admin_client, settings):
    """Deleting the user's TOTP device in the admin: recorded, and they set up a new app."""
    device = authenticator(editor())
    url = reverse("admin:otp_totp_totpdevice_delete", args=[device.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not TOTPDevice.objects.exists()
    event = AuditEvent.objects.get(action="two_factor_removed")
    assert (event.actor_name, event.object_repr) == ("chief", "editor")
    settings.REQUIRE_TWO_FACTOR = True
    client = Client()
    assert logged_in(log_in(client, "editor"))
    assert client.get("/admin/")["Location"] == SETUP


def test_a_recovery_code_made_only_of_digits_still_works(client):
    """Recovery codes are 8 characters, so an all-digit one is not mistaken for the app's."""
    user = editor()
    authenticator(user)
    recovery_codes(user, "23456723")
    assert logged_in(log_in(client, "editor", code="23456723"))
