"""Run every benchmark and print one table of ratios against their targets.

    .venv/bin/python bench/run_all.py [--small]

Each benchmark runs in its own process on its own throwaway PostgreSQL (see
bench/common.py) and writes bench/results/<name>.json; this script then
reads those files and writes bench/results/summary.json. `--small` runs
every benchmark at a tenth of its default scale, for a quick look.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import RESULTS, write_results  # noqa: E402

RUNS = {
    "ingest": (["bench_ingest.py"], ["--items", "2000"]),
    "queue": (["bench_queue.py"], ["--cases", "100000", "--runs", "20"]),
    "transition": (["bench_transition.py"], ["--cases", "500"]),
    "scores": (["bench_scores.py"], ["--responses", "100000", "--runs", "3"]),
}


def targets(results: dict) -> list[tuple[str, float | None, str, bool | None]]:
    """(what, measured, target, met) for each figure the benchmarks compare."""
    rows = []
    ingest = results.get("ingest", {}).get("ratios", {})
    if ingest:
        value = ingest["api-bulk / vader-only"]
        rows.append(("bulk ingest / VADER-only throughput", value, ">= 0.80", value >= 0.8))
        value = ingest["bulk_create / copy"]
        rows.append(("write stage (bulk_create) / binary COPY", value, ">= 0.50", value >= 0.5))
    queue = results.get("queue", {})
    for kind in ("queue page", "queue API"):
        if queue.get("timings"):
            p95 = max(queue["timings"][f"{kind}, page 1"]["p95_ms"], queue["timings"][f"{kind}, deep"]["p95_ms"])
            rows.append((f"{kind} p95 ms (page 1 and deep)", p95, "< 25", p95 < 25))
            ratio = queue[f"{kind} deep/first p95"]
            rows.append((f"{kind} deep / first p95", ratio, "< 1.5", ratio < 1.5))
    transition = results.get("transition", {})
    if transition:
        rows.append(("audited transition / bare update", transition["ratio"], "<= 1.3", transition["ratio"] <= 1.3))
    scores = results.get("scores", {}).get("seconds", {})
    if scores:
        raw, summary = scores["weekly_by_touchpoint_raw"]["p50"], scores["weekly_by_touchpoint_summary"]["p50"]
        rows.append(("dashboard: raw / summary time", raw / summary, ">= 100", raw / summary >= 100))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="a tenth of the default scale")
    args = parser.parse_args(argv)
    started, failed = time.monotonic(), []
    for name, (script, small_args) in RUNS.items():
        print(f"\n=== {name} ===", flush=True)
        command = [sys.executable, str(HERE / script[0]), *(small_args if args.small else [])]
        if subprocess.run(command).returncode != 0:
            failed.append(name)
    results = {name: json.loads((RESULTS / f"{name}.json").read_text())
               for name in RUNS if name not in failed and (RESULTS / f"{name}.json").exists()}
    rows = targets(results)
    print(f"\n{'figure':<46}{'measured':>12}  {'target':<9} met")
    for what, value, target, met in rows:
        print(f"{what:<46}{value:>12.2f}  {target:<9} {'yes' if met else 'NO'}")
    write_results("summary", {"small": args.small, "failed": failed, "minutes": (time.monotonic() - started) / 60,
                              "targets": [dict(zip(("figure", "measured", "target", "met"), r)) for r in rows]})
    print(f"\n{len(rows)} figures, {sum(1 for r in rows if r[3])} targets met; "
          f"{(time.monotonic() - started) / 60:.1f} minutes; failed benchmarks: {failed or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
