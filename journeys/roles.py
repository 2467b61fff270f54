"""The three roles are Django groups, created by migration 0002.

- Frontline: works cases of their own and takes unassigned cases of their
  teams; reads journeys and touchpoints.
- Team lead: everything Frontline may, on every case of the teams they lead
  (reassign, escalate, reopen, cancel), and reads the audit trail of those.
- CX admin: configures journeys, touchpoints, teams, routing rules, root
  causes and surveys in the admin; acts on every case.

- Integration: a service account; sends feedback and reads journeys,
  touchpoints, customers and feedback over the API with its token.

Scope (which cases) comes from team membership and leadership; the group
grants what kind of thing a person may do.
"""

FRONTLINE = "Frontline"
TEAM_LEAD = "Team lead"
CX_ADMIN = "CX admin"
# Not a person: the service account behind an integration's API token.
INTEGRATION = "Integration"
ALL_ROLES = (FRONTLINE, TEAM_LEAD, CX_ADMIN, INTEGRATION)


def grant_role_permissions(apps, role_permissions: dict[str, list[str]]) -> None:
    """For data migrations: give each role group the named permissions.

    `apps` is the migration's app registry; permissions are normally created
    only after all migrations, so they are created here first.
    """
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
