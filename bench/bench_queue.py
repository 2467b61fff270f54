"""Queue benchmark: the case queue at full scale on PostgreSQL.

    .venv/bin/python bench/bench_queue.py [--cases 1000000] [--runs 50]

Fills a throwaway PostgreSQL with N cases (and their N feedback responses)
by binary COPY, 40% of them open and spread over 40 owners, then measures
the server time of the *My queue* page and of `GET /api/v1/cases/?owner=me`
for page 1 and for a page 10,000 cases deep (p50/p95 over --runs requests,
in-process through Django's full request stack), and prints the deep/first
ratio. It also prints the PostgreSQL plan of the queue query.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import database_url, p50_p95, setup_django, timings_ms, write_results  # noqa: E402

OWNERS = 40
DEEP = 10_000
OPEN_SHARE = 0.4


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--database-url", help="use this database instead of a throwaway server")
    return parser.parse_args(argv)


def fill(n: int) -> tuple[list[int], int]:
    """COPY n feedback rows and n cases; returns (owner ids, team id)."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from journeys.models import Team, Touchpoint

    User = get_user_model()
    team = Team.objects.create(name="Bench team", slug="bench")
    owners = [User.objects.create_user(f"bench{i}") for i in range(OWNERS)]
    team.members.add(*owners)
    touchpoints = list(Touchpoint.objects.values_list("pk", "stage__journey_id"))
    rnd, now = random.Random(1), datetime.now(timezone.utc)
    with connection.cursor() as cursor:
        raw = cursor.connection
        with raw.cursor() as cur:
            with cur.copy("COPY feedback_feedbackresponse (id, touchpoint_id, kind, source, external_id, occurred_at,"
                          " received_at, nps, comment, metadata, content_hash) FROM STDIN") as copy:
                for i in range(1, n + 1):
                    tp = touchpoints[i % len(touchpoints)][0]
                    at = now - timedelta(seconds=rnd.randint(0, 365 * 86400))
                    copy.write_row((i, tp, "direct", "bench", f"b{i}", at, at, rnd.randint(0, 6), "", "{}", ""))
            with cur.copy("COPY cases_case (id, feedback_id, touchpoint_id, journey_id, team_id, owner_id, status,"
                          " priority, created_at, updated_at, first_contact_due, resolve_due, due_at, contact_count,"
                          " audit_seq, audit_head, resolution_summary) FROM STDIN") as copy:
                for i in range(1, n + 1):
                    tp, journey = touchpoints[i % len(touchpoints)]
                    created = now - timedelta(seconds=rnd.randint(0, 365 * 86400))
                    due = created + timedelta(hours=4, microseconds=rnd.randint(0, 10**6))
                    status = "acknowledged" if rnd.random() < OPEN_SHARE else "closed"
                    copy.write_row((i, i, tp, journey, team.pk, owners[i % OWNERS].pk, status, "normal", created,
                                    created, due, due + timedelta(hours=20), due, 0, 0, "", ""))
        for table in ("feedback_feedbackresponse", "cases_case"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {n})")
        cursor.execute("ANALYZE")
    return [o.pk for o in owners], team.pk


def measure(owner_id: int, runs: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from rest_framework.pagination import Cursor, CursorPagination

    from cases.choices import OPEN_STATUSES
    from cases.models import Case
    from cases.selectors import encode_cursor

    owner = get_user_model().objects.get(pk=owner_id)
    client = Client()
    client.force_login(owner)
    open_cases = Case.objects.filter(owner=owner, status__in=OPEN_STATUSES).order_by("due_at", "id")
    depth = min(DEEP, open_cases.count() // 2)
    deep_case = open_cases[depth - 1:depth].get()
    page_cursor = encode_cursor(deep_case)
    drf = CursorPagination()
    drf.base_url = "http://testserver/api/v1/cases/?owner=me&status=acknowledged"
    deep_api = drf.encode_cursor(Cursor(offset=0, reverse=False, position=str(deep_case.due_at)))
    cases = {
        "queue page, page 1": lambda: client.get("/cases/queue/mine/"),
        "queue page, deep": lambda: client.get("/cases/queue/mine/", {"after": page_cursor}),
        "queue API, page 1": lambda: client.get("/api/v1/cases/", {"owner": "me", "status": "acknowledged"}),
        "queue API, deep": lambda: client.get(deep_api),
    }
    results = {}
    for name, call in cases.items():
        assert call().status_code == 200, name
        p50, p95 = p50_p95(timings_ms(call, runs=runs))
        results[name] = {"p50_ms": round(p50, 2), "p95_ms": round(p95, 2)}
    return {"open_cases_of_owner": open_cases.count(), "depth": depth, "timings": results,
            "plan": open_cases[:26].explain()}


def main(argv=None) -> int:
    args = parse_args(argv)
    with database_url(args.database_url) as url, tempfile.TemporaryDirectory() as data_dir:
        setup_django(url, data_dir)
        from journeys.demo import seed_journeys

        seed_journeys()
        import time

        start = time.perf_counter()
        owners, _team = fill(args.cases)
        fill_s = time.perf_counter() - start
        result = measure(owners[0], args.runs)
    timings = result["timings"]
    print(f"\nQueue benchmark: {args.cases:,} cases (filled in {fill_s:.0f} s), owner with "
          f"{result['open_cases_of_owner']:,} open cases, deep page at case {result['depth']:,}, "
          f"{args.runs} requests each\n")
    print(f"{'request':<28}{'p50 ms':>10}{'p95 ms':>10}")
    for name, t in timings.items():
        print(f"{name:<28}{t['p50_ms']:>10.2f}{t['p95_ms']:>10.2f}")
    for kind in ("queue page", "queue API"):
        ratio = timings[f"{kind}, deep"]["p95_ms"] / timings[f"{kind}, page 1"]["p95_ms"]
        result[f"{kind} deep/first p95"] = round(ratio, 2)
        print(f"{kind}: deep/first p95 ratio {ratio:.2f}")
    print("\nPlan of the My queue query:\n" + result["plan"])
    path = write_results("queue", {"cases": args.cases, "runs": args.runs, "fill_seconds": round(fill_s, 1),
                                   **result})
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
