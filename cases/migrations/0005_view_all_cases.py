from django.db import migrations

from journeys.roles import grant_role_permissions


def grant(apps, schema_editor):
    grant_role_permissions(apps, {"Integration": ["cases.view_all_cases"], "CX admin": ["cases.view_all_cases"]})


class Migration(migrations.Migration):
    dependencies = [("cases", "0004_follow_up_schedule")]

    operations = [
        migrations.AlterModelOptions(
            name="case",
            options={"ordering": ["due_at", "id"], "permissions": [
                ("act_on_all_cases", "Can see and act on the cases of every team"),
                ("view_all_cases", "Can see the cases and loop metrics of every team"),
            ]},
        ),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
