"""The tamper-evident audit trail: a SHA-256 hash chain per case.

Each event's hash covers its canonical content, its sequence number and the
previous event's hash; the case row keeps the head (last seq and hash), so an
edited, deleted, reordered or truncated trail no longer verifies.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone as dt_timezone

from cases.models import Case, CaseEvent

GENESIS = "0" * 64


def canonical(*, case_id: int, seq: int, kind: str, actor_id: int | None, at: datetime, changes: dict,
              note: str, data: dict, prev_hash: str) -> bytes:
    """The exact bytes that are hashed: sorted-key JSON, UTC microsecond time."""
    return json.dumps(
        {"case": case_id, "seq": seq, "kind": kind, "actor": actor_id,
         "at": at.astimezone(dt_timezone.utc).isoformat(timespec="microseconds"),
         "changes": changes, "note": note, "data": data, "prev": prev_hash},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str,
    ).encode()


def event_hash(event: CaseEvent) -> str:
    return hashlib.sha256(canonical(
        case_id=event.case_id, seq=event.seq, kind=event.kind, actor_id=event.actor_id, at=event.at,
        changes=event.changes, note=event.note, data=event.data, prev_hash=event.prev_hash,
    )).hexdigest()


def chain_event(case: Case, *, kind: str, actor, at: datetime, changes: dict | None = None, note: str = "",
                data: dict | None = None) -> CaseEvent:
    """The next event of `case`'s chain, hashed but not saved, and the head
    moved on `case`.

    The caller holds the case's row lock and writes the event and the case
    (with `audit_seq` and `audit_head`) in the same transaction.
    """
    event = CaseEvent(
        case=case, seq=case.audit_seq + 1, kind=kind, actor=actor, at=at,
        changes=_jsonable(changes) if changes else {}, note=note, data=_jsonable(data) if data else {},
        prev_hash=case.audit_head or GENESIS,
    )
    event.hash = event_hash(event)
    case.audit_seq, case.audit_head = event.seq, event.hash
    return event


def append_event(case: Case, *, kind: str, actor, at: datetime, changes: dict | None = None, note: str = "",
                 data: dict | None = None) -> CaseEvent:
    """chain_event, and the event saved; the caller saves the case."""
    event = chain_event(case, kind=kind, actor=actor, at=at, changes=changes, note=note, data=data)
    event.save(force_insert=True)
    return event


@dataclass(frozen=True)
class ChainBreak:
    case_id: int
    seq: int | None
    event_id: int | None
    reason: str

    def __str__(self) -> str:
        where = f"event #{self.seq} (id {self.event_id})" if self.seq is not None else "end of chain"
        return f"case CX-{self.case_id:06d}: {where}: {self.reason}"


def verify_case(case: Case) -> list[ChainBreak]:
    """Every break in one case's chain; empty when it holds."""
    breaks: list[ChainBreak] = []
    prev, expected_seq = GENESIS, 1
    for event in CaseEvent.objects.filter(case=case).order_by("seq", "id"):
        if event.seq != expected_seq:
            breaks.append(ChainBreak(case.pk, event.seq, event.pk, f"expected event #{expected_seq} here; "
                                     "events were deleted or reordered"))
        if event.prev_hash != prev:
            breaks.append(ChainBreak(case.pk, event.seq, event.pk, "does not follow the previous event's hash"))
        if event_hash(event) != event.hash:
            breaks.append(ChainBreak(case.pk, event.seq, event.pk, "content does not match its hash (edited)"))
        prev, expected_seq = event.hash, event.seq + 1
    if (case.audit_seq, case.audit_head or GENESIS) != (expected_seq - 1, prev):
        breaks.append(ChainBreak(case.pk, None, None, f"the case records {case.audit_seq} events ending in "
                                 f"{(case.audit_head or GENESIS)[:12]}…, the trail has {expected_seq - 1} "
                                 f"ending in {prev[:12]}…"))
    return breaks


def verify_all(cases=None) -> Iterator[ChainBreak]:
    for case in (cases if cases is not None else Case.objects.order_by("pk")).iterator(chunk_size=500):
        yield from verify_case(case)


def _jsonable(value):
    """Datetimes and model instances in changes become plain JSON values, so
    the content hashes the same after a round trip through the database."""
    return json.loads(json.dumps(value, default=_plain, sort_keys=True))


def _plain(value):
    if isinstance(value, datetime):
        return value.astimezone(dt_timezone.utc).isoformat(timespec="microseconds")
    if hasattr(value, "pk"):
        return value.pk
    return str(value)
