"""Benchmark of score metrics: the daily summary against the raw table.

A benchmark, not a test: it never fails on speed. It exits 1 only when the
two paths disagree or a count is off, because then the figures mean nothing.

Run from the project root:

    .venv/bin/python bench/bench_scores.py                      # 1,000,000 responses, throwaway PostgreSQL
    .venv/bin/python bench/bench_scores.py --responses 100000
    .venv/bin/python bench/bench_scores.py --database-url postgres://...   # an existing, disposable DB

Without --database-url it starts a private PostgreSQL server
(scripts/throwaway_pg.py) and deletes it afterwards. With --database-url it
migrates that database and adds N responses to it: give it a fresh, empty
database you do not care about.

Steps and what each figure means:

- fill: N responses of bench/fill.py's data set at the demo touchpoints
  (migrate + seed_journeys), spread evenly at random over the 52 weeks
  before --end, written with one binary COPY (psycopg 3), then ANALYZE.
  Each response has an NPS (70 %), a CSAT (50 %) and a CES (40 %) answer,
  at least one score, and a 10-60 word comment one time in three (so rows
  are as wide as real ones). Under `make bench` the data set is filled
  before and this step finds it there (and measures all its responses).
- rebuild: `rebuild_daily_scores()` over the whole year (daily and weekly
  rows), the cost of `manage.py refresh_scores` on that table.
- refresh: `refresh_daily_scores(keys)` for the buckets of 1,000 responses,
  what one full ingestion batch queues after commit: 1,000 random ones
  (a historical import, nearly one bucket each) and the 1,000 newest (live
  feedback, a few buckets).
- summary / raw: the weekly score rows by touchpoint over everything,
  `score_metrics_from_summary(None, group_by="touchpoint", period="week")`
  (which reads the weekly summary rows) against
  `score_metrics(FeedbackResponse.objects.all(), ...)`, the same rows; the
  two results must be identical. The summary read's CPU time in this
  process (time.process_time, extra untimed runs) is printed and stored
  beside it: on a shared machine it moves less with the load than the wall
  time does.

The timed steps run --runs times after one untimed warm-up; the table shows
the median (p50), min and max. Everything runs against a local server that
shares the CPUs with this process and with whatever else runs on the
machine: the load average at start is printed and stored.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from common import run_in_throwaway  # noqa: E402 - after sys.path
from fill import DEFAULT_END  # noqa: E402 - after sys.path

DEFAULT_JSON = ROOT / "bench" / "results" / "scores.json"


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """The module docstring verbatim, and each flag's default."""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench_scores.py", description=__doc__, formatter_class=_HelpFormatter)
    parser.add_argument("--responses", type=int, default=1_000_000, help="responses (N) to fill")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each query")
    parser.add_argument("--seed", type=int, default=20240601, help="seed of the generated responses")
    parser.add_argument(
        "--end", type=dt.date.fromisoformat, default=DEFAULT_END, help="the 52 weeks of responses end on this UTC day"
    )
    parser.add_argument(
        "--database-url", default=None, help="use this (disposable!) PostgreSQL database instead of a throwaway server"
    )
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="write the figures here as JSON")
    args = parser.parse_args(argv)
    if args.responses < 1000 or args.runs < 1:
        parser.error("--responses must be at least 1000 and --runs at least 1")
    return args


# --- environment -----------------------------------------------------------------------


def postgres_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]


# --- timing ----------------------------------------------------------------------------


def timed_runs(step: Callable[[], Any], runs: int) -> tuple[list[float], Any]:
    """Seconds of each of `runs` timed calls after one warm-up; the last result."""
    result = step()
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        result = step()
        seconds.append(time.perf_counter() - started)
    return seconds, result


def cpu_runs(step: Callable[[], Any], runs: int) -> list[float]:
    """Seconds of this process's CPU time (time.process_time) of each of
    `runs` calls: what a call costs in Python and the driver, without the
    time the database or other processes took. Read beside the wall time on
    a shared machine, where the wall time moves with the load."""
    seconds = []
    for _ in range(runs):
        started = time.process_time()
        step()
        seconds.append(time.process_time() - started)
    return seconds


def bucket_keys(responses) -> list[tuple[int, dt.date]]:
    """The summary buckets of `responses`, as ingestion queues them."""
    from feedback.summaries import daily_score_keys

    return [(touchpoint, dt.date.fromisoformat(day)) for touchpoint, day in daily_score_keys(responses)]


def stats(seconds: list[float]) -> dict[str, float]:
    return {"p50": statistics.median(seconds), "min": min(seconds), "max": max(seconds), "runs": len(seconds)}


def prepare(args: argparse.Namespace) -> tuple[float, float, int]:
    """Migrate, seed, fill (bench/fill.py; nothing when `make bench` filled
    already) and rebuild: seconds of the fill and the rebuild, and the
    responses the rebuild counted."""
    from django.core.management import call_command
    from fill import fill

    from feedback.summaries import rebuild_daily_scores
    from journeys.demo import seed_journeys

    print("migrating and seeding the demo journeys ...", flush=True)
    call_command("migrate", verbosity=0, interactive=False)
    seed_journeys()
    print(f"COPY of {args.responses:,} responses ...", flush=True)
    fill_s = fill(args.responses, 0, seed=args.seed, end=args.end)["seconds"]
    print("rebuild_daily_scores() ...", flush=True)
    started = time.perf_counter()
    rebuilt = rebuild_daily_scores()
    return fill_s, time.perf_counter() - started, rebuilt.responses


