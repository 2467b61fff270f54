"""Run every benchmark on one generated data set and print one table of
figures against their targets.

    .venv/bin/python bench/run_all.py [--small] [--database-url URL] [--only NAME ...]

Starts a throwaway PostgreSQL server (scripts/throwaway_pg.py; or uses the
disposable database given), migrates it, fills it by COPY with the data set
of bench/fill.py (1,000,000 responses and 300,000 cases; `--small`: a
tenth), then runs each benchmark against it in its own process, in an order
where none disturbs the data the next one measures. Each writes
bench/results/<name>.json; this script then prints the table and writes
bench/results/summary.json with the date, the machine and the minutes taken.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import RESULTS, database_url, setup_django, write_results  # noqa: E402 - after sys.path

RESPONSES, CASES = 1_000_000, 300_000
# name -> (script, its arguments at the default scale, at --small). The data set
# is already there, so scripts that would fill one find it and use it.
RUNS = {
    "scores": (
        "bench_scores.py",
        ["--responses", str(RESPONSES)],
        ["--responses", str(RESPONSES // 10), "--runs", "3"],
    ),
    "queue": ("bench_queue.py", ["--cases", str(CASES)], ["--cases", str(CASES // 10), "--runs", "20"]),
    # Gives every case of the data set a customer (what search finds them by) before it measures.
    "search": ("bench_search.py", ["--cases", str(CASES)], ["--cases", str(CASES // 10), "--runs", "20"]),
    "transition": ("bench_transition.py", [], ["--cases", "500"]),
    "ingest": ("bench_ingest.py", [], ["--items", "2000"]),
    "post": ("bench_post.py", [], ["--seconds", "5"]),
    # No database: the CX text layer against plain VADER on the labelled comments.
    "text": ("eval_text.py", [], ["--rounds", "5"]),
    # Last: it writes an audit trail for every case of the data set.
    "audit": ("bench_audit.py", ["--cases", str(CASES)], ["--cases", str(CASES // 10), "--changed", "300"]),
}


def targets(results: dict) -> list[tuple[str, float | None, str, bool | None]]:
    """(what, measured, target, met) for each figure the benchmarks compare."""
    rows = []
    ingest = results.get("ingest", {}).get("ratios", {})
    if ingest:
        value = ingest["api-bulk / vader-only"]
        rows.append(("bulk ingest / VADER-only throughput", value, ">= 0.80", value >= 0.8))
        value = ingest["write stage / copy"]
        rows.append(("write stage (bulk_insert) / binary COPY", value, ">= 0.50", value >= 0.5))
    post = results.get("post", {})
    if post:
        rows.append(("single POST req/s / bare JSON view req/s", post["ratio"], ">= 0.50", post["ratio"] >= 0.5))
    queue = results.get("queue", {})
    for kind in ("queue page", "queue API"):
        if queue.get("timings"):
            p95 = max(queue["timings"][f"{kind}, page 1"]["p95_ms"], queue["timings"][f"{kind}, deep"]["p95_ms"])
            rows.append((f"{kind} p95 ms (page 1 and deep)", p95, "< 25", p95 < 25))
            ratio = queue[f"{kind} deep/first p95"]
            rows.append((f"{kind} deep / first p95", ratio, "< 1.5", ratio < 1.5))
    search = results.get("search", {})
    if search:
        p95 = search["targeted_p95_ms"]
        rows.append(("search p95 ms (number, email, phone, name)", p95, "<= 50", p95 <= 50))
    text = results.get("text", {})
    if text:
        ratio = text["speed_ratio"]
        rows.append(("CX text layer / plain VADER comments/s", ratio, ">= 0.80", ratio >= 0.8))
        holdout = text["halves"]["holdout"]
        rows.append(
            (
                "CX complaint recall (held-out comments)",
                holdout["complaint_recall"],
                ">= 0.90",
                holdout["complaint_recall"] >= 0.9,
            )
        )
        rows.append(
            (
                "CX false cases on praise/neutral (held-out)",
                holdout["false_positive_rate"],
                "<= 0.05",
                holdout["false_positive_rate"] <= 0.05,
            )
        )
    transition = results.get("transition", {})
    if transition:
        rows.append(("audited transition / bare update", transition["ratio"], "<= 1.3", transition["ratio"] <= 1.3))
    scores = results.get("scores", {}).get("seconds", {})
    if scores:
        raw, summary = scores["weekly_by_touchpoint_raw"]["p50"], scores["weekly_by_touchpoint_summary"]["p50"]
        rows.append(("dashboard: raw / summary time", raw / summary, ">= 100", raw / summary >= 100))
    audit = results.get("audit", {})
    if audit:
        # One task does an incremental run: it must end well inside CVX_Q_TIMEOUT (120 s).
        rows.append(("audit: incremental verification s", audit["incremental_s"], "< 60", audit["incremental_s"] < 60))
        rows.append(
            (
                "audit: full verification events/s",
                audit["full_events_per_s"],
                ">= 5000",
                audit["full_events_per_s"] >= 5000,
            )
        )
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="a tenth of the default scale")
    parser.add_argument("--database-url", help="use this disposable, empty database instead of a throwaway server")
    parser.add_argument(
        "--only",
        action="append",
        choices=list(RUNS),
        metavar="NAME",
        help=f"run only this benchmark (repeatable; one of {', '.join(RUNS)})",
    )
    args = parser.parse_args(argv)
    runs = {name: run for name, run in RUNS.items() if not args.only or name in args.only}
    started, failed = time.monotonic(), []
    responses, cases = (RESPONSES // 10, CASES // 10) if args.small else (RESPONSES, CASES)
    with database_url(args.database_url) as url, tempfile.TemporaryDirectory(prefix="cvx-bench-") as data_dir:
        print(f"=== data set: {responses:,} responses, {cases:,} cases ===", flush=True)
        filled = prepare(url, data_dir, responses, cases)
        print(f"filled in {filled['seconds']:.0f} s", flush=True)
        for name, (script, default_args, small_args) in runs.items():
            print(f"\n=== {name} ===", flush=True)
            command = [
                sys.executable,
                str(HERE / script),
                "--database-url",
                url,
                *(small_args if args.small else default_args),
            ]
            if subprocess.run(command).returncode != 0:
                failed.append(name)
    results = {
        name: json.loads((RESULTS / f"{name}.json").read_text())
        for name in runs
        if name not in failed and (RESULTS / f"{name}.json").exists()
    }
    rows = targets(results)
    minutes = (time.monotonic() - started) / 60
    print(f"\n{'figure':<46}{'measured':>12}  {'target':<9} met")
    for what, value, target, met in rows:
        print(f"{what:<46}{value:>12.2f}  {target:<9} {'yes' if met else 'NO'}")
    if not args.only:  # the summary is of a whole run
        write_results(
            "summary",
            {
                "small": args.small,
                "responses": responses,
                "cases": cases,
                "failed": failed,
                "fill_seconds": round(filled["seconds"], 1),
                "minutes": round(minutes, 1),
                "targets": [dict(zip(("figure", "measured", "target", "met"), r)) for r in rows],
            },
        )
    print(
        f"\n{len(rows)} figures, {sum(1 for r in rows if r[3])} targets met; "
        f"{minutes:.1f} minutes; failed benchmarks: {failed or 'none'}"
    )
    return 1 if failed else 0


def prepare(url: str, data_dir: str, responses: int, cases: int) -> dict:
    """Migrate, seed the demo journeys and fill; the connection is closed
    after, so the benchmarks' processes have the server to themselves."""
    setup_django(url, data_dir)
    from django.db import connections
    from fill import fill

    from journeys.demo import seed_journeys

    seed_journeys()
    try:
        return fill(responses, cases)
    finally:
        connections.close_all()


if __name__ == "__main__":
    sys.exit(main())
