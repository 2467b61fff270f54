"""CX admins add people, put them in teams and give them a role on one admin
form, and deactivate them (the user admin in cases/people_admin.py keeps the
superuser and permission fields to superusers)."""

from django.db import migrations


# Frozen copy of the role-permission helper (as in 0002): a migration must not
# run code that changes after it.
def grant_role_permissions(apps, role_permissions: dict[str, list[str]]) -> None:
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in role_permissions.items():
        group, _ = Group.objects.get_or_create(name=role)
        for dotted in perms:
            app_label, codename = dotted.split(".")
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def grant(apps, schema_editor):
    grant_role_permissions(apps, {"CX admin": ["auth.add_user", "auth.change_user"]})


class Migration(migrations.Migration):
    dependencies = [
        ("journeys", "0004_stage_blueprint_touchpoint_side"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
