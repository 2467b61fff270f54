"""Make the audit trail append-only in PostgreSQL itself, create the roles'
permissions for cases, and install the SLA sweep schedule."""

from django.db import migrations
from django.utils import timezone


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


APPEND_ONLY_SQL = """
CREATE OR REPLACE FUNCTION cvx_caseevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'cases_caseevent is append-only: % refused', TG_OP USING ERRCODE = 'restrict_violation';
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER cvx_caseevent_no_update_delete BEFORE UPDATE OR DELETE ON cases_caseevent
    FOR EACH ROW EXECUTE FUNCTION cvx_caseevent_append_only();
CREATE TRIGGER cvx_caseevent_no_truncate BEFORE TRUNCATE ON cases_caseevent
    FOR EACH STATEMENT EXECUTE FUNCTION cvx_caseevent_append_only();
"""
DROP_SQL = """
DROP TRIGGER IF EXISTS cvx_caseevent_no_update_delete ON cases_caseevent;
DROP TRIGGER IF EXISTS cvx_caseevent_no_truncate ON cases_caseevent;
DROP FUNCTION IF EXISTS cvx_caseevent_append_only();
"""

CASE_READ = ["cases.view_case", "cases.view_caseevent", "cases.view_rootcause"]
ROLE_PERMISSIONS = {
    "Frontline": CASE_READ,
    "Team lead": CASE_READ,
    "CX admin": CASE_READ
    + ["cases.act_on_all_cases", "cases.view_routingrule"]
    + [
        f"cases.{action}_{model}"
        for model in ("routingrule", "rootcause")
        for action in ("add", "change", "delete", "view")
    ],
    "Integration": ["cases.view_case", "cases.view_caseevent"],
}


def _run_sql(schema_editor, sql: str) -> None:
    # Executed without parameters, so PL/pgSQL's own % is not taken for a placeholder.
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(sql)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        _run_sql(schema_editor, APPEND_ONLY_SQL)
    grant_role_permissions(apps, ROLE_PERMISSIONS)
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name="cvx: SLA sweep",
        defaults={
            "func": "cases.tasks.sla_sweep",
            "schedule_type": "I",
            "minutes": 5,
            "repeats": -1,
            "next_run": timezone.now(),
        },
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        _run_sql(schema_editor, DROP_SQL)
    apps.get_model("django_q", "Schedule").objects.filter(name="cvx: SLA sweep").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0001_initial"),
        ("feedback", "0002_roles"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
