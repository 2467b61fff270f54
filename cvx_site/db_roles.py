"""Two PostgreSQL roles: the owner migrates, the app role works.

With DATABASE_OWNER_URL set, `manage.py migrate` (cases' override of it)
connects as the owner role, which owns every table, and then grants the app
role (DATABASE_URL's) what the app needs and no more:

- SELECT, INSERT, UPDATE, DELETE on every table, USAGE on every sequence,
  and the same by default on what the owner creates later;
- only SELECT and INSERT on the append-only tables (models with
  `APPEND_ONLY = True`: the audit trail and its checkpoints);
- only SELECT on django_migrations.

Owning nothing, the app role cannot ALTER TABLE ... DISABLE TRIGGER, drop
the append-only triggers or replace their function; not being a superuser
it cannot SET session_replication_role. Without DATABASE_OWNER_URL the app
runs as the owner and all of this is moot: the README says what that loses.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.apps import apps
from django.conf import settings

_CREDENTIALS = ("USER", "PASSWORD", "HOST", "PORT")


def append_only_tables() -> list[str]:
    """The tables of the models that declare themselves append-only."""
    return sorted(m._meta.db_table for m in apps.get_models() if getattr(m, "APPEND_ONLY", False))


@contextlib.contextmanager
def as_owner(connection) -> Iterator[bool]:
    """`connection` logged in as the owner role for the block; yields whether
    there is one (PostgreSQL with DATABASE_OWNER_URL). The connection is
    closed on the way in and out, so no session of one role serves the other."""
    owner = settings.CVX_DATABASE_OWNER
    if not owner or connection.vendor != "postgresql":
        yield False
        return
    saved = {key: connection.settings_dict.get(key) for key in _CREDENTIALS}
    if saved["USER"] == owner["USER"]:  # already (the test database's setup)
        yield True
        return
    connection.close()
    connection.settings_dict.update(owner)
    try:
        yield True
    finally:
        connection.close()
        connection.settings_dict.update(saved)


def grant_app_role(connection, role: str | None = None) -> None:
    """Give the app role its privileges (see the module docstring); run as
    the owner, after migrating, so new tables are covered too."""
    from psycopg import sql

    role = role or settings.CVX_DATABASE_APP_ROLE
    if connection.vendor != "postgresql" or not role:
        return
    grantee = sql.Identifier(role)
    statements = [
        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}"),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}"),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}"),
        sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}"),
        sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT USAGE, SELECT ON SEQUENCES TO {}"),
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        schema = sql.Identifier(cursor.fetchone()[0])
        statements = [s.format(schema, grantee) for s in statements]
        statements += [
            sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE ON {} FROM {}").format(sql.Identifier(table), grantee)
            for table in append_only_tables()
        ]
        statements.append(
            sql.SQL("REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON django_migrations FROM {}").format(grantee)
        )
        for statement in statements:
            # Identifiers quoted by psycopg; no values.
            cursor.execute(statement.as_string(connection.connection))
