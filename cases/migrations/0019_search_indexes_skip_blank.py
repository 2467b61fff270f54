"""The case search's GIN indexes (cases 0014) hold only rows with text.

Search reads a word match only among rows whose text is not blank
(cases.selectors.word_matches: `exclude(comment="")`, `exclude(name="")`,
`exclude(note="")`), so a blank comment, name or note never needs an entry.
Before, every inserted row paid for one anyway: GIN keeps an "empty item"
entry for a row whose expression has no words, so each response without a
comment, each customer without a name and each case event without a note
(most events: status changes) added to the index's pending list and to its
merges. Partial indexes (`WHERE column <> ''`) skip those rows; PostgreSQL
uses them for the same queries because `NOT (column = '')` implies the
predicate. The expression is the one the search filters by, as before.
SQLite has no GIN: nothing to do there."""

from django.db import migrations

INDEXES = (
    ("case_search_comment", "feedback_feedbackresponse", "comment"),
    ("case_search_customer_name", "feedback_customer", "name"),
    ("case_search_note", "cases_caseevent", "note"),
)


def _recreate(schema_editor, *, partial: bool) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table, column in INDEXES:
        where = f" WHERE {column} <> ''" if partial else ""
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
        schema_editor.execute(
            f"CREATE INDEX {name} ON {table} "
            f"USING gin (to_tsvector('simple'::regconfig, COALESCE({column}, ''))){where}"
        )


def only_text(apps, schema_editor):
    _recreate(schema_editor, partial=True)


def every_row(apps, schema_editor):
    _recreate(schema_editor, partial=False)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0018_webhooks_chat_alerts"),
    ]

    operations = [migrations.RunPython(only_text, every_row)]
