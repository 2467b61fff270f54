"""Audit verification benchmark: checkpoints, full and incremental
verification of the audit trail at full scale on PostgreSQL.

    .venv/bin/python bench/bench_audit.py [--cases 300000] [--changed 1000] [--sample 3000]

Uses the data set of bench/fill.py (or the one `make bench` filled). Its
cases are written without an audit trail, so this first writes one for
every case that has none: an opening event stating the row's tracked
fields (as `record()` writes it) and notes, 1 to 7 events a case (4 on
average), hashed with the key, by binary COPY, the heads set on the rows.
Then it measures, as the background task runs them (cases.services.audit):

- the first signed checkpoint (every case's head stored);
- a full verification (every chain rehashed, every row replayed, the
  checkpoints checked), in seconds and events per second;
- a checkpoint after --changed notes (only the changed heads stored);
- an incremental verification after --changed more notes, from the last
  good checkpoint (its own checkpoint included).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import database_url, setup_django, write_results  # noqa: E402 - after sys.path

NOTE = "Called the customer back; the line is stable now."


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=300_000)
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--changed", type=int, default=1000, help="notes written before each incremental measure")
    parser.add_argument("--database-url", help="use this (disposable) database instead of a throwaway server")
    return parser.parse_args(argv)


def write_trails(seed: int = 7, chunk: int = 20_000) -> dict:
    """An audit trail for every case without one, as record() would have
    written it; returns how many events and the seconds taken."""
    from datetime import timedelta

    from django.conf import settings
    from django.db import connection, transaction
    from psycopg.types.json import Jsonb

    from cases.audit.chain import CHANGE_NAMES, GENESIS, KEYED, TRACKED, canonical, jsonable
    from cases.choices import EventKind
    from cases.models import Case

    started, rng, key = time.perf_counter(), random.Random(seed), settings.CVX_AUDIT_KEY.encode()
    columns = [
        ("case_id", "int8"),
        ("seq", "int4"),
        ("kind", "varchar"),
        ("at", "timestamptz"),
        ("changes", "jsonb"),
        ("note", "text"),
        ("data", "jsonb"),
        ("prev_hash", "varchar"),
        ("hash", "varchar"),
        ("version", "int2"),
    ]
    events = cases = after = 0
    while True:
        rows = list(
            Case.objects.filter(audit_seq=0, pk__gt=after)
            .order_by("pk")
            .values_list("pk", "created_at", *TRACKED)[:chunk]
        )
        if not rows:
            break
        after, heads = rows[-1][0], []
        with transaction.atomic(), connection.cursor() as cursor:
            with cursor.copy(
                f"COPY cases_caseevent ({', '.join(c for c, _ in columns)}) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.set_types([t for _, t in columns])
                for case_id, created, *tracked in rows:
                    opened = {CHANGE_NAMES[f]: [None, jsonable(v)] for f, v in zip(TRACKED, tracked) if v is not None}
                    prev = GENESIS
                    for seq in range(1, rng.randint(1, 7) + 1):
                        kind, changes, note = (EventKind.OPENED, opened, "") if seq == 1 else (EventKind.NOTE, {}, NOTE)
                        at = created + timedelta(minutes=seq)
                        content = canonical(
                            case_id=case_id,
                            seq=seq,
                            kind=kind,
                            actor_id=None,
                            at=at,
                            changes=changes,
                            note=note,
                            data={},
                            prev_hash=prev,
                            version=KEYED,
                        )
                        digest = hmac.new(key, content, hashlib.sha256).hexdigest()
                        copy.write_row(
                            (case_id, seq, str(kind), at, Jsonb(changes), note, Jsonb({}), prev, digest, KEYED)
                        )
                        prev, events = digest, events + 1
                    heads.append((case_id, seq, prev))
            cursor.execute("CREATE TEMPORARY TABLE bench_heads (id int8, seq int4, head varchar) ON COMMIT DROP")
            with cursor.copy("COPY bench_heads (id, seq, head) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(["int8", "int4", "varchar"])
                for head in heads:
                    copy.write_row(head)
            cursor.execute(
                "UPDATE cases_case SET audit_seq = h.seq, audit_head = h.head FROM bench_heads h "
                "WHERE cases_case.id = h.id"
            )
        cases += len(rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE cases_caseevent")
        cursor.execute("ANALYZE cases_case")
    return {"events": events, "cases": cases, "seconds": round(time.perf_counter() - started, 1)}


def run(kind: str) -> tuple[float, object]:
    """One verification run as the background task does it, its slices
    called here one after the other (no worker); (seconds, the run)."""
    from cases.models import VerificationRun
    from cases.services.audit import verification_step

    run = VerificationRun.objects.create(kind=kind)
    started = time.perf_counter()
    while verification_step(run_id=run.pk) not in {"passed", "failed", "error", "done"}:
        pass
    run.refresh_from_db()
    return time.perf_counter() - started, run


def note_some(n: int, seed: int) -> None:
    from django.contrib.auth import get_user_model

    from cases import services
    from cases.choices import OPEN_STATUSES
    from cases.models import Case

    owner = get_user_model().objects.get(username="bench0")
    ids = list(Case.objects.filter(owner=owner, status__in=OPEN_STATUSES).values_list("pk", flat=True))
    for case_id in random.Random(seed).sample(ids, min(n, len(ids))):
        services.case_note(case_id=case_id, actor=owner, note="Bench: still waiting for the engineer.")


def measure(args) -> dict:
    from cases.models import Case, CaseEvent, VerificationRun
    from cases.services.audit import audit_checkpoint_create

    result = {"trails": write_trails()}
    result["cases"], result["events"] = Case.objects.count(), CaseEvent.objects.count()
    print(f"trails written: {result['trails']}", flush=True)

    started = time.perf_counter()
    first = audit_checkpoint_create()
    result["checkpoint_first_s"] = round(time.perf_counter() - started, 2)
    result["checkpoint_first_heads"] = first.heads.count()

    seconds, full = run(VerificationRun.Kind.FULL)
    assert full.status == "passed", (full.status, full.message, full.breaks[:5])
    result["full_s"] = round(seconds, 1)
    result["full_events_per_s"] = round(full.events_checked / seconds)

    note_some(args.changed, seed=1)
    started = time.perf_counter()
    delta = audit_checkpoint_create()
    result["checkpoint_delta_s"] = round(time.perf_counter() - started, 2)
    result["checkpoint_delta_heads"] = delta.heads.count()

    note_some(args.changed, seed=2)
    seconds, incremental = run(VerificationRun.Kind.INCREMENTAL)
    assert incremental.status == "passed" and incremental.kind == "incremental", (incremental.status, incremental.kind)
    result["incremental_s"] = round(seconds, 2)
    result["incremental_cases"] = incremental.done
    return result


def main(argv=None) -> int:
    args = parse_args(argv)
    with database_url(args.database_url) as url, tempfile.TemporaryDirectory() as data_dir:
        setup_django(url, data_dir)
        from fill import fill

        from journeys.demo import seed_journeys

        seed_journeys()
        filled = fill(max(args.responses, args.cases), args.cases)
        result = measure(args)
    print(
        f"\nAudit benchmark: {result['cases']:,} cases, {result['events']:,} events "
        f"(data set filled in {filled['seconds']:.0f} s{', reused' if filled['reused'] else ''})\n"
    )
    rows = [
        (
            "first checkpoint (every head)",
            f"{result['checkpoint_first_s']:.1f} s",
            f"{result['checkpoint_first_heads']:,} heads",
        ),
        ("full verification", f"{result['full_s']:.1f} s", f"{result['full_events_per_s']:,} events/s"),
        (
            f"checkpoint after {args.changed:,} notes",
            f"{result['checkpoint_delta_s']:.1f} s",
            f"{result['checkpoint_delta_heads']:,} heads",
        ),
        (
            f"incremental verification after {args.changed:,} notes",
            f"{result['incremental_s']:.1f} s",
            f"{result['incremental_cases']:,} cases read",
        ),
    ]
    for what, seconds, detail in rows:
        print(f"{what:<52}{seconds:>10}  {detail}")
    path = write_results("audit", {"changed": args.changed, **result})
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
