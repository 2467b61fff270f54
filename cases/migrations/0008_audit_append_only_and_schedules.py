"""The checkpoint tables are append-only in PostgreSQL itself, like the
events; the schedules that keep checkpoints coming and verify the trail."""

from datetime import timedelta

from django.db import migrations
from django.utils import timezone

TABLES = ("cases_auditcheckpoint", "cases_auditcheckpointhead")
APPEND_ONLY_SQL = """
CREATE OR REPLACE FUNCTION cvx_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'restrict_violation';
END
$$ LANGUAGE plpgsql;
""" + "".join(
    f"""
CREATE TRIGGER cvx_no_update_delete BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION cvx_append_only();
CREATE TRIGGER cvx_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION cvx_append_only();
"""
    for table in TABLES
)
DROP_SQL = (
    "".join(
        f"""
DROP TRIGGER IF EXISTS cvx_no_update_delete ON {table};
DROP TRIGGER IF EXISTS cvx_no_truncate ON {table};
"""
        for table in TABLES
    )
    + "DROP FUNCTION IF EXISTS cvx_append_only();"
)

# Hourly: a signed checkpoint, then the trail verified since the last good
# one. Daily: every chain verified from its first event.
SCHEDULES = {
    "cvx: audit checkpoint": {"func": "cases.tasks.audit_checkpoint", "schedule_type": "H"},
    "cvx: full audit verification": {"func": "cases.tasks.audit_verify_full", "schedule_type": "D"},
}


def _run_sql(schema_editor, sql: str) -> None:
    # Executed without parameters, so PL/pgSQL's own % is not taken for a placeholder.
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(sql)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        _run_sql(schema_editor, APPEND_ONLY_SQL)
    Schedule = apps.get_model("django_q", "Schedule")
    for offset, (name, fields) in enumerate(SCHEDULES.items()):
        Schedule.objects.update_or_create(
            name=name,
            defaults={**fields, "repeats": -1, "next_run": timezone.now() + timedelta(minutes=5 + 30 * offset)},
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        _run_sql(schema_editor, DROP_SQL)
    apps.get_model("django_q", "Schedule").objects.filter(name__in=SCHEDULES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0007_audit_checkpoints_keyed_hashes"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
