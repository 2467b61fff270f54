"""Transition benchmark: a case transition with its audit event against the
same row update without one, on PostgreSQL.

    .venv/bin/python bench/bench_transition.py [--cases 2000]

One transaction per operation on both sides. The audited side is the real
service (`case_note`: the locking query that also reads the actor's team
membership, scope and role checks, the hash-chained CaseEvent inserted and
the case's audit head moved). The bare side is the same update without
audit: the same locking query, then an UPDATE of updated_at. The two
alternate operation by operation and the medians are compared. Target: the
audited transition at most 1.3x the bare update.

Two more sides, alternating with those, measure what each fast path of
cases/persistence.py saves: the same case_note with the locking query built
by the ORM on each call (`lock_case_orm`), and with the event and the case
written by the two ORM saves instead of one statement.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import database_url, setup_django, write_results  # noqa: E402 - after sys.path


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--database-url", help="use this (disposable) database instead of a throwaway server")
    return parser.parse_args(argv)


def make_cases(n: int):
    from django.contrib.auth import get_user_model

    from cases.choices import AssignmentStrategy
    from cases.models import Case, RoutingRule
    from cases.services import responses_route_pending
    from feedback.services import feedback_ingest_many
    from journeys.models import Team, Touchpoint

    agent = get_user_model().objects.create_user("bench.agent")
    touchpoint = Touchpoint.objects.select_related("team").first()
    Team.objects.filter(pk=touchpoint.team_id).update(lead=None)
    touchpoint.team.members.add(agent)
    Touchpoint.objects.filter(pk=touchpoint.pk).update(default_owner=agent)
    RoutingRule.objects.create(name="all", nps_at_most=6, strategy=AssignmentStrategy.DEFAULT_OWNER)
    for start in range(0, n, 1000):
        feedback_ingest_many(
            items=[
                {
                    "touchpoint": touchpoint.slug,
                    "source": "b",
                    "external_id": str(i),
                    "nps": 1,
                    "customer": {"email": f"b{i}@example.com"},
                }
                for i in range(start, min(n, start + 1000))
            ]
        )
    responses_route_pending()
    return agent, list(Case.objects.filter(owner=agent).values_list("pk", flat=True))


def bare_update(case_id: int, actor, now) -> None:
    """The same update without audit: the service's own locking query (case
    row, team, the actor's membership), then one UPDATE of updated_at, the
    column a note changes besides the audit head, by a prepared statement
    as the audited write is."""
    from django.db import connection, transaction

    from cases.persistence import lock_case

    with transaction.atomic():
        case, member = lock_case(case_id, actor)
        assert case is not None and member
        with connection.cursor() as cursor:
            cursor.execute("UPDATE cases_case SET updated_at = %s WHERE id = %s", [now, case_id])


def sides(agent):
    """Each side: a function of a case id doing one operation. The ORM-path
    sides swap one fast path of cases.persistence for its plain ORM path
    for the length of their operation."""
    from contextlib import contextmanager

    from django.utils import timezone

    from cases import persistence
    from cases.services import case_note, transitions

    @contextmanager
    def swapped(module, name, value):
        kept = getattr(module, name)
        setattr(module, name, value)
        try:
            yield
        finally:
            setattr(module, name, kept)

    def audited(case_id):
        case_note(case_id=case_id, actor=agent, note="Called the customer back.")

    def orm_lock(case_id):
        with swapped(transitions, "lock_case", persistence.lock_case_orm):
            audited(case_id)

    def orm_write(case_id):
        with swapped(persistence, "ONE_STATEMENT_VENDORS", frozenset()):
            audited(case_id)

    return {
        "bare": lambda case_id: bare_update(case_id, agent, timezone.now()),
        "audited": audited,
        "orm_lock": orm_lock,
        "orm_write": orm_write,
    }


def run(agent, ids: list[int]) -> dict:
    """The sides take turns operation by operation (which goes first turns
    too), each timed on its own, so load on a shared machine hits them
    alike; the medians are compared."""
    operations = sides(agent)
    names = list(operations)
    for case_id in ids[:50]:  # warm-up of every path
        for name in names:
            operations[name](case_id)
    timings = {name: [] for name in names}
    for n, case_id in enumerate(ids):
        for name in names[n % len(names) :] + names[: n % len(names)]:
            start = time.perf_counter()
            operations[name](case_id)
            timings[name].append(time.perf_counter() - start)
    ms = {name: 1000 * statistics.median(values) for name, values in timings.items()}
    return {
        "operations": len(ids),
        "bare_ms": ms["bare"],
        "audited_ms": ms["audited"],
        "ratio": ms["audited"] / ms["bare"],
        "bare_mean_ms": 1000 * statistics.mean(timings["bare"]),
        "audited_mean_ms": 1000 * statistics.mean(timings["audited"]),
        "orm_lock_ms": ms["orm_lock"],
        "orm_write_ms": ms["orm_write"],
        "lock_fast_path_saves": 1 - ms["audited"] / ms["orm_lock"],
        "write_fast_path_saves": 1 - ms["audited"] / ms["orm_write"],
    }


def main(argv=None) -> int:
    args = parse_args(argv)
    with database_url(args.database_url) as url, tempfile.TemporaryDirectory() as data_dir:
        setup_django(url, data_dir)
        from journeys.demo import seed_journeys

        seed_journeys()
        agent, ids = make_cases(args.cases)
        result = run(agent, ids)
    print(f"\nTransition benchmark: {result['operations']:,} operations each, alternating\n")
    print(f"{'operation':<44}{'median ms':>10}")
    print(f"{'bare update (same lock query, UPDATE, commit)':<44}{result['bare_ms']:>10.3f}")
    print(f"{'case_note with its audit event':<44}{result['audited_ms']:>10.3f}")
    print(f"{'case_note, locking query by the ORM':<44}{result['orm_lock_ms']:>10.3f}")
    print(f"{'case_note, event and case by two ORM saves':<44}{result['orm_write_ms']:>10.3f}")
    print(f"audited / bare: {result['ratio']:.2f}x (target at most 1.3x)")
    print(
        f"of case_note's time, the compiled locking query saves {result['lock_fast_path_saves']:.0%}, "
        f"the one-statement write {result['write_fast_path_saves']:.0%}"
    )
    print(f"wrote {write_results('transition', result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
