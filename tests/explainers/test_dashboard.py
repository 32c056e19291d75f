"""The admin's home page: each role's queues, one query a panel, links that agree."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from explainers import services
from explainers.models import Explainer, Notice
from newsroom.dashboard import panels_for, registered
from tests.explainers.admin_client import logged_in
from tests.factories import ExplainerFactory, UserFactory, analyst, editor, writer

pytestmark = pytest.mark.django_db

Status = Explainer.Status
INDEX = reverse("admin:index")


def titles(user) -> list[str]:
    return [entry["panel"].title for entry in panels_for(user)]


def panel(user, title: str) -> dict:
    return next(entry for entry in panels_for(user) if entry["panel"].title == title)


def labels(entry: dict) -> list[str]:
    return [item.label for item in entry["items"]]


def test_writers_see_their_own_queues():
    """A writer's home lists their drafts, what came back to them and theirs in review."""
    assert titles(writer()) == ["My drafts", "Sent back to me", "Mine in review"]


def test_editors_see_the_newsroom_queues():
    """An editor's home lists review, sign-off, schedule, expiry, pending and corrections."""
    assert titles(editor()) == [
        "Waiting for review",
        "AI text waiting for sign-off",
        "Scheduled in the next 24 hours",
        "Expiring in the next 7 days",
        "Live, with changes waiting for publication",
        "Latest corrections",
    ]


def test_analysts_see_the_feedback_panels():
    """An analyst's home shows this week's rankings, moves after new versions and latest No's."""
    assert titles(analyst()) == [
        "Most useful this week",
        "Least useful this week",
        "Useful share moved most after a new version",
        "Latest “No” answers with a reason or comment",
    ]


def test_superusers_see_every_panel_and_the_model_list(admin_client):
    """Superusers get all panels, and Django's list of models stays on the page."""
    html = admin_client.get(INDEX).text
    for title in ("My drafts", "Waiting for review", "Most useful this week"):
        assert title in html
    assert 'id="content-related"' in html or "app-explainers" in html


def test_each_panel_is_one_query(django_assert_num_queries, superuser):
    """Every panel costs exactly one query, whatever it lists."""
    ExplainerFactory.create_batch(3, status=Status.IN_REVIEW)
    with django_assert_num_queries(len(registered())):
        panels_for(superuser)


def test_my_drafts_are_mine_only():
    """Other writers' drafts stay off a writer's home."""
    me, other = writer("me"), writer("other")
    ExplainerFactory(headline="Mine", created_by=me)
    ExplainerFactory(headline="Theirs", created_by=other)
    assert labels(panel(me, "My drafts")) == ["Mine"]


def test_sent_back_shows_the_editors_comment():
    """A draft an editor sent back lists with who sent it back and what they said."""
    me, boss = writer("me"), editor("boss")
    explainer = ExplainerFactory(headline="Mine", created_by=me)
    services.explainer_submit(explainer=explainer, user=me)
    services.explainer_send_back(explainer=explainer, user=boss, comment="Add a second source.")
    (item,) = panel(me, "Sent back to me")["items"]
    assert item.label == "Mine" and item.note == "Add a second source."
    assert item.meta.startswith("by boss")


def test_review_queue_is_oldest_first_with_its_submitter():
    """Waiting for review lists the longest-waiting first, with who submitted it."""
    first, second = writer("first"), writer("second")
    older, newer = ExplainerFactory(headline="Older"), ExplainerFactory(headline="Newer")
    services.explainer_submit(explainer=older, user=first)
    older.events.update(created_at=timezone.now() - timedelta(hours=5))
    services.explainer_submit(explainer=newer, user=second)
    entry = panel(editor(), "Waiting for review")
    assert labels(entry) == ["Older", "Newer"] and entry["total"] == 2
    assert entry["items"][0].meta.startswith("submitted by first")


def test_sign_off_queue_lists_unsigned_ai_text():
    """AI text without a current sign-off waits for an editor; signed or human text does not."""
    boss = editor("boss")
    ExplainerFactory(headline="Unsigned", ai_generated=True)
    signed = ExplainerFactory(headline="Signed", ai_generated=True)
    services.explainer_sign_off(explainer=signed, user=boss)
    ExplainerFactory(headline="Human")
    assert labels(panel(boss, "AI text waiting for sign-off")) == ["Unsigned"]


def test_schedule_and_expiry_windows():
    """Only what comes due in the next 24 hours, or expires in the next 7 days, is listed."""
    boss = editor("boss")
    now = timezone.now()
    soon, later = ExplainerFactory(headline="Soon"), ExplainerFactory(headline="Later")
    services.explainer_publish(explainer=soon, user=boss, at=now + timedelta(hours=3))
    services.explainer_publish(explainer=later, user=boss, at=now + timedelta(days=3))
    ending = ExplainerFactory(headline="Ending")
    services.explainer_publish(explainer=ending, user=boss, expires_at=now + timedelta(days=2))
    assert labels(panel(boss, "Scheduled in the next 24 hours")) == ["Soon"]
    assert labels(panel(boss, "Expiring in the next 7 days")) == ["Ending"]


def test_pending_changes_queue(live):
    """A live explainer with a newer version waits in the pending queue."""
    boss = editor("boss")
    assert panel(boss, "Live, with changes waiting for publication")["total"] == 0
    live.whats_next = "New outlook."
    live.save()
    assert labels(panel(boss, "Live, with changes waiting for publication")) == [live.headline]


def test_latest_corrections(live):
    """The newest corrections come first, with their text."""
    boss = editor("boss")
    services.notice_add(explainer=live, user=boss, kind=Notice.Kind.CORRECTION, text="Fixed.")
    (item,) = panel(boss, "Latest corrections")["items"]
    assert item.note == "Fixed."


def test_panel_links_open_the_same_rows():
    """Each queue's link opens the explainer list filtered to the same explainers."""
    boss = editor("boss")
    for _ in range(7):
        services.explainer_submit(explainer=ExplainerFactory(), user=None)
    entry = panel(boss, "Waiting for review")
    assert entry["total"] == 7 and len(entry["items"]) == 5
    response = logged_in(boss).get(entry["link"])
    assert response.context["cl"].result_count == 7


def test_home_page_renders_counts_and_links():
    """The home page shows each panel's count and a link to all of them."""
    boss = editor("boss")
    for _ in range(6):
        services.explainer_submit(explainer=ExplainerFactory(), user=None)
    html = logged_in(boss).get(INDEX).text
    assert re.search(r'Waiting for review <span class="dashboard-count">6</span>', html)
    assert "?queue=review" in html and "All 6" in html


def test_staff_without_a_role_see_only_the_model_list():
    """Someone in no group gets no panels, and the page still works."""
    user = UserFactory(is_staff=True)
    assert titles(user) == []
    assert logged_in(user).get(INDEX).status_code == 200
