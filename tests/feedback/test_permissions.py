import importlib
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.urls import reverse

from explainers.models import Explainer
from tests.factories import ExplainerFactory, SourceFactory, UserFactory
from tests.feedback.rating_factories import RatingFactory

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("feedback.migrations.0002_analysts_group")
EDITORIAL_RECORD_MIGRATION = importlib.import_module(
    "feedback.migrations.0004_analysts_read_editorial_record"
)
EXPLAINERS = reverse("admin:explainers_explainer_changelist")
EXPLAINER_ADD = reverse("admin:explainers_explainer_add")
RATINGS = reverse("admin:feedback_rating_changelist")
REPORT = reverse("admin:feedback_rating_report")
# What feedback's own migration grants.
FEEDBACK_MIGRATION_PERMISSIONS = {
    "explainers.view_explainer",
    "explainers.view_topic",
    "explainers.view_source",
    "feedback.view_rating",
    "feedback.export_rating",
}
# Added by feedback's 0004 once the workflow exists: the editorial record is readable too.
EDITORIAL_RECORD_PERMISSIONS = {
    "explainers.view_historicalexplainer",
    "explainers.view_workflowevent",
    "explainers.view_notice",
    "explainers.view_slugredirect",
}
ANALYST_PERMISSIONS = FEEDBACK_MIGRATION_PERMISSIONS | EDITORIAL_RECORD_PERMISSIONS


@pytest.fixture
def analyst(client):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name="Analysts"))
    client.force_login(user)
    return user


@pytest.fixture
def staff(client):
    user = UserFactory(is_staff=True)
    client.force_login(user)
    return user


def action_names(response):
    form = response.context["action_form"]
    return {name for name, _ in form.fields["action"].choices if name} if form else set()


def test_migration_creates_analysts_with_view_and_export_permissions():
    """The Analysts group holds exactly the view permissions and the rating export."""
    group = Group.objects.get(name="Analysts")
    granted = {
        f"{p.content_type.app_label}.{p.codename}"
        for p in group.permissions.select_related("content_type")
    }
    assert granted == ANALYST_PERMISSIONS


def test_analysts_get_every_listed_permission(analyst):
    """A member of Analysts has the group's permissions and none to change anything."""
    assert analyst.get_all_permissions() == ANALYST_PERMISSIONS


def test_migration_reverse_deletes_the_group_and_forward_restores_it():
    """Unapplying the migration removes Analysts; applying it again recreates it in full."""
    state = MigrationLoader(connection).project_state(("feedback", "0002_analysts_group"))
    editor = SimpleNamespace(connection=connection)
    MIGRATION.delete_analysts(state.apps, editor)
    assert not Group.objects.filter(name="Analysts").exists()
    MIGRATION.create_analysts(state.apps, editor)
    MIGRATION.create_analysts(state.apps, editor)  # running twice is harmless
    group = Group.objects.get(name="Analysts")
    assert group.permissions.count() == len(FEEDBACK_MIGRATION_PERMISSIONS)


def group_permissions(name: str) -> set[str]:
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Group.objects.get(name=name).permissions.select_related("content_type")
    }


def test_editorial_record_migration_reverses_and_reapplies():
    """Unapplying 0004 takes back the editorial record only; applying it twice grants it once."""
    state = MigrationLoader(connection).project_state(
        ("feedback", "0004_analysts_read_editorial_record")
    )
    editor = SimpleNamespace(connection=connection)
    EDITORIAL_RECORD_MIGRATION.revoke_editorial_record(state.apps, editor)
    assert group_permissions("Analysts") == FEEDBACK_MIGRATION_PERMISSIONS
    EDITORIAL_RECORD_MIGRATION.grant_editorial_record(state.apps, editor)
    EDITORIAL_RECORD_MIGRATION.grant_editorial_record(state.apps, editor)
    assert group_permissions("Analysts") == ANALYST_PERMISSIONS


def test_editorial_record_migration_does_not_recreate_a_deleted_group():
    """If an administrator deleted Analysts, the migration leaves it deleted."""
    Group.objects.filter(name="Analysts").delete()
    state = MigrationLoader(connection).project_state(
        ("feedback", "0004_analysts_read_editorial_record")
    )
    editor = SimpleNamespace(connection=connection)
    EDITORIAL_RECORD_MIGRATION.grant_editorial_record(state.apps, editor)
    assert not Group.objects.filter(name="Analysts").exists()


def test_analyst_opens_explainer_and_rating_lists_and_the_report(client, analyst):
    """Analysts can open the explainer list, the ratings list and the report."""
    RatingFactory()
    for url in (EXPLAINERS, RATINGS, REPORT):
        assert client.get(url).status_code == 200, url


