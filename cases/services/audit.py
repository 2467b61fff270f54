"""Writes of the audit trail's own records: signed checkpoints and
verification runs. Checking is in cases.audit; django-q2 entry points in
cases.tasks."""

from __future__ import annotations

import itertools
import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django_q.tasks import async_task

from cases.audit.chain import GENESIS, TRACKED, UNKEYED, audit_key, key_id, state_digest
from cases.audit.checkpoints import Head, HeadsSummary, fields_of, latest_heads, merged, root_of, sign
from cases.audit.trail import changed_between, checkpoint_checks, last_good_checkpoint, verifier_for
from cases.audit.verify import BATCH, ChainBreak, Verifier
from cases.models import AuditCheckpoint, AuditCheckpointHead, Case, CaseEvent, VerificationRun
from cvx_site.errors import Conflict

log = logging.getLogger(__name__)
_ROW = ("id", "audit_seq", "audit_head", *TRACKED)
# Breaks kept on a run for the page; the count is exact either way.
KEPT_BREAKS = 1000
Run = VerificationRun


def audit_checkpoint_create(*, now: datetime | None = None) -> AuditCheckpoint:
    """Sign and store a checkpoint of the whole trail as it is now (see
    cases.audit.checkpoints) and the heads that changed since the previous
    one. Reads every case row once; writes in one transaction. Two made at
    once: one of them raises Conflict."""
    key, now = audit_key(), now or timezone.now()
    latest = AuditCheckpoint.objects.order_by("-number").first()
    max_event_id = CaseEvent.objects.aggregate(last=Max("pk"))["last"] or 0
    legacy = (
        latest.legacy_max_event_id
        if latest
        else CaseEvent.objects.filter(version=UNKEYED).aggregate(last=Max("pk"))["last"] or 0
    )
    summary, changed = HeadsSummary(), []
    rows = Case.objects.order_by("pk").values_list(*_ROW).iterator(5000)
    for case_id, row, known in merged(rows, latest_heads(latest) if latest else iter(())):
        if row is None:
            # Checkpointed before and missing now: it stays in the root with
            # its old head, and verification names it as vanished.
            summary.add(key, case_id, known)
            continue
        head = Head(row[1], row[2], state_digest(row[3:]), 0)
        summary.add(key, case_id, head)
        if known is None or (known.seq, known.hash, known.state) != (head.seq, head.hash, head.state):
            changed.append((case_id, head.seq, head.hash, head.state))
    checkpoint = AuditCheckpoint(
        number=latest.number + 1 if latest else 1,
        created_at=now,
        case_count=summary.cases,
        event_count=summary.events,
        max_event_id=max_event_id,
        legacy_max_event_id=legacy,
        root=root_of(summary.total),
        prev=latest.signature if latest else GENESIS,
        key_id=key_id(key),
    )
    checkpoint.signature = sign(fields_of(checkpoint), key)
    try:
        with transaction.atomic():
            checkpoint.save(force_insert=True)
            rows = iter(changed)
            while chunk := list(itertools.islice(rows, 5000)):
                AuditCheckpointHead.objects.bulk_create(
                    [
                        AuditCheckpointHead(checkpoint=checkpoint, case_id=case_id, seq=seq, hash=head, state=state)
                        for case_id, seq, head, state in chunk
                    ],
                    batch_size=1000,
                )
    except IntegrityError:
        raise Conflict("Another audit checkpoint was made at the same moment; make this one again.") from None
    log.info(
        "audit checkpoint #%d: %d cases, %d events, %d heads changed",
        checkpoint.number,
        summary.cases,
        summary.events,
        len(changed),
    )
    return checkpoint


# --- verification runs in the background ----------------------------------------------


def _slice_seconds() -> float:
    """How long one task of a full run works before handing on to the next:
    well inside django-q2's timeout."""
    return max(2.0, min(30.0, settings.Q_CLUSTER["timeout"] / 3))


def _stale_after() -> timedelta:
    """No progress for this long: the run's worker died and no retry came."""
    return timedelta(seconds=2 * settings.Q_CLUSTER["retry"] + 4 * _slice_seconds())


def verification_abandon_stale(*, now: datetime | None = None) -> int:
    """Mark queued or running verifications with no progress for too long
    as not finished, so that another may start."""
    cutoff = (now or timezone.now()) - _stale_after()
    stale = Run.objects.filter(active=True).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)
    )
    return stale.update(
        active=None,
        status=Run.Status.ERROR,
        finished_at=timezone.now(),
        message=f"Abandoned: no progress since {cutoff:%Y-%m-%d %H:%M} UTC (its worker stopped).",
    )


def verification_start(*, kind: str, actor=None) -> VerificationRun:
    """Queue a verification of the audit trail (Run.Kind) to run in the
    background; Conflict when one is already queued or running."""
    if kind not in Run.Kind.values:
        raise ValueError(f"unknown verification kind {kind!r}")
    verification_abandon_stale()
    try:
        with transaction.atomic():
            run = Run.objects.create(kind=kind, requested_by=actor)
    except IntegrityError:
        active = Run.objects.filter(active=True).first()
        since = (
            f" (#{active.pk}, {active.get_kind_display().lower()}, since {active.created_at:%H:%M} UTC)"
            if active
            else ""
        )
        raise Conflict(f"A verification of the audit trail is already running{since}.") from None
    transaction.on_commit(lambda: async_task("cases.tasks.audit_verification_step", run.pk))
    return run


