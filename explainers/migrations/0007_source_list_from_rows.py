"""Sources become part of each version: fill in what readers see today.

Until now sources were not versioned, so an explainer's current Source rows are what
readers saw; they become the sources of its working copy and of its live revision.
A migration of its own: rows written here must not share a transaction with 0006's
schema changes on PostgreSQL.
"""

from django.db import migrations


def fill_source_lists(apps, schema_editor):
    explainer_model = apps.get_model("explainers", "Explainer")
    historical_model = apps.get_model("explainers", "HistoricalExplainer")
    source_model = apps.get_model("explainers", "Source")
    for explainer in explainer_model.objects.all():
        sources = [
            {"label": source.label, "url": source.url}
            for source in source_model.objects.filter(explainer=explainer).order_by(
                "position", "id"
            )
        ]
        if not sources:
            continue
        explainer_model.objects.filter(pk=explainer.pk).update(source_list=sources)
        latest = historical_model.objects.filter(id=explainer.pk).order_by("-history_date").first()
        revision_ids = {explainer.live_revision_id, latest.history_id if latest else None}
        historical_model.objects.filter(history_id__in=revision_ids - {None}).update(
            source_list=sources
        )


class Migration(migrations.Migration):
    dependencies = [("explainers", "0006_versioned_reader_fields")]

    operations = [migrations.RunPython(fill_source_lists, migrations.RunPython.noop, elidable=True)]
