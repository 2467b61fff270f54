"""Applying a change to a locked case and recording it, in one place."""

from __future__ import annotations

from datetime import datetime

from django.db import connections, router, transaction
from django_q.tasks import async_task

from cases.audit import TRACKED, chain_event
from cases.choices import EventKind, Priority
from cases.models import Case, CaseEvent

# Events that someone should hear about by email (see cases.tasks.notify_event).
NOTIFIED = {EventKind.ASSIGNED, EventKind.SLA_BREACHED, EventKind.ESCALATED}
# Backends that can insert the event and update the case in one statement (a
# data-modifying WITH); the tests switch it off to compare with the ORM path.
ONE_STATEMENT_VENDORS = frozenset({"postgresql"})
_EVENT_FIELDS = tuple(f for f in CaseEvent._meta.concrete_fields if not f.primary_key)

_SQL: dict[tuple[str, ...], str] = {}  # by the case's columns: a few shapes, one per kind of change


_PRIORITY_ORDER = [Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT]


def raise_priority(current: str, at_least: str) -> str:
    return max(current, at_least, key=_PRIORITY_ORDER.index)


def next_due(case: Case) -> datetime:
    return case.first_contact_due if case.first_contact_at is None else case.resolve_due


def record(case: Case, *, kind: str, actor, now: datetime, note: str = "", data: dict | None = None,
           **changes) -> CaseEvent:
    """Set `changes` on the locked `case`, append the event that records them
    and save the case, all in the caller's transaction. Emails for the event
    are queued to go out after commit.

    `changes` of the event hold [before, after] of each TRACKED field that
    changed; the first event of a case holds [None, value] of every field
    that is set, so that the events alone imply the row (cases.audit.verify)."""
    before = [getattr(case, f) for f in TRACKED] if case.audit_seq else [None] * len(TRACKED)
    for name, value in changes.items():
        setattr(case, name, value)
    case.due_at = next_due(case)
    case.updated_at = now
    diff = {f: [old, getattr(case, f)] for f, old in zip(TRACKED, before) if old != getattr(case, f)}
    event = chain_event(case, kind=kind, actor=actor, at=now, note=note, data=data,
                        changes={f.removesuffix("_id"): values for f, values in diff.items()})
    # Only the columns that changed are written (any change outside TRACKED
    # as given).
    columns = (*diff, *(name for name in changes if name not in TRACKED), "updated_at", "audit_seq", "audit_head")
    write_event_and_case(event, case, dict.fromkeys(columns))
    if kind in NOTIFIED:
        transaction.on_commit(lambda: async_task("cases.tasks.notify_event", event.pk))
    return event


def write_event_and_case(event: CaseEvent, case: Case, columns) -> None:
    """Insert the new `event` and update `columns` (field names or attnames)
    of `case`. Like save() without signals (the models have no receivers).

    On PostgreSQL this is one statement, so one round trip: a data-modifying
    CTE inserts the event and the UPDATE moves the case's audit head
    (bench/bench_transition.py). Elsewhere it is the two ORM saves."""
    connection = connections[router.db_for_write(Case, instance=case)]
    if connection.vendor not in ONE_STATEMENT_VENDORS:
        event.save(force_insert=True, using=connection.alias)
        case.save(update_fields=list(columns), using=connection.alias)
        return
    fields = tuple(Case._meta.get_field(name) for name in columns)
    params = [f.get_db_prep_save(f.pre_save(event, True), connection) for f in _EVENT_FIELDS]
    params += [f.get_db_prep_save(f.pre_save(case, False), connection) for f in fields]
    params.append(case.pk)
    with connection.cursor() as cursor:
        cursor.execute(_one_statement_sql(connection, tuple(f.column for f in fields)), params)
        row = cursor.fetchone()
    if row is None:  # cannot happen under the caller's row lock; no half-written chain either way
        raise Case.DoesNotExist(f"Case {case.pk} vanished while it was locked.")
    event.pk = row[0]
    event._state.adding, event._state.db = False, connection.alias


def _one_statement_sql(connection, case_columns: tuple[str, ...]) -> str:
    sql = _SQL.get(case_columns)
    if sql is None:
        quote, event_meta, case_meta = connection.ops.quote_name, CaseEvent._meta, Case._meta
        event_pk = quote(event_meta.pk.column)
        # Names from the models' metadata, quoted by the backend; values are parameters.
        sql = _SQL[case_columns] = (
            f"WITH e AS (INSERT INTO {quote(event_meta.db_table)} "  # nosec B608
            f"({', '.join(quote(f.column) for f in _EVENT_FIELDS)}) "
            f"VALUES ({', '.join(['%s'] * len(_EVENT_FIELDS))}) RETURNING {event_pk}) "
            f"UPDATE {quote(case_meta.db_table)} SET {', '.join(f'{quote(c)} = %s' for c in case_columns)} "
            f"FROM e WHERE {quote(case_meta.db_table)}.{quote(case_meta.pk.column)} = %s RETURNING e.{event_pk}"
        )
    return sql