def test_analyst_cannot_add_explainers(client, analyst):
    """The explainer add page and the import page refuse analysts."""
    assert client.get(EXPLAINER_ADD).status_code == 403
    assert client.get(reverse("admin:explainers_explainer_import")).status_code == 403
    assert "Import from text" not in client.get(EXPLAINERS).text


def test_analyst_sees_explainer_page_read_only(client, analyst):
    """The explainer's page shows its text with no form fields and no save button."""
    explainer = ExplainerFactory(headline="Talks resume")
    SourceFactory(explainer=explainer, label="Wire report")
    response = client.get(reverse("admin:explainers_explainer_change", args=[explainer.pk]))
    assert response.status_code == 200
    assert "Talks resume" in response.text and "Wire report" in response.text
    assert 'name="headline"' not in response.text
    assert 'name="_save"' not in response.text
    assert not response.context["has_change_permission"]


def test_analyst_cannot_change_explainers(client, analyst):
    """A post to the explainer's page is refused and changes nothing."""
    explainer = ExplainerFactory(headline="Original")
    url = reverse("admin:explainers_explainer_change", args=[explainer.pk])
    response = client.post(url, {"headline": "Changed", "slug": explainer.slug})
    assert response.status_code == 403
    explainer.refresh_from_db()
    assert explainer.headline == "Original"


def test_analyst_cannot_delete_explainers(client, analyst):
    """The explainer delete page and the bulk delete action refuse analysts."""
    explainer = ExplainerFactory()
    url = reverse("admin:explainers_explainer_delete", args=[explainer.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    client.post(
        EXPLAINERS, {"action": "delete_selected", "_selected_action": [explainer.pk], "post": "yes"}
    )
    assert Explainer.objects.filter(pk=explainer.pk).exists()


def test_analyst_gets_no_publish_actions(client, analyst):
    """Analysts are offered neither publish nor unpublish, and posting one does nothing."""
    draft = ExplainerFactory()
    response = client.get(EXPLAINERS)
    assert not action_names(response) & {"publish", "unpublish", "delete_selected"}
    client.post(EXPLAINERS, {"action": "publish", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == Explainer.Status.DRAFT


def test_analyst_sees_feedback_columns(client, analyst):
    """The explainer list shows analysts the votes, share and lower bound columns."""
    response = client.get(EXPLAINERS)
    headers = [str(h["text"]) for h in response.context["result_headers"]]
    assert headers[-3:] == ["votes", "useful", "lower bound"]


def test_analyst_cannot_change_ratings(client, analyst):
    """A rating's page is read-only for analysts and a post is refused."""
    rating = RatingFactory(comment="Clear.")
    url = reverse("admin:feedback_rating_change", args=[rating.pk])
    response = client.get(url)
    assert response.status_code == 200 and 'name="_save"' not in response.text
    assert client.post(url, {"comment": "Edited"}).status_code == 403
    rating.refresh_from_db()
    assert rating.comment == "Clear."


def test_analyst_may_export_ratings(client, analyst):
    """Analysts get the export link and the export action on the ratings list."""
    RatingFactory()
    response = client.get(RATINGS)
    assert ">Export CSV<" in response.text
    assert action_names(response) == {"export_selected_ratings"}


def test_staff_without_the_group_get_403_on_the_report(client, staff):
    """Staff who are not analysts may not open the report."""
    assert client.get(REPORT).status_code == 403


def test_staff_without_the_group_have_no_access_to_ratings(client, staff):
    """Staff who are not analysts may not open ratings, one by one or in a list."""
    rating = RatingFactory()
    assert client.get(RATINGS).status_code == 403
    assert client.get(reverse("admin:feedback_rating_change", args=[rating.pk])).status_code == 403
    assert client.get(reverse("admin:feedback_rating_export")).status_code == 403


def test_staff_without_the_group_do_not_see_ratings_on_the_index(client, staff):
    """The admin index does not list ratings to staff who may not view them."""
    response = client.get(reverse("admin:index"))
    assert RATINGS not in response.text


@pytest.mark.parametrize(
    "url", [REPORT, RATINGS, EXPLAINERS, reverse("admin:feedback_rating_export")]
)
def test_anonymous_users_are_sent_to_login(client, url):
    """Anonymous visitors are redirected to the admin login."""
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_non_staff_user_with_the_group_is_sent_to_login(client):
    """Being in Analysts is not enough without staff status."""
    user = UserFactory(is_staff=False)
    user.groups.add(Group.objects.get(name="Analysts"))
    client.force_login(user)
    response = client.get(REPORT)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
