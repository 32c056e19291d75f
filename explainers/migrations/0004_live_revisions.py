"""Explainers published before revisions were tracked go on showing their current text.

A migration of its own: on PostgreSQL, rows written here cannot share a transaction with the
schema changes of 0003, whose deferred index creation would then fail.
"""

from django.db import migrations


def point_live_revisions(apps, schema_editor):
    """Explainers published before revisions were tracked go on showing their current text."""
    from django.utils import timezone

    explainer_model = apps.get_model("explainers", "Explainer")
    historical_model = apps.get_model("explainers", "HistoricalExplainer")
    shared = {field.attname for field in explainer_model._meta.fields} & {
        field.attname for field in historical_model._meta.fields
    }
    for explainer in explainer_model.objects.filter(status="published", live_revision=None):
        record = (
            historical_model.objects.filter(id=explainer.pk, version=explainer.version)
            .order_by("-history_date")
            .first()
        )
        if record is None:
            record = historical_model.objects.create(
                **{name: getattr(explainer, name) for name in shared},
                history_date=timezone.now(),
                history_type="~",
                history_change_reason="Revision recorded when workflow began",
            )
        explainer_model.objects.filter(pk=explainer.pk).update(
            live_revision=record, public_updated_at=explainer.updated_at
        )


class Migration(migrations.Migration):
    dependencies = [("explainers", "0003_workflow")]

    operations = [
        migrations.RunPython(point_live_revisions, migrations.RunPython.noop, elidable=True)
    ]
