"""`migrate` as the role that owns the tables, when there is one.

With DATABASE_OWNER_URL set (PostgreSQL), the migrations run as that role
and the app role (DATABASE_URL's) is then granted what the app needs and no
more (cvx_site.db_roles): it can never alter or disable the audit trail's
triggers. Otherwise this is Django's migrate."""

from __future__ import annotations

from django.core.management.commands import migrate
from django.db import connections

from cvx_site.db_roles import as_owner, grant_app_role


class Command(migrate.Command):
    help = migrate.Command.help + " As DATABASE_OWNER_URL's role when set, then granting the app role."

    def handle(self, *args, **options):
        connection = connections[options["database"]]
        with as_owner(connection) as owner:
            super().handle(*args, **options)
            if owner:
                grant_app_role(connection)
