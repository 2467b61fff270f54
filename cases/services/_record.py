"""Applying a change to a locked case and recording it, in one place."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django_q.tasks import async_task

from cases.audit import append_event
from cases.choices import EventKind, Priority
from cases.models import Case, CaseEvent

# Fields whose before/after values go into an event's `changes`.
TRACKED = ("status", "owner_id", "priority", "outcome", "root_cause_id", "resolution_summary", "due_at",
           "first_contact_at", "resolved_at", "closed_at", "first_contact_breached_at",
           "resolution_breached_at", "contact_count")
# Events that someone should hear about by email (see cases.tasks.notify_event).
NOTIFIED = {EventKind.ASSIGNED, EventKind.SLA_BREACHED, EventKind.ESCALATED}


_PRIORITY_ORDER = [Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT]


def raise_priority(current: str, at_least: str) -> str:
    return max(current, at_least, key=_PRIORITY_ORDER.index)


def next_due(case: Case) -> datetime:
    return case.first_contact_due if case.first_contact_at is None else case.resolve_due


def record(case: Case, *, kind: str, actor, now: datetime, note: str = "", data: dict | None = None,
           **changes) -> CaseEvent:
    """Set `changes` on the locked `case`, append the event that records them
    and save the case, all in the caller's transaction. Emails for the event
    are queued to go out after commit."""
    before = {f: getattr(case, f) for f in TRACKED}
    for name, value in changes.items():
        setattr(case, name, value)
    case.due_at = next_due(case)
    case.updated_at = now
    diff = {f.removesuffix("_id"): [before[f], getattr(case, f)] for f in TRACKED if before[f] != getattr(case, f)}
    event = append_event(case, kind=kind, actor=actor, at=now, changes=diff, note=note, data=data)
    changed = [f for f in TRACKED if before[f] != getattr(case, f)]
    case.save(update_fields=[*changed, "due_at", "updated_at", "audit_seq", "audit_head", *changes])
    if kind in NOTIFIED:
        transaction.on_commit(lambda: async_task("cases.tasks.notify_event", event.pk))
    return event
