"""Applying a change to a locked case and recording it, in one place."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django_q.tasks import async_task

from cases import policy
from cases.audit import TRACKED, chain_event
from cases.choices import Priority
from cases.models import Case, CaseEvent
from cases.notifications.rules import NOTIFIED_EVENTS
from cases.persistence import write_event_and_case
from cases.webhooks.outbox import case_event_recorded

# Events that someone should hear about (cases.notifications.rules; see cases.tasks.notify_event).
NOTIFIED = NOTIFIED_EVENTS

_PRIORITY_ORDER = [Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT]


def raise_priority(current: str, at_least: str) -> str:
    return max(current, at_least, key=_PRIORITY_ORDER.index)


def next_due(case: Case) -> datetime:
    return case.first_contact_due if case.first_contact_at is None else case.resolve_due


def record(
    case: Case, *, kind: str, actor, now: datetime, note: str = "", data: dict | None = None, **changes
) -> CaseEvent:
    """Set `changes` on the locked `case`, append the event that records them
    and save the case, all in the caller's transaction. Its notifications
    (in the app and by email) are queued to go out after commit.

    `changes` of the event hold [before, after] of each TRACKED field that
    changed; the first event of a case holds [None, value] of every field
    that is set, so that the events alone imply the row (cases.audit.verify).

    Raises Conflict, before changing anything, unless the state table
    (cases.policy.TRANSITIONS) lets the actor (a person; None: the system)
    record `kind` on the case in its state, and any new status is the one
    that transition leads to. Webhooks and chat alerts the event raises are
    queued in the same transaction (cases.webhooks.outbox)."""
    status = case.status if case.audit_seq else policy.NO_CASE
    policy.check_recorded(
        case, kind, policy.SYSTEM if actor is None else policy.PERSON, status, changes.get("status", case.status)
    )
    before = [getattr(case, f) for f in TRACKED] if case.audit_seq else [None] * len(TRACKED)
    for name, value in changes.items():
        setattr(case, name, value)
    case.due_at = next_due(case)
    case.updated_at = now
    diff = {f: [old, getattr(case, f)] for f, old in zip(TRACKED, before) if old != getattr(case, f)}
    event = chain_event(
        case,
        kind=kind,
        actor=actor,
        at=now,
        note=note,
        data=data,
        changes={f.removesuffix("_id"): values for f, values in diff.items()},
    )
    # Only the columns that changed are written (any change outside TRACKED
    # as given).
    columns = (*diff, *(name for name in changes if name not in TRACKED), "updated_at", "audit_seq", "audit_head")
    write_event_and_case(event, case, dict.fromkeys(columns))
    if kind in NOTIFIED:
        transaction.on_commit(lambda: async_task("cases.tasks.notify_event", event.pk))
    case_event_recorded(case, event)
    return event
