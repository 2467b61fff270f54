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


def grant(apps, schema_editor):
    # CX admins manage reply templates and read the unmatched inbound emails.
    grant_role_permissions(
        apps,
        {
            "CX admin": [
                "cases.add_replytemplate",
                "cases.change_replytemplate",
                "cases.delete_replytemplate",
                "cases.view_replytemplate",
                "cases.view_unmatchedemail",
            ]
        },
    )


class Migration(migrations.Migration):
    dependencies = [("cases", "0011_case_messaging")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
