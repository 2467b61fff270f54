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


JOURNEY_READ = ["journeys.view_journey", "journeys.view_stage", "journeys.view_touchpoint", "journeys.view_team"]

ROLE_PERMISSIONS = {
    "Frontline": ["feedback.view_feedbackresponse", "feedback.view_customer"],
    "Team lead": ["feedback.view_feedbackresponse", "feedback.view_customer"],
    "CX admin": [
        "feedback.view_feedbackresponse",
        "feedback.add_feedbackresponse",
        "feedback.view_all_feedback",
        "feedback.view_customer",
        "feedback.change_customer",
        "feedback.view_customeridentity",
    ],
    "Integration": JOURNEY_READ
    + [
        "feedback.view_feedbackresponse",
        "feedback.add_feedbackresponse",
        "feedback.view_all_feedback",
        "feedback.view_customer",
    ],
}


def create_roles(apps, schema_editor):
    grant_role_permissions(apps, ROLE_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("feedback", "0001_initial"), ("journeys", "0002_roles")]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
