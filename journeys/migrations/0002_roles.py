"""Create the three role groups on every install (see journeys/roles.py).

Later apps grant their own models' permissions to these groups in their
own migrations.
"""

from django.db import migrations


# Frozen copy of journeys.roles.grant_role_permissions as this migration was
# written: a migration must not run code that changes after it.
def grant_role_permissions(apps, role_permissions: dict[str, list[str]]) -> None:
    """Give each role group the named permissions, creating the permissions
    first (Django creates them only after all migrations)."""
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


ROLE_PERMISSIONS = {
    "Frontline": ["journeys.view_journey", "journeys.view_stage", "journeys.view_touchpoint", "journeys.view_team"],
    "Team lead": ["journeys.view_journey", "journeys.view_stage", "journeys.view_touchpoint", "journeys.view_team"],
    "CX admin": [
        f"{app}.{action}_{model}"
        for app, model in [
            ("journeys", "journey"),
            ("journeys", "stage"),
            ("journeys", "touchpoint"),
            ("journeys", "team"),
        ]
        for action in ("add", "change", "delete", "view")
    ]
    + ["auth.view_user", "authtoken.view_token", "authtoken.add_token", "authtoken.delete_token"],
}


def create_roles(apps, schema_editor):
    grant_role_permissions(apps, ROLE_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("journeys", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
