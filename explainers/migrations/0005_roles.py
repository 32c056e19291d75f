"""The newsroom's roles as groups. Add people to a group in the admin (Users → Groups)."""

from django.db import migrations

WRITERS = [
    "add_explainer",
    "change_explainer",
    "view_explainer",
    "view_historicalexplainer",
    "view_topic",
    "add_source",
    "change_source",
    "delete_source",
    "view_source",
    "view_workflowevent",
    "view_notice",
    "view_slugredirect",
]
EDITORS = [
    *WRITERS,
    "publish_explainer",
    "review_explainer",
    "signoff_explainer",
    "add_topic",
    "change_topic",
    "add_notice",
    "add_previewlink",
    "change_previewlink",
    "view_previewlink",
]
ROLES = {"Writers": WRITERS, "Editors": EDITORS}


def create_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _ = group_model.objects.get_or_create(name=name)
        permissions = permission_model.objects.filter(
            content_type__app_label="explainers", codename__in=codenames
        )
        missing = set(codenames) - set(permissions.values_list("codename", flat=True))
        if missing:
            raise RuntimeError(f"Permissions not found for {name}: {sorted(missing)}")
        group.permissions.add(*permissions)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("explainers", "0004_live_revisions"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
