"""Workflow emails: who is told what, after the commit, never failing the step."""

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse

from explainers import services
from explainers.models import Explainer, UndeliveredNotification
from newsroom.dashboard import panels_for
from tests.explainers.admin_client import logged_in, transition
from tests.factories import ExplainerFactory, editor, writer

pytestmark = pytest.mark.django_db


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run on-commit callbacks as a real commit would."""

    def run(step, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return step(**kwargs)

    return run


@pytest.fixture
def people(db):
    return {"writer": writer("wendy"), "editor": editor("eddie"), "other": editor("olga")}


def to(message) -> str:
    (address,) = message.to
    return address.split("@")[0]


def test_submission_tells_each_editor(run_on_commit, people):
    """Every editor but the actor gets their own email, with the writer's note and a link."""
    draft = ExplainerFactory(headline="Talks", created_by=people["writer"])
    run_on_commit(
        services.explainer_submit, explainer=draft, user=people["writer"], comment="Please look"
    )
    assert sorted(to(m) for m in mail.outbox) == ["eddie", "olga"]
    message = mail.outbox[0]
    assert message.subject == "[Newsroom] Waiting for review: Talks"
    assert "Please look" in message.body
    assert reverse("admin:explainers_explainer_change", args=[draft.pk]) in message.body


def test_ai_text_submission_also_asks_for_a_sign_off(run_on_commit, people):
    """Unsigned AI text in review tells the editors who may sign off."""
    draft = ExplainerFactory(headline="Drafted", ai_generated=True, created_by=people["writer"])
    run_on_commit(services.explainer_submit, explainer=draft, user=people["writer"])
    subjects = {m.subject for m in mail.outbox}
    assert "[Newsroom] AI text to sign off: Drafted" in subjects


def test_sent_back_tells_the_writer_with_the_comment(run_on_commit, people):
    """The writer learns their draft came back, and why."""
    draft = ExplainerFactory(status=Explainer.Status.IN_REVIEW, created_by=people["writer"])
    run_on_commit(
        services.explainer_send_back,
        explainer=draft,
        user=people["editor"],
        comment="Add a source.",
    )
    (message,) = mail.outbox
    assert to(message) == "wendy" and "Add a source." in message.body


def test_publication_tells_the_writer(run_on_commit, people):
    """The writer hears when their explainer goes live."""
    draft = ExplainerFactory(headline="Live now", created_by=people["writer"])
    run_on_commit(services.explainer_publish, explainer=draft, user=people["editor"])
    (message,) = mail.outbox
    assert message.subject == "[Newsroom] Published: Live now" and to(message) == "wendy"


def test_no_email_for_ones_own_action(run_on_commit, people):
    """An editor who publishes their own explainer is not emailed about it."""
    draft = ExplainerFactory(created_by=people["editor"])
    run_on_commit(services.explainer_publish, explainer=draft, user=people["editor"])
    assert mail.outbox == []


def test_each_person_can_turn_a_kind_off(run_on_commit, people):
    """An editor who turned off review emails gets none; the others still do."""
    services.notification_preference_set(user=people["other"], submitted=False)
    draft = ExplainerFactory(created_by=people["writer"])
    run_on_commit(services.explainer_submit, explainer=draft, user=people["writer"])
    assert [to(m) for m in mail.outbox] == ["eddie"]


def test_settings_page_offers_the_kinds_of_ones_role(people):
    """A writer's page offers writers' kinds; saving turns them off."""
    client = logged_in(people["writer"])
    url = reverse("admin:explainers_notification_settings")
    form = client.get(url).context["form"]
    assert set(form.fields) == {"sent_back", "published"}
    client.post(url, {"published": "on"})
    preference = people["writer"].notification_preference
    assert preference.published and not preference.sent_back


def test_a_rolled_back_step_sends_nothing(people, django_capture_on_commit_callbacks):
    """Mail goes only after the commit: a step rolled back afterwards announces nothing."""
    draft = ExplainerFactory(created_by=people["writer"])
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.explainer_submit(explainer=draft, user=people["writer"])
        raise RuntimeError("a later part of the same request failed")
    assert mail.outbox == []


def test_a_failing_mail_server_never_fails_the_step(run_on_commit, people, settings):
    """The publication stands; the failure is logged and shown on the editors' home page."""
    settings.EMAIL_BACKEND = "tests.explainers.test_notifications.BrokenBackend"
    draft = ExplainerFactory(headline="Despite mail", created_by=people["writer"])
    run_on_commit(services.explainer_publish, explainer=draft, user=people["editor"])
    assert Explainer.objects.published().filter(pk=draft.pk).exists()
    failure = UndeliveredNotification.objects.get()
    assert "Despite mail" in failure.subject and "refused" in failure.error
    titles = [entry["panel"].title for entry in panels_for(people["other"])]
    assert "Notifications that could not be sent" in titles


def test_admin_step_sends_after_commit(people, django_capture_on_commit_callbacks):
    """Through the admin's Workflow panel too, the writer is told."""
    draft = ExplainerFactory(created_by=people["writer"])
    with django_capture_on_commit_callbacks(execute=True):
        transition(logged_in(people["editor"]), draft, "publish")
    assert [to(m) for m in mail.outbox] == ["wendy"]


def test_edit_voiding_a_live_sign_off_asks_for_a_new_one(run_on_commit, people):
    """A writer's edit to signed-off live AI text tells the signers it needs them again."""
    explainer = ExplainerFactory(ai_generated=True, created_by=people["writer"])
    services.explainer_sign_off(explainer=explainer, user=people["editor"])
    services.explainer_publish(explainer=explainer, user=people["editor"])
    explainer.whats_next = "Changed."
    run_on_commit(services.explainer_record_edit, explainer=explainer, user=people["writer"])
    assert {to(m) for m in mail.outbox} == {"eddie", "olga"}


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("Connection refused by the mail server")


def test_a_line_break_in_a_headline_cannot_break_the_email(run_on_commit, people):
    """A headline carrying a line break still makes one well-formed subject line."""
    draft = ExplainerFactory(
        headline="Talks\r\nBcc: victim@example.com", created_by=people["writer"]
    )
    run_on_commit(services.explainer_publish, explainer=draft, user=people["editor"])
    (message,) = mail.outbox
    assert message.subject == "[Newsroom] Published: Talks Bcc: victim@example.com"
    assert message.recipients() == [people["writer"].email]


def test_workflow_emails_link_to_the_admin_at_the_sites_address(
    django_capture_on_commit_callbacks, settings
):
    """A notification links to the admin at the site's address (SITE_URL), not a bare path."""
    settings.SITE_URL = "https://news.example.org"
    author = writer("wendy")
    editor("eddie")
    draft = ExplainerFactory(headline="Talks", created_by=author)
    with django_capture_on_commit_callbacks(execute=True):
        services.explainer_submit(explainer=draft, user=author, comment="Please look")
    (message,) = mail.outbox
    path = reverse("admin:explainers_explainer_change", args=[draft.pk])
    assert f"https://news.example.org{path}" in message.body
