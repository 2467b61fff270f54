"""Verifying the audit trail: every case's chain and row, in batches.

For each case: the events follow each other (seq 1, 2, …, each naming the
previous hash), each hash matches its content (keyed for version 2), no
unkeyed event comes after keyed ones or after the legacy events the
checkpoints recorded, the row's head is the last event, and the row's
tracked fields are what its events imply: the changes are replayed from the
opening event, each change's "before" must be what the events before it
left, and the end must be the row.

The reading is optimistic (a batch of rows, then their events, without
locks); a case that shows a break is read again under its row lock before
the break is reported, so a transition landing between the two reads is
not taken for tampering.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from django.db import transaction

from cases.audit.chain import (
    CHANGE_NAMES,
    GENESIS,
    KEYED,
    UNKEYED,
    audit_key,
    canonical,
    digest,
    row_state,
)
from cases.models import Case, CaseEvent
from cases.numbers import case_number

CASE_FIELDS = ("id", "audit_seq", "audit_head", *CHANGE_NAMES)
EVENT_FIELDS = (
    "case_id",
    "id",
    "seq",
    "kind",
    "actor_id",
    "at",
    "changes",
    "note",
    "data",
    "prev_hash",
    "hash",
    "version",
)
BATCH = 500
_NAMES = frozenset(CHANGE_NAMES.values())


@dataclass(frozen=True)
class ChainBreak:
    """One thing wrong with the trail, named: the case and event where it can
    be, else the case (`where` says which part) or the checkpoint."""

    case_id: int | None
    seq: int | None
    event_id: int | None
    reason: str
    where: str = ""

    def __str__(self) -> str:
        if self.case_id is None:
            return f"{self.where}: {self.reason}"
        where = self.where or (f"event #{self.seq} (id {self.event_id})" if self.seq is not None else "end of chain")
        return f"case {case_number(self.case_id)}: {where}: {self.reason}"

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Tally:
    cases: int = 0
    events: int = 0
    legacy: int = 0  # version 1 (unkeyed) events seen


@dataclass
class Verifier:
    """Checks cases with one key; `legacy_max_event_id` is the latest
    checkpoint's (None: no checkpoint yet, no bound)."""

    key: bytes = field(default_factory=audit_key)
    legacy_max_event_id: int | None = None
    tally: Tally = field(default_factory=Tally)

    def verify_ids(self, case_ids: Iterable[int]) -> list[ChainBreak]:
        """Every case of `case_ids` that still exists, in batches."""
        ids, breaks = sorted(set(case_ids)), []
        for start in range(0, len(ids), BATCH):
            rows = list(Case.objects.filter(pk__in=ids[start : start + BATCH]).order_by("pk").values(*CASE_FIELDS))
            breaks += self.verify_rows(rows)
        return breaks

    def verify_after(self, after_id: int, *, limit: int = BATCH) -> tuple[list[ChainBreak], int | None, int]:
        """The next `limit` cases by id after `after_id`: (breaks, last id
        verified or None when there were none, cases verified)."""
        rows = list(Case.objects.filter(pk__gt=after_id).order_by("pk").values(*CASE_FIELDS)[:limit])
        return self.verify_rows(rows), (rows[-1]["id"] if rows else None), len(rows)

    def verify_rows(self, rows: list[dict]) -> list[ChainBreak]:
        trails = _trails([row["id"] for row in rows])
        breaks = []
        for row in rows:
            events = trails.get(row["id"], [])
            self.tally.cases += 1
            self.tally.events += len(events)
            self.tally.legacy += sum(1 for e in events if e[11] == UNKEYED)
            found = self.check(row, events)
            if found:
                found = self._recheck_locked(row["id"])
            breaks += found
        return breaks

    def check(self, row: dict, events: list[tuple]) -> list[ChainBreak]:
        return self.check_chain(row, events) + check_row(row, events)

    def check_chain(self, row: dict, events: list[tuple]) -> list[ChainBreak]:
        case_id, breaks = row["id"], []
        prev, expected_seq, newest_version = GENESIS, 1, UNKEYED
        for _case, event_id, seq, kind, actor_id, at, changes, note, data, prev_hash, stored, version in events:

            def broken(reason: str, seq=seq, event_id=event_id) -> None:
                breaks.append(ChainBreak(case_id, seq, event_id, reason))

            if seq != expected_seq:
                broken(f"expected event #{expected_seq} here; events were deleted or reordered")
            if prev_hash != prev:
                broken("does not follow the previous event's hash")
            try:
                computed = digest(
                    version,
                    canonical(
                        case_id=case_id,
                        seq=seq,
                        kind=kind,
                        actor_id=actor_id,
                        at=at,
                        changes=changes,
                        note=note,
                        data=data,
                        prev_hash=prev_hash,
                        version=version,
                    ),
                    self.key,
                )
            except ValueError as exc:
                computed = None
                broken(str(exc))
            if computed is not None and computed != stored:
                broken("content does not match its hash (edited)")
            if version == UNKEYED and newest_version != UNKEYED:
                broken("an unkeyed (version 1) hash after keyed ones (downgraded to dodge the key)")
            elif version == UNKEYED and self.legacy_max_event_id is not None and event_id > self.legacy_max_event_id:
                broken(
                    f"an unkeyed (version 1) hash on an event newer than the last legacy event the checkpoints "
                    f"recorded (id {self.legacy_max_event_id}): downgraded to dodge the key"
                )
            prev, expected_seq, newest_version = stored, seq + 1, max(newest_version, version)
        head = row["audit_head"] or GENESIS
        if (row["audit_seq"], head) != (expected_seq - 1, prev):
            breaks.append(
                ChainBreak(
                    case_id,
                    None,
                    None,
                    f"the case records {row['audit_seq']} events ending in "
                    f"{head[:12]}…, the trail has {expected_seq - 1} ending in {prev[:12]}…",
                )
            )
        return breaks

    def _recheck_locked(self, case_id: int) -> list[ChainBreak]:
        """The case's breaks read again under its row lock (writers take it
        first), so rows and events are of one moment."""
        with transaction.atomic():
            row = Case.objects.select_for_update().filter(pk=case_id).values(*CASE_FIELDS).first()
            if row is None:  # gone since: the checkpoints' heads name it
                return []
            return self.check(row, _trails([case_id]).get(case_id, []))


