"""Queue benchmark: the case queue at full scale on PostgreSQL.

    .venv/bin/python bench/bench_queue.py [--cases 300000] [--runs 50]

Fills a throwaway PostgreSQL with the data set of bench/fill.py (N cases
on as many of 1,000,000 responses, 40% open; the busiest of 40 agents owns
a quarter of them), or uses the one `make bench` filled, then measures the
server time of that agent's *My queue* page and of
`GET /api/v1/cases/?owner=me&status=acknowledged` for page 1 and for a page
10,000 open cases deep (p50/p95 over --runs requests, in-process through
Django's full request stack), and prints the deep/first ratio. It also
prints the PostgreSQL plan of the queue query.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import database_url, p50_p95, setup_django, timings_ms, write_results  # noqa: E402 - after sys.path

DEEP = 10_000


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=300_000)
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--database-url", help="use this database instead of a throwaway server")
    return parser.parse_args(argv)


def measure(owner_id: int, runs: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from cases.choices import OPEN_STATUSES
    from cases.models import Case
    from cases.selectors import encode_cursor

    owner = get_user_model().objects.get(pk=owner_id)
    client = Client()
    client.force_login(owner)
    open_cases = Case.objects.filter(owner=owner, status__in=OPEN_STATUSES).order_by("due_at", "id")
    depth = min(DEEP, open_cases.count() // 2)
    page_cursor = encode_cursor(open_cases[depth - 1 : depth].get())
    # The API lists the owner's acknowledged cases: its deep page is as deep in that list.
    acknowledged = open_cases.filter(status="acknowledged")
    api_depth = min(DEEP, acknowledged.count() // 2)
    api_cursor = encode_cursor(acknowledged[api_depth - 1 : api_depth].get())
    cases = {
        "queue page, page 1": lambda: client.get("/cases/queue/mine/"),
        "queue page, deep": lambda: client.get("/cases/queue/mine/", {"after": page_cursor}),
        "queue API, page 1": lambda: client.get("/api/v1/cases/", {"owner": "me", "status": "acknowledged"}),
        "queue API, deep": lambda: client.get(
            "/api/v1/cases/", {"owner": "me", "status": "acknowledged", "cursor": api_cursor}
        ),
    }
    results = {}
    for name, call in cases.items():
        assert call().status_code == 200, name
        p50, p95 = p50_p95(timings_ms(call, runs=runs))
        results[name] = {"p50_ms": round(p50, 2), "p95_ms": round(p95, 2)}
    return {
        "open_cases_of_owner": open_cases.count(),
        "depth": depth,
        "api_depth": api_depth,
        "timings": results,
        "plan": open_cases[:26].explain(),
    }


def main(argv=None) -> int:
    args = parse_args(argv)
    with database_url(args.database_url) as url, tempfile.TemporaryDirectory() as data_dir:
        setup_django(url, data_dir)
        from django.contrib.auth import get_user_model
        from fill import fill

        from journeys.demo import seed_journeys

        seed_journeys()
        filled = fill(max(args.responses, args.cases), args.cases)
        fill_s = filled["seconds"]
        from cases.models import Case

        result = measure(get_user_model().objects.get(username="bench0").pk, args.runs)
        result["cases"] = Case.objects.count()
    timings = result["timings"]
    print(
        f"\nQueue benchmark: {result['cases']:,} cases "
        f"(filled in {fill_s:.0f} s{', reused' if filled['reused'] else ''}), owner with "
        f"{result['open_cases_of_owner']:,} open cases, deep page at case {result['depth']:,} "
        f"(API: {result['api_depth']:,} acknowledged cases deep), "
        f"{args.runs} requests each\n"
    )
    print(f"{'request':<28}{'p50 ms':>10}{'p95 ms':>10}")
    for name, t in timings.items():
        print(f"{name:<28}{t['p50_ms']:>10.2f}{t['p95_ms']:>10.2f}")
    for kind in ("queue page", "queue API"):
        ratio = timings[f"{kind}, deep"]["p95_ms"] / timings[f"{kind}, page 1"]["p95_ms"]
        result[f"{kind} deep/first p95"] = round(ratio, 2)
        print(f"{kind}: deep/first p95 ratio {ratio:.2f}")
    print("\nPlan of the My queue query:\n" + result["plan"])
    path = write_results("queue", {"runs": args.runs, "fill_seconds": round(fill_s, 1), **result})
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
