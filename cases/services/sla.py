"""The SLA sweep: complaints past a due time are marked breached once,
escalated to the team lead, and the breach is recorded. Opportunities have
due times (the queue sorts by them) but no breach: nothing escalates a
promoter not yet called."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from cases.choices import OPEN_STATUSES, CaseKind, CaseStatus, EventKind, Priority
from cases.models import Case
from cases.services._record import raise_priority, record

_SLAS = {
    # sla name: (due field, done field, breached-at field)
    "first_contact": ("first_contact_due", "first_contact_at", "first_contact_breached_at"),
    "resolution": ("resolve_due", "resolved_at", "resolution_breached_at"),
}


def sla_sweep(*, now: datetime | None = None) -> int:
    """Mark every newly breached SLA; returns how many were marked. Running
    it again marks nothing more."""
    now = now or timezone.now()
    marked = 0
    for sla, (due, done, breached_at) in _SLAS.items():
        overdue = Case.objects.filter(
            kind=CaseKind.COMPLAINT,
            status__in=OPEN_STATUSES,
            **{f"{due}__lt": now, f"{done}__isnull": True, f"{breached_at}__isnull": True},
        ).values_list("pk", flat=True)
        for case_id in list(overdue.iterator(chunk_size=1000)):
            marked += _mark(case_id, sla, now)
    return marked


def _mark(case_id: int, sla: str, now: datetime) -> bool:
    due, done, breached_at = _SLAS[sla]
    with transaction.atomic():
        case = Case.objects.select_for_update(of=("self",)).select_related("team").get(pk=case_id)
        # Re-check under the lock: another sweep or a contact may have come first.
        if case.kind != CaseKind.COMPLAINT or case.status not in OPEN_STATUSES or getattr(case, done):
            return False
        if getattr(case, breached_at):
            return False
        changes = {breached_at: now}
        if case.status != CaseStatus.ESCALATED:
            changes.update(status=CaseStatus.ESCALATED, priority=raise_priority(case.priority, Priority.HIGH))
        record(
            case,
            kind=EventKind.SLA_BREACHED,
            actor=None,
            now=now,
            data={"sla": sla, "due": getattr(case, due), "lead": case.team.lead_id},
            **changes,
        )
    return True
