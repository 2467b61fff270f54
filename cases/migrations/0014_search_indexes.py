"""GIN indexes for case search on PostgreSQL (cases.selectors.search): the
words of the opening comment, of the customer's name and of case notes.

Expression indexes on the very expressions the search filters by
(`to_tsvector('simple', COALESCE(column, ''))`, as Django's SearchVector
writes them), so nothing is copied: a note appended by a service, or a
name and comment blanked by feedback.privacy, is indexed as it is now. The
feedback tables' two are made here because only case search reads them.
SQLite has no GIN: its search reads the columns (the fallback)."""

from django.db import migrations

INDEXES = (
    ("case_search_comment", "feedback_feedbackresponse", "comment"),
    ("case_search_customer_name", "feedback_customer", "name"),
    ("case_search_note", "cases_caseevent", "note"),
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table, column in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} "
            f"USING gin (to_tsvector('simple'::regconfig, COALESCE({column}, '')))"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0013_saved_filter"),
        ("feedback", "0011_topics"),
    ]

    operations = [migrations.RunPython(create, drop)]