def verification_step(*, run_id: int) -> str:
    """Work on a queued or running verification for one slice of time, then
    queue the next slice or finish; returns its status. A retried task finds
    the progress its predecessor saved and goes on from there; a second task
    for a run that is being worked on returns at once."""
    run = Run.objects.filter(pk=run_id, active=True).first()
    if run is None:
        return "done"
    now = timezone.now()
    claimed = (
        Run.objects.filter(pk=run_id, active=True)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + timedelta(seconds=2 * _slice_seconds()), heartbeat_at=now)
    )
    if not claimed:
        return "busy"
    try:
        if run.status == Run.Status.QUEUED:
            _begin(run)
        if run.kind == Run.Kind.INCREMENTAL:
            _incremental(run)
        elif _full_slice(run):
            Run.objects.filter(pk=run.pk).update(claimed_until=None)  # the next slice's task may take it
            async_task("cases.tasks.audit_verification_step", run.pk)
    except Exception as exc:  # noqa: BLE001 - any failure ends the run visibly; the log has the traceback
        log.exception("verification run %s failed", run.pk)
        Run.objects.filter(pk=run.pk).update(
            active=None,
            status=Run.Status.ERROR,
            finished_at=timezone.now(),
            claimed_until=None,
            message=f"{type(exc).__name__}: {exc}"[:2000],
        )
        return Run.Status.ERROR
    return Run.objects.values_list("status", flat=True).get(pk=run.pk)


def _begin(run: VerificationRun) -> None:
    """A fresh checkpoint to verify against; an incremental run with no good
    checkpoint before it verifies in full."""
    baseline = last_good_checkpoint() if run.kind == Run.Kind.INCREMENTAL else None
    if run.kind == Run.Kind.INCREMENTAL and baseline is None:
        run.kind, run.message = Run.Kind.FULL, "No verified checkpoint yet: verified in full."
    run.checkpoint = audit_checkpoint_create()
    run.baseline, run.status, run.started_at = baseline, Run.Status.RUNNING, timezone.now()
    run.total = Case.objects.count() if run.kind == Run.Kind.FULL else 0
    run.save(update_fields=["kind", "message", "checkpoint", "baseline", "status", "started_at", "total"])


def _incremental(run: VerificationRun) -> None:
    verifier = verifier_for(run.checkpoint)
    changed = changed_between(run.baseline, run.checkpoint)
    Run.objects.filter(pk=run.pk).update(total=len(changed), heartbeat_at=timezone.now())
    breaks = verifier.verify_ids(changed)
    _progress(run, verifier, breaks, done=len(changed))
    _finish(run, checkpoint_checks(run.checkpoint, verifier))


def _full_slice(run: VerificationRun) -> bool:
    """Verify cases after the run's cursor until the slice's time is up;
    True when there are more."""
    deadline = time.monotonic() + _slice_seconds()
    while True:
        verifier = verifier_for(run.checkpoint)
        breaks, last_id, count = verifier.verify_after(run.cursor, limit=BATCH)
        if last_id is None:
            _finish(run, checkpoint_checks(run.checkpoint, verifier))
            return False
        run.cursor = last_id
        _progress(run, verifier, breaks, done=count)
        if time.monotonic() >= deadline:
            return True


def _progress(run: VerificationRun, verifier: Verifier, breaks: list[ChainBreak], *, done: int) -> None:
    """Save what one batch found (autocommitted: the page sees it at once)."""
    tally = verifier.tally
    run.done += done
    run.events_checked += tally.events
    run.legacy_events += tally.legacy
    run.break_count += len(breaks)
    room = KEPT_BREAKS - len(run.breaks)
    run.breaks = run.breaks + [b.as_dict() for b in breaks[: max(room, 0)]]
    Run.objects.filter(pk=run.pk).update(
        cursor=run.cursor,
        done=F("done") + done,
        events_checked=F("events_checked") + tally.events,
        legacy_events=F("legacy_events") + tally.legacy,
        break_count=F("break_count") + len(breaks),
        breaks=run.breaks,
        heartbeat_at=timezone.now(),
    )


def _finish(run: VerificationRun, breaks: list[ChainBreak]) -> None:
    run.refresh_from_db(fields=["done", "events_checked", "legacy_events", "break_count", "breaks"])
    if breaks:
        room = KEPT_BREAKS - len(run.breaks)
        run.breaks = run.breaks + [b.as_dict() for b in breaks[: max(room, 0)]]
        run.break_count += len(breaks)
    run.status = Run.Status.FAILED if run.break_count else Run.Status.PASSED
    run.active, run.claimed_until, run.finished_at = None, None, timezone.now()
    run.heartbeat_at = run.finished_at
    run.save(
        update_fields=["breaks", "break_count", "status", "active", "claimed_until", "finished_at", "heartbeat_at"]
    )
    log.info("verification run %s: %s, %d cases, %d breaks", run.pk, run.status, run.done, run.break_count)