def run(args: argparse.Namespace) -> int:
    from feedback.analytics import score_metrics, score_metrics_from_summary
    from feedback.models import DailyScore, FeedbackResponse, WeeklyScore
    from feedback.summaries import refresh_daily_scores

    load = os.getloadavg()
    fill_s, rebuild_s, rebuilt = prepare(args)
    spread, newest = (bucket_keys(FeedbackResponse.objects.order_by(order)[:1000]) for order in ("?", "-occurred_at"))
    print(f"timing ({args.runs} runs after a warm-up) ...", flush=True)
    refresh_spread = timed_runs(lambda: refresh_daily_scores(spread), args.runs)[0]
    refresh_newest = timed_runs(lambda: refresh_daily_scores(newest), args.runs)[0]
    summary, from_summary = timed_runs(
        lambda: score_metrics_from_summary(None, group_by="touchpoint", period="week"), args.runs
    )
    raw, from_raw = timed_runs(
        lambda: score_metrics(FeedbackResponse.objects.all(), group_by="touchpoint", period="week"), args.runs
    )
    # Untimed for the ratio: the summary read's CPU time in this process.
    summary_cpu = cpu_runs(lambda: score_metrics_from_summary(None, group_by="touchpoint", period="week"), args.runs)
    checks = {
        "summary rows identical to raw rows": from_summary == from_raw,
        "rebuild counted every response": rebuilt == FeedbackResponse.objects.count(),
        "weekly rows add up to every response": sum(row["responses"] for row in from_raw) == rebuilt,
    }
    report = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpu_count": os.cpu_count(),
            "load_average_at_start": load,
        },
        "postgresql": postgres_version(),
        "responses": rebuilt,
        "seed": args.seed,
        "touchpoints": len({row["group"] for row in from_raw}),
        "weekly_rows": len(from_raw),
        "daily_buckets": DailyScore.objects.count(),
        "weekly_buckets": WeeklyScore.objects.count(),
        "refresh_buckets": {"random_1000": len(spread), "newest_1000": len(newest)},
        "seconds": {
            "fill_copy": fill_s,
            "rebuild": rebuild_s,
            "refresh_random_1000": stats(refresh_spread),
            "refresh_newest_1000": stats(refresh_newest),
            "weekly_by_touchpoint_summary": stats(summary),
            "weekly_by_touchpoint_raw": stats(raw),
        },
        "cpu_seconds": {"weekly_by_touchpoint_summary": stats(summary_cpu)},
        "raw_over_summary": statistics.median(raw) / statistics.median(summary),
        "checks": checks,
    }
    print_table(report)
    write_json(report, args.json)
    return 0 if all(checks.values()) else 1


def print_table(report: dict[str, Any]) -> None:
    s = report["seconds"]
    print(
        f"\nPostgreSQL {report['postgresql']}, {os.cpu_count()} CPUs, N={report['responses']:,}, "
        f"{report['touchpoints']} touchpoints, {report['daily_buckets']:,} daily and "
        f"{report['weekly_buckets']:,} weekly buckets, "
        f"load average at start {report['machine']['load_average_at_start'][0]:.2f}"
    )
    print(f"\n{'step':<52}{'p50 s':>10}{'min s':>10}{'max s':>10}")
    print("-" * 82)
    for name in ("fill_copy", "rebuild"):
        print(f"{name:<52}{s[name]:>10.3f}{'':>10}{'':>10}")
    buckets = report["refresh_buckets"]
    labels = {
        "refresh_random_1000": f"refresh, 1,000 random responses ({buckets['random_1000']} buckets)",
        "refresh_newest_1000": f"refresh, 1,000 newest responses ({buckets['newest_1000']} buckets)",
        "weekly_by_touchpoint_summary": "weekly by touchpoint, summary",
        "weekly_by_touchpoint_raw": "weekly by touchpoint, raw",
    }
    for name, label in labels.items():
        print(f"{label:<52}{s[name]['p50']:>10.4f}{s[name]['min']:>10.4f}{s[name]['max']:>10.4f}")
    print(f"\nraw / summary (p50): {report['raw_over_summary']:.1f}x, {report['weekly_rows']:,} rows each")
    cpu = report["cpu_seconds"]["weekly_by_touchpoint_summary"]
    print(f"summary read, this process's CPU time: p50 {cpu['p50'] * 1000:.2f} ms, min {cpu['min'] * 1000:.2f} ms")
    print("\nchecks")
    for name, ok in report["checks"].items():
        print(f"  {'ok    ' if ok else 'FAILED'} {name}")


def write_json(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nfigures written to {path}")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return run_in_throwaway(args.database_url, lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
