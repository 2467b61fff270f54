"""The hash chain of each case's audit trail.

Each event's hash covers its canonical content, its sequence number and the
previous event's hash; the case row keeps the head (last seq and hash), so an
edited, deleted, reordered or truncated trail no longer verifies.

Version 2 events (every event written since keyed hashing) are hashed with
HMAC-SHA256 under CVX_AUDIT_KEY, a secret kept out of the database: whoever
can write to the database but does not hold the key cannot recompute a
chain after rewriting it. Version 1 events, written before, are plain
SHA-256 and still verify, counted as weaker. A version 2 opening event
states every tracked field ([None, value]), so a case row can be checked
against the state its own events imply (cases.audit.verify).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

from django.conf import settings

from cases.models import Case, CaseEvent

GENESIS = "0" * 64
UNKEYED, KEYED = 1, 2
VERSION = KEYED  # what new events get
# Case fields whose before/after values an event's `changes` records, under
# the name without `_id`; the only fields a case row is checked on.
TRACKED = (
    "status",
    "owner_id",
    "priority",
    "outcome",
    "root_cause_id",
    "resolution_summary",
    "due_at",
    "first_contact_at",
    "resolved_at",
    "closed_at",
    "first_contact_breached_at",
    "resolution_breached_at",
    "contact_count",
)
CHANGE_NAMES = {field: field.removesuffix("_id") for field in TRACKED}


def audit_key() -> bytes:
    return settings.CVX_AUDIT_KEY.encode()


def key_id(key: bytes | None = None) -> str:
    """A name for the key that reveals nothing of it, kept with checkpoints
    so that verifying with another key says so instead of "edited"."""
    return hmac.new(key or audit_key(), b"cvx audit key id", hashlib.sha256).hexdigest()[:16]


def canonical(
    *,
    case_id: int,
    seq: int,
    kind: str,
    actor_id: int | None,
    at: datetime,
    changes: dict,
    note: str,
    data: dict,
    prev_hash: str,
    version: int = UNKEYED,
) -> bytes:
    """The exact bytes that are hashed: sorted-key JSON, UTC microsecond time."""
    content = {
        "case": case_id,
        "seq": seq,
        "kind": kind,
        "actor": actor_id,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "changes": changes,
        "note": note,
        "data": data,
        "prev": prev_hash,
    }
    if version != UNKEYED:
        content["v"] = version
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def digest(version: int, content: bytes, key: bytes) -> str:
    if version == KEYED:
        return hmac.new(key, content, hashlib.sha256).hexdigest()
    if version == UNKEYED:
        return hashlib.sha256(content).hexdigest()
    raise ValueError(f"unknown audit hash version {version!r}")


def event_hash(event: CaseEvent, key: bytes | None = None) -> str:
    version = event.version or UNKEYED
    return digest(
        version,
        canonical(
            case_id=event.case_id,
            seq=event.seq,
            kind=event.kind,
            actor_id=event.actor_id,
            at=event.at,
            changes=event.changes,
            note=event.note,
            data=event.data,
            prev_hash=event.prev_hash,
            version=version,
        ),
        key or audit_key(),
    )


def chain_event(
    case: Case, *, kind: str, actor, at: datetime, changes: dict | None = None, note: str = "", data: dict | None = None
) -> CaseEvent:
    """The next event of `case`'s chain, hashed but not saved, and the head
    moved on `case`.

    The caller holds the case's row lock and writes the event and the case
    (with `audit_seq` and `audit_head`) in the same transaction.
    """
    event = CaseEvent(
        case=case,
        seq=case.audit_seq + 1,
        kind=kind,
        actor=actor,
        at=at,
        changes=jsonable(changes) if changes else {},
        note=note,
        data=jsonable(data) if data else {},
        prev_hash=case.audit_head or GENESIS,
        version=VERSION,
    )
    event.hash = event_hash(event)
    case.audit_seq, case.audit_head = event.seq, event.hash
    return event


def append_event(
    case: Case, *, kind: str, actor, at: datetime, changes: dict | None = None, note: str = "", data: dict | None = None
) -> CaseEvent:
    """chain_event, and the event saved; the caller saves the case."""
    event = chain_event(case, kind=kind, actor=actor, at=at, changes=changes, note=note, data=data)
    event.save(force_insert=True)
    return event


def row_state(row: dict) -> dict:
    """A case row's tracked fields as events record them (names without
    `_id`, JSON values), from a dict of attnames."""
    return {name: jsonable(row[field]) for field, name in CHANGE_NAMES.items()}


def state_digest(values) -> str:
    """A short digest of a case row's tracked fields (their values in TRACKED
    order), for checkpoints: it changes when any of them does."""
    text = "\x1f".join(_plain(v) if isinstance(v, datetime) else repr(v) for v in values)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def jsonable(value):
    """Datetimes and model instances become plain JSON values, so content
    hashes the same after a round trip through the database."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, datetime):
        return _plain(value)
    return json.loads(json.dumps(value, default=_plain, sort_keys=True))


def _plain(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if hasattr(value, "pk"):
        return value.pk
    return str(value)
