import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [
    ("explainers", "0002_explainer_version_historicalexplainer"),
    ("feedback", "0001_initial"),
]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_upgrade_keeps_published_explainers_public():
    """Explainers published before the workflow existed stay public with their text."""
    old_apps = migrate(BEFORE)
    explainer_model = old_apps.get_model("explainers", "Explainer")
    explainer_model.objects.create(
        headline="Published long ago",
        slug="published-long-ago",
        whats_happening="Something happened.",
        why_its_important="It mattered.",
        whats_next="More will happen.",
        status="published",
        published_at=timezone.now(),
    )
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    migrate(latest)
    from explainers.models import Explainer

    explainer = Explainer.objects.published().select_related("live_revision").get()
    assert explainer.live_revision.headline == "Published long ago"
    assert explainer.live_revision.whats_next == "More will happen."