def check_row(row: dict, events: list[tuple]) -> list[ChainBreak]:
    """The row's tracked fields against the state its events imply.

    A version 2 opening event states every field (those it leaves out are
    empty); before that (version 1 trails) a field is known from its first
    change on. Each change's "before" must be what the earlier events left."""
    case_id, state, breaks = row["id"], {}, []
    for _case, event_id, seq, _kind, _actor, _at, changes, *_rest, version in events:
        if seq == 1 and version >= KEYED:
            state = dict.fromkeys(_NAMES)
        if not isinstance(changes, dict):
            continue
        for name, pair in changes.items():
            if name not in _NAMES or not isinstance(pair, list) or len(pair) != 2:
                continue
            before, after = pair
            if name in state and state[name] != before:
                breaks.append(
                    ChainBreak(
                        case_id,
                        seq,
                        event_id,
                        f"says {name} was {before!r}, but the events before it leave {state[name]!r}",
                    )
                )
            state[name] = after
    actual = row_state(row)
    for name, implied in state.items():
        if actual[name] != implied:
            breaks.append(
                ChainBreak(
                    case_id,
                    None,
                    None,
                    f"{name} is {actual[name]!r}, but its events leave {implied!r} (changed outside the audit trail)",
                    where="case row",
                )
            )
    return breaks


def _trails(case_ids: list[int]) -> dict[int, list[tuple]]:
    trails: dict[int, list[tuple]] = defaultdict(list)
    if case_ids:
        events = (
            CaseEvent.objects.filter(case_id__in=case_ids).order_by("case_id", "seq", "id").values_list(*EVENT_FIELDS)
        )
        for event in events:
            trails[event[0]].append(event)
    return trails
