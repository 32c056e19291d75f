import django.db.models.deletion
from django.db import migrations, models

# The index Django made for the foreign key in 0001. Dropped by name: AlterField would also
# drop and re-add the foreign key itself, rechecking every rating under a table lock.
EXPLAINER_INDEX = "feedback_rating_explainer_id_f9c7f56e"


class Migration(migrations.Migration):
    dependencies = [
        ("explainers", "0005_roles"),
        ("feedback", "0002_analysts_group"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="rating",
                    name="explainer",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="ratings",
                        to="explainers.explainer",
                        verbose_name="explainer",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{EXPLAINER_INDEX}"',
                    reverse_sql=f'CREATE INDEX "{EXPLAINER_INDEX}" ON "feedback_rating" '
                    '("explainer_id")',
                ),
            ],
        ),
        migrations.AddConstraint(
            model_name="rating",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "reason__in",
                        [
                            "",
                            "missing-context",
                            "hard-to-understand",
                            "out-of-date",
                            "inaccurate",
                            "too-long",
                            "other",
                        ],
                    )
                ),
                name="rating_reason_known",
                violation_error_message="Unknown reason.",
            ),
        ),
    ]
