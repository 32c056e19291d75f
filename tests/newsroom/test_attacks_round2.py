"""Round-two attacks on the abuse hardening (issue 9) and the dashboard/notifications (issue 14)."""

import pytest
from django.core import mail
from django.test import RequestFactory
from django.urls import reverse

from explainers import services
from feedback import guards
from tests.factories import ExplainerFactory, editor, writer

pytestmark = pytest.mark.django_db


def test_a_6to4_host_cannot_rotate_its_48_to_escape_the_vote_limit():
    """All addresses of one 6to4 site (2002:V4ADDR::/48, one IPv4 host) count as one client."""
    rf = RequestFactory()
    # 2002:c000:0201::/48 belongs to whoever holds 192.0.2.1; it may use any of its 65,536 /64s.
    keys = {
        guards.client_key(rf.post("/", REMOTE_ADDR=f"2002:c000:201:{subnet:x}::1"))
        for subnet in range(1, 9)
    }
    assert len(keys) == 1


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
