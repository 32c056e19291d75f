"""Analysts also read the editorial record: versions, workflow steps, notices, old slugs.

feedback made the Analysts group (0002), so feedback grants it these too; explainers' roles
migration used to, which made explainers depend on feedback. Databases migrated before hold
them already, and adding a permission the group holds changes nothing.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Analysts"
EDITORIAL_RECORD = (
    "view_historicalexplainer",
    "view_workflowevent",
    "view_notice",
    "view_slugredirect",
)


def _permissions(apps, alias):
    return (
        apps.get_model("auth", "Permission")
        .objects.using(alias)
        .filter(content_type__app_label="explainers", codename__in=EDITORIAL_RECORD)
    )


def grant_editorial_record(apps, schema_editor):
    alias = schema_editor.connection.alias
    # Permissions are normally created after migrate (post_migrate); make sure they exist now.
    app_config = apps.get_app_config("explainers")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0, using=alias)
    app_config.models_module = None
    # An administrator may have deleted the group since 0002: it is not brought back.
    group = apps.get_model("auth", "Group").objects.using(alias).filter(name=GROUP).first()
    if group is None:
        return
    permissions = list(_permissions(apps, alias))
    missing = set(EDITORIAL_RECORD) - {permission.codename for permission in permissions}
    if missing:
        raise RuntimeError(f"Permissions not found for {GROUP}: {sorted(missing)}")
    group.permissions.add(*permissions)


def revoke_editorial_record(apps, schema_editor):
    alias = schema_editor.connection.alias
    group = apps.get_model("auth", "Group").objects.using(alias).filter(name=GROUP).first()
    if group is not None:
        group.permissions.remove(*_permissions(apps, alias))


class Migration(migrations.Migration):
    dependencies = [
        ("explainers", "0005_roles"),
        ("feedback", "0003_rating_reason_known_no_lone_explainer_index"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant_editorial_record, revoke_editorial_record)]
