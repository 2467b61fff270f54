"""The whole trail: what a full and an incremental verification check
beyond each case's own chain, and which cases an incremental one reads.

A full verification reads every case (cases.audit.verify) and then checks
the checkpoints: their own chain and signatures, and that the heads of the
checkpoint it verifies against add up to its root and are all still in
their trails (a vanished case or a truncated tail is named).

An incremental verification starts from the last good checkpoint (the one a
passed verification ended on): it reads only the cases whose row or trail
differs from what that checkpoint recorded (a new event, a moved head, a
tracked field changed in the table) or that have events it had not seen,
and makes the same checkpoint checks. Editing an event older than the last
good checkpoint without moving any head is found only by a full
verification: the README says so, and a full one runs daily.
"""

from __future__ import annotations

from cases.audit.chain import TRACKED, state_digest
from cases.audit.checkpoints import (
    check_chain_of,
    check_event_count,
    check_heads,
    check_root,
    every_stored_head,
    fields_of,
    latest_heads,
    merged,
    stored_checkpoints,
)
from cases.audit.verify import ChainBreak, Verifier
from cases.models import AuditCheckpoint, AuditCheckpointHead, Case, CaseEvent, VerificationRun

_ROW = ("id", "audit_seq", "audit_head", *TRACKED)


def latest_checkpoint() -> AuditCheckpoint | None:
    return AuditCheckpoint.objects.order_by("-number").first()


def last_good_checkpoint() -> AuditCheckpoint | None:
    """The checkpoint the latest passed verification ended on."""
    run = (
        VerificationRun.objects.filter(status=VerificationRun.Status.PASSED, checkpoint__isnull=False)
        .select_related("checkpoint")
        .order_by("-finished_at", "-id")
        .first()
    )
    return run.checkpoint if run else None


def verifier_for(through: AuditCheckpoint | None) -> Verifier:
    return Verifier(legacy_max_event_id=through.legacy_max_event_id if through else None)


def checkpoint_checks(through: AuditCheckpoint | None, verifier: Verifier) -> list[ChainBreak]:
    """The checkpoints' chain, and the trail against `through`'s heads."""
    breaks = check_chain_of(stored_checkpoints(), verifier.key)
    if through is not None:
        fields = {**fields_of(through), "signature": through.signature}
        summary, found = check_heads(every_stored_head(through), verifier.key)
        breaks += check_root(fields, summary) + found + check_event_count(fields)
    return breaks


def changed_between(baseline: AuditCheckpoint, through: AuditCheckpoint) -> set[int]:
    """Ids of the cases a verification from `baseline` to `through` (made
    at its start from every case row) reads: those with heads stored after
    `baseline` (a new event, a moved head, a tracked field changed in the
    table) and those with events newer than it saw."""
    changed = set(
        AuditCheckpointHead.objects.filter(checkpoint_id__gt=baseline.pk, checkpoint_id__lte=through.pk).values_list(
            "case_id", flat=True
        )
    )
    return changed | _with_newer_events(baseline)


def changed_since(baseline: AuditCheckpoint) -> set[int]:
    """Ids of the cases an incremental verification from `baseline` reads:
    those with events newer than it saw, and those whose head or tracked
    fields differ from its record (or that it never saw)."""
    changed = _with_newer_events(baseline)
    rows = Case.objects.order_by("pk").values_list(*_ROW).iterator(5000)
    for case_id, row, head in merged(rows, latest_heads(baseline)):
        if row is not None and (
            head is None or (head.seq, head.hash) != row[1:3] or head.state != state_digest(row[3:])
        ):
            changed.add(case_id)
    return changed


def _with_newer_events(baseline: AuditCheckpoint) -> set[int]:
    return set(
        CaseEvent.objects.filter(pk__gt=baseline.max_event_id).order_by().values_list("case_id", flat=True).distinct()
    )
