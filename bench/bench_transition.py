"""Transition benchmark: a case transition with its audit event against the
same row update without one, on PostgreSQL.

    .venv/bin/python bench/bench_transition.py [--cases 2000]

Both sides lock the case row, check nothing else and commit one transaction
per operation; the audited side is the real service (`case_note`: scope and
role checks, the hash-chained CaseEvent, the case's audit head). Target:
the audited transition at most 1.3x the bare update.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import database_url, setup_django, write_results  # noqa: E402


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
        feedback_ingest_many(items=[{"touchpoint": touchpoint.slug, "source": "b", "external_id": str(i), "nps": 1,
                                     "customer": {"email": f"b{i}@example.com"}} for i in range(start, min(n, start + 1000))])
    responses_route_pending()
    return agent, list(Case.objects.filter(owner=agent).values_list("pk", flat=True))


def bare_update(case_id: int, now) -> None:
    from django.db import transaction

    from cases.models import Case

    with transaction.atomic():
        case = Case.objects.select_for_update(of=("self",)).get(pk=case_id)
        case.updated_at = now
        case.save()


def run(agent, ids: list[int]) -> dict:
    from django.utils import timezone

    from cases.services import case_note

    for case_id in ids[:50]:  # warm-up of both paths
        bare_update(case_id, timezone.now())
        case_note(case_id=case_id, actor=agent, note="warm-up")
    start = time.perf_counter()
    for case_id in ids:
        bare_update(case_id, timezone.now())
    bare = time.perf_counter() - start
    start = time.perf_counter()
    for case_id in ids:
        case_note(case_id=case_id, actor=agent, note="Called the customer back.")
    audited = time.perf_counter() - start
    return {"operations": len(ids), "bare_ms": 1000 * bare / len(ids), "audited_ms": 1000 * audited / len(ids),
            "ratio": audited / bare}


def main(argv=None) -> int:
    args = parse_args(argv)
    with database_url(args.database_url) as url, tempfile.TemporaryDirectory() as data_dir:
        setup_django(url, data_dir)
        from journeys.demo import seed_journeys

        seed_journeys()
        agent, ids = make_cases(args.cases)
        result = run(agent, ids)
    print(f"\nTransition benchmark: {result['operations']:,} operations each\n")
    print(f"{'operation':<44}{'ms each':>10}")
    print(f"{'bare row update (lock, update, commit)':<44}{result['bare_ms']:>10.3f}")
    print(f"{'case_note with its audit event':<44}{result['audited_ms']:>10.3f}")
    print(f"audited / bare: {result['ratio']:.2f}x (target at most 1.3x)")
    print(f"wrote {write_results('transition', result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
