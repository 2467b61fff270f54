"""Create the three role groups on every install (see journeys/roles.py).

Later apps grant their own models' permissions to these groups in their
own migrations.
"""

from django.db import migrations

from journeys.roles import grant_role_permissions

ROLE_PERMISSIONS = {
    "Frontline": ["journeys.view_journey", "journeys.view_stage", "journeys.view_touchpoint", "journeys.view_team"],
    "Team lead": ["journeys.view_journey", "journeys.view_stage", "journeys.view_touchpoint", "journeys.view_team"],
    "CX admin": [
        f"{app}.{action}_{model}"
        for app, model in [
            ("journeys", "journey"), ("journeys", "stage"), ("journeys", "touchpoint"), ("journeys", "team"),
        ]
        for action in ("add", "change", "delete", "view")
    ] + ["auth.view_user", "authtoken.view_token", "authtoken.add_token", "authtoken.delete_token"],
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
