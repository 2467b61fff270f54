"""The tamper-evident audit trail: keyed hash chains per case
(cases.audit.chain), case rows checked against their events
(cases.audit.verify), signed checkpoints of the whole trail
(cases.audit.checkpoints) and what full and incremental verification add
(cases.audit.trail). Writes (checkpoints, verification runs) are in
cases.services.audit."""

from __future__ import annotations

from collections.abc import Iterator

from cases.audit.chain import (
    GENESIS,
    KEYED,
    TRACKED,
    UNKEYED,
    VERSION,
    append_event,
    audit_key,
    canonical,
    chain_event,
    event_hash,
    key_id,
)
from cases.audit.verify import ChainBreak, Verifier
from cases.models import Case

__all__ = [
    "GENESIS",
    "KEYED",
    "TRACKED",
    "UNKEYED",
    "VERSION",
    "ChainBreak",
    "Verifier",
    "append_event",
    "audit_key",
    "canonical",
    "chain_event",
    "event_hash",
    "key_id",
    "verify_all",
    "verify_case",
]


def verify_case(case: Case) -> list[ChainBreak]:
    """Every break in one case's chain and row; empty when it holds."""
    from cases.audit.trail import latest_checkpoint, verifier_for

    return verifier_for(latest_checkpoint()).verify_ids([case.pk])


def verify_all(cases=None) -> Iterator[ChainBreak]:
    """The breaks of every case's chain and row (of `cases`, a queryset,
    when given), without the checkpoint checks (cases.audit.trail)."""
    from cases.audit.trail import latest_checkpoint, verifier_for

    verifier = verifier_for(latest_checkpoint())
    ids = (cases if cases is not None else Case.objects.all()).order_by("pk").values_list("pk", flat=True)
    batch: list[int] = []
    for case_id in ids.iterator(5000):
        batch.append(case_id)
        if len(batch) == 500:
            yield from verifier.verify_ids(batch)
            batch = []
    yield from verifier.verify_ids(batch)
