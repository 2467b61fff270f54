"""Signed checkpoints of the whole audit trail, in the spirit of Certificate
Transparency's signed tree heads.

A checkpoint states, at one moment: the number of cases and of events, the
highest event id, the highest id of an unkeyed (version 1) event, and a
root over every case's head: per case its last seq, last hash and a digest
of its row's tracked fields. The root is the sum modulo 2^256 of an HMAC
per case (an incremental multiset hash, keyed, so it cannot be forged
without CVX_AUDIT_KEY and does not depend on order). The signature is an
HMAC over all of it and the previous checkpoint's signature, so the
checkpoints form a chain of their own.

Heads are stored only when they changed since the previous checkpoint
(AuditCheckpointHead); the heads of checkpoint N are, per case, the latest
stored at or before N. Events are append-only, so every head a checkpoint
saw must still be in its case's trail: one that is not is a truncated
tail, a rewritten event or (the case gone too) a vanished case.

`export_checkpoints` writes checkpoints and their heads as JSON lines for an
auditor's archive outside the database; `verify_audit --checkpoints FILE`
checks the database against such an archive, which whoever controls the
database cannot reach.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import Exists, OuterRef, Subquery

from cases.audit.chain import GENESIS, key_id
from cases.audit.verify import ChainBreak
from cases.models import AuditCheckpoint, AuditCheckpointHead, Case, CaseEvent

MODULUS = 2**256
SIGNED_FIELDS = (
    "number",
    "created_at",
    "case_count",
    "event_count",
    "max_event_id",
    "legacy_max_event_id",
    "root",
    "prev",
    "key_id",
)
BATCH = 500


@dataclass(frozen=True)
class Head:
    """A case's head as checkpoint `number` saw it; `current` is the hash of
    the trail's event at `seq` now (None: there is none) and `exists`
    whether the case row is still there."""

    seq: int
    hash: str
    state: str
    number: int
    current: str | None = None
    exists: bool = True


def head_element(key: bytes, case_id: int, seq: int, head: str, state: str) -> int:
    mac = hmac.new(key, f"{case_id}:{seq}:{head}:{state}".encode(), hashlib.sha256)
    return int.from_bytes(mac.digest(), "big")


def root_of(total: int) -> str:
    return f"{total % MODULUS:064x}"


def fields_of(checkpoint: AuditCheckpoint) -> dict:
    """The signed fields as JSON values (the archive's form too)."""
    values = {name: getattr(checkpoint, name) for name in SIGNED_FIELDS}
    values["created_at"] = _time(values["created_at"])
    return values


def sign(fields: dict, key: bytes) -> str:
    payload = json.dumps({name: fields[name] for name in SIGNED_FIELDS}, sort_keys=True, separators=(",", ":"))
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


def check_chain_of(
    checkpoints: Iterable[dict], key: bytes, *, label: str = "checkpoint", complete: bool = True
) -> list[ChainBreak]:
    """Breaks in a sequence of checkpoints (dicts of the signed fields and
    `signature`, by number): a gap, a broken link to the previous signature,
    another key, a signature that does not verify, counts that go down, a
    legacy bound that moves. `complete`: the sequence should start at #1."""
    breaks, previous, mine = [], None, key_id(key)
    for fields in checkpoints:
        number = fields["number"]

        def broken(reason: str, number=number) -> None:
            breaks.append(ChainBreak(None, None, None, reason, where=f"{label} #{number}"))

        expected = previous["number"] + 1 if previous else (1 if complete else number)
        if number != expected:
            breaks.append(
                ChainBreak(
                    None,
                    None,
                    None,
                    f"missing (deleted or never copied out): the next one is #{number}",
                    where=f"{label} #{expected}",
                )
            )
        elif fields["prev"] != (previous["signature"] if previous else GENESIS) and (previous or complete):
            broken("does not follow the previous checkpoint's signature (one before it was removed or replaced)")
        if fields["key_id"] != mine:
            broken(f"was signed with another key (key id {fields['key_id']}; CVX_AUDIT_KEY's is {mine})")
        elif not hmac.compare_digest(sign(fields, key), fields["signature"]):
            broken("its signature does not verify (altered)")
        if previous:
            for name in ("case_count", "event_count", "max_event_id"):
                if fields[name] < previous[name]:
                    broken(
                        f"records {name.replace('_', ' ')} {fields[name]}, fewer than #{previous['number']}'s "
                        f"{previous[name]}"
                    )
            if fields["legacy_max_event_id"] != previous["legacy_max_event_id"]:
                broken(
                    "moves the bound of unkeyed (version 1) events: only events from before keyed hashing "
                    "may be unkeyed"
                )
        previous = fields
    return breaks


def stored_checkpoints() -> list[dict]:
    return [{**fields_of(cp), "signature": cp.signature} for cp in AuditCheckpoint.objects.order_by("number")]


def latest_heads(checkpoint: AuditCheckpoint) -> Iterator[tuple[int, Head]]:
    """Per case, in case order, the latest head stored at or before
    `checkpoint`: what it saw (streamed, one index scan)."""
    rows = (
        AuditCheckpointHead.objects.filter(checkpoint_id__lte=checkpoint.pk)
        .order_by("case_id", "checkpoint_id")
        .values_list("case_id", "seq", "hash", "state", "checkpoint__number")
    )
    last = None
    for row in rows.iterator(5000):
        if last is not None and last[0] != row[0]:
            yield last[0], Head(*last[1:])
        last = row
    if last is not None:
        yield last[0], Head(*last[1:])


def merged(ids_in_order: Iterable[tuple], heads: Iterator[tuple[int, Head]]) -> Iterator[tuple]:
    """(case id, row or None, head or None) for every case id of either
    stream, both in case order: a case row beside the head a checkpoint saw."""
    head = next(heads, None)
    for row in ids_in_order:
        while head is not None and head[0] < row[0]:
            yield head[0], None, head[1]
            head = next(heads, None)
        if head is not None and head[0] == row[0]:
            yield row[0], row, head[1]
            head = next(heads, None)
        else:
            yield row[0], row, None
    while head is not None:
        yield head[0], None, head[1]
        head = next(heads, None)


def every_stored_head(checkpoint: AuditCheckpoint) -> Iterator[tuple[int, Head]]:
    """Every head stored at or before `checkpoint`, by case and then
    checkpoint, with what the database holds now at each (one query)."""
    rows = (
        AuditCheckpointHead.objects.filter(checkpoint_id__lte=checkpoint.pk)
        .order_by("case_id", "checkpoint_id")
        .annotate(
            now=Subquery(CaseEvent.objects.filter(case_id=OuterRef("case_id"), seq=OuterRef("seq")).values("hash")[:1]),
            case_exists=Exists(Case.objects.filter(pk=OuterRef("case_id"))),
        )
        .values_list("case_id", "seq", "hash", "state", "checkpoint__number", "now", "case_exists")
    )
    for case_id, *head in rows.iterator(5000):
        yield case_id, Head(*head)


def with_current(heads: list[tuple[int, Head]]) -> Iterator[tuple[int, Head]]:
    """`heads` (by case) with what the database holds now at each: the
    event's hash at that seq and whether the case exists."""
    for start in range(0, len(heads), BATCH):
        batch = heads[start : start + BATCH]
        ids = {case_id for case_id, _head in batch}
        existing = set(Case.objects.filter(pk__in=ids).values_list("pk", flat=True))
        wanted = {(case_id, head.seq) for case_id, head in batch}
        events = CaseEvent.objects.filter(case_id__in=ids, seq__in={seq for _c, seq in wanted})
        current = {(c, s): h for c, s, h in events.values_list("case_id", "seq", "hash") if (c, s) in wanted}
        for case_id, head in batch:
            yield (
                case_id,
                Head(
                    head.seq, head.hash, head.state, head.number, current.get((case_id, head.seq)), case_id in existing
                ),
            )


@dataclass
class HeadsSummary:
    """What the latest heads per case add up to, for the signed root."""

    total: int = 0
    cases: int = 0
    events: int = 0

    def add(self, key: bytes, case_id: int, head: Head) -> None:
        self.total += head_element(key, case_id, head.seq, head.hash, head.state)
        self.cases, self.events = self.cases + 1, self.events + head.seq


def check_heads(
    heads: Iterable[tuple[int, Head]], key: bytes, *, label: str = "checkpoint"
) -> tuple[HeadsSummary, list[ChainBreak]]:
    """Every head a checkpoint saw must still be in its case's trail: one
    break per case, at the newest head that is not. `heads` come in case
    order (with what the database holds now); the summary is of the latest
    head per case."""
    summary, breaks = HeadsSummary(), []
    current, newest, failed = None, None, None
    for case_id, head in itertools.chain(heads, [(None, None)]):
        if case_id != current and current is not None:  # the last head of `current` was `newest`
            summary.add(key, current, newest)
            breaks += [failed] if failed else []
            failed = None
        if case_id is None:
            break
        current, newest = case_id, head
        found = _head_break(case_id, head, label)
        if found is not None and (failed is None or head.seq >= failed.seq):
            failed = found
    return summary, breaks


def _head_break(case_id: int, head: Head, label: str) -> ChainBreak | None:
    seen = f"{label} #{head.number} recorded {head.seq} event(s) ending in {head.hash[:12]}…"
    if not head.exists:
        return ChainBreak(
            case_id, head.seq, None, f"the case is gone with its trail; {seen} (vanished)", where="whole case"
        )
    if head.seq == 0:
        return None
    if head.current is None:
        return ChainBreak(case_id, head.seq, None, f"is gone: {seen} (truncated tail)", where=f"event #{head.seq}")
    if head.current != head.hash:
        return ChainBreak(
            case_id,
            head.seq,
            None,
            f"is not the one {label} #{head.number} recorded (rewritten)",
            where=f"event #{head.seq}",
        )
    return None


def check_root(fields: dict, summary: HeadsSummary, *, label: str = "checkpoint") -> list[ChainBreak]:
    """The latest heads per case must add up to the checkpoint's signed root and counts."""
    counts = (summary.cases, summary.events)
    if root_of(summary.total) == fields["root"] and counts == (fields["case_count"], fields["event_count"]):
        return []
    return [
        ChainBreak(
            None,
            None,
            None,
            f"the case heads kept for it ({counts[0]} cases, {counts[1]} events) do "
            f"not add up to its signed root ({fields['case_count']} cases, {fields['event_count']} "
            "events): heads were altered or removed",
            where=f"{label} #{fields['number']}",
        )
    ]


def check_event_count(fields: dict, *, label: str = "checkpoint") -> list[ChainBreak]:
    count = CaseEvent.objects.count()
    if count >= fields["event_count"]:
        return []
    return [
        ChainBreak(
            None,
            None,
            None,
            f"recorded {fields['event_count']} events; the trail now holds {count} (events were removed)",
            where=f"{label} #{fields['number']}",
        )
    ]


# --- the auditor's archive: JSON lines ------------------------------------------------


def export_lines(checkpoints) -> Iterator[str]:
    """Each checkpoint as one line, then one line per head it stored."""
    for checkpoint in checkpoints:
        yield json.dumps({"checkpoint": {**fields_of(checkpoint), "signature": checkpoint.signature}}, sort_keys=True)
        heads = checkpoint.heads.order_by("case_id").values_list("case_id", "seq", "hash", "state")
        for case_id, seq, head, state in heads.iterator(5000):
            yield json.dumps({"head": [checkpoint.number, case_id, seq, head, state]})


class ArchiveError(ValueError):
    """An archive line that cannot be read; the message names the line."""


def read_archive(lines: Iterable[str]) -> tuple[list[dict], list[tuple[int, Head]]]:
    """The checkpoints of an exported archive, by number, and every head it
    holds, by case and checkpoint."""
    checkpoints, heads = {}, []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if "checkpoint" in record:
                fields = record["checkpoint"]
                missing = [name for name in (*SIGNED_FIELDS, "signature") if name not in fields]
                if missing:
                    raise ArchiveError(f"line {number}: the checkpoint lacks {', '.join(missing)}")
                if checkpoints.setdefault(fields["number"], fields) != fields:
                    raise ArchiveError(
                        f"line {number}: checkpoint #{fields['number']} is in the archive twice, different"
                    )
            elif "head" in record:
                at, case_id, seq, head, state = record["head"]
                heads.append((int(case_id), Head(int(seq), str(head), str(state), int(at))))
            else:
                raise ArchiveError(f"line {number}: neither a checkpoint nor a head")
        except (ValueError, TypeError, KeyError) as exc:
            if isinstance(exc, ArchiveError):
                raise
            raise ArchiveError(f"line {number}: not a checkpoint archive line ({exc})") from None
    heads = sorted(set(heads), key=lambda item: (item[0], item[1].number))  # exported again: the same lines
    return [checkpoints[n] for n in sorted(checkpoints)], heads


def check_archive(checkpoints: list[dict], heads: list[tuple[int, Head]], key: bytes) -> list[ChainBreak]:
    """The database against checkpoints held outside it: the archive's own
    chain and signatures, each archived checkpoint still in the database and
    unchanged, and every archived head still in its case's trail."""
    if not checkpoints:
        return []
    complete = checkpoints[0]["number"] == 1
    breaks = check_chain_of(checkpoints, key, label="archived checkpoint", complete=complete)
    stored = {fields["number"]: fields for fields in stored_checkpoints()}
    for fields in checkpoints:
        here = stored.get(fields["number"])
        where = f"archived checkpoint #{fields['number']}"
        if here is None:
            breaks.append(ChainBreak(None, None, None, "is missing from the database (deleted)", where=where))
        elif here != fields:
            differ = ", ".join(name for name in fields if here.get(name) != fields[name])
            breaks.append(
                ChainBreak(None, None, None, f"differs from the database's ({differ}): replaced", where=where)
            )
    latest = checkpoints[-1]
    heads = [(case_id, head) for case_id, head in heads if head.number <= latest["number"]]
    summary, found = check_heads(with_current(heads), key, label="archived checkpoint")
    if complete:
        breaks += check_root(latest, summary, label="archived checkpoint")
    breaks += found
    breaks += check_event_count(latest, label="archived checkpoint")
    return breaks


def _time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")
