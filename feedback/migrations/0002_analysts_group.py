"""The Analysts group: may view explainers and ratings and export ratings, change nothing."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Analysts"
PERMISSIONS = (
    ("explainers", "view_explainer"),
    ("explainers", "view_topic"),
    ("explainers", "view_source"),
    ("feedback", "view_rating"),
    ("feedback", "export_rating"),
)


def create_analysts(apps, schema_editor):
    # Permissions are normally created after migrate (post_migrate); on a fresh database
    # they do not exist yet, so create them now from the migration state.
    alias = schema_editor.connection.alias
    for app_label in sorted({label for label, _ in PERMISSIONS}):
        app_config = apps.get_app_config(app_label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=alias)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.using(alias).get_or_create(name=GROUP)
    for app_label, codename in PERMISSIONS:
        group.permissions.add(
            Permission.objects.using(alias).get(
                content_type__app_label=app_label, codename=codename
            )
        )


def delete_analysts(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0001_initial"),
        ("explainers", "0002_explainer_version_historicalexplainer"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_analysts, delete_analysts)]
