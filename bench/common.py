"""What every benchmark script shares: a throwaway PostgreSQL, Django set up
against it, timing helpers and the result files."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import secrets
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pstats
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


@contextlib.contextmanager
def database_url(given: str | None = None) -> Iterator[str]:
    """`given`, or a private PostgreSQL server started for the run and deleted after."""
    if given:
        yield given
        return
    sys.path.insert(0, str(ROOT / "scripts"))
    from throwaway_pg import throwaway_postgres

    with throwaway_postgres("cvx_bench", tuned_for_tests=False) as url:
        yield url


def configure_environment(url: str, data_dir: str) -> None:
    """Everything settings.py reads, set before django.setup(). Throttles are
    lifted: a benchmark measures the work, not the rate limit. The secret and
    audit keys are made once per run: the benchmarks `run_all.py` starts
    inherit its keys, so an audit event one of them writes (routing a POST)
    verifies in the next one (bench_audit's full verification)."""
    for name, size in (("DJANGO_SECRET_KEY", 50), ("CVX_AUDIT_KEY", 48)):
        os.environ.setdefault(name, secrets.token_urlsafe(size))
    os.environ.update(
        {
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "cvx_site.settings",
            "DJANGO_DEBUG": "false",
            "DJANGO_ALLOWED_HOSTS": "testserver",
            "CVX_DATA_DIR": data_dir,
            "CVX_RATE_INGEST": "1000000/min",
            "CVX_RATE_USER": "1000000/min",
            "DJANGO_LOG_LEVEL": "WARNING",
            "CVX_TASKS_SYNC": "false",
        }
    )
    os.environ.pop("REDIS_URL", None)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def run_in_throwaway(database: str | None, run: Callable[[], int]) -> int:
    """Set Django up on `database` (default: a throwaway server) and return
    `run()`; the database's connections are closed before it goes away."""
    import tempfile

    with database_url(database) as url, tempfile.TemporaryDirectory(prefix="cvx-bench-") as data_dir:
        configure_environment(url, data_dir)
        import django

        django.setup()
        try:
            return run()
        finally:
            from django.db import connections

            connections.close_all()


def setup_django(url: str, data_dir: str) -> None:
    """configure_environment, then django.setup(), migrate and collectstatic."""
    configure_environment(url, data_dir)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)  # as in production (manifest storage)


def timings_ms(fn: Callable[[], object], *, runs: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def p50_p95(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def machine() -> dict:
    return {"platform": platform.platform(), "python": platform.python_version(), "cpu_count": os.cpu_count()}


def write_results(name: str, payload: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(), **payload}
    path.write_text(json.dumps(payload, indent=2, default=str))
    return path


# --- reading cProfile statistics ------------------------------------------------------

Where = tuple[str, str, "str | None"]  # (file suffix, function, "caller file suffix[:function]" or None)


def cumulative(stats: pstats.Stats, where: list[Where]) -> float:
    """Cumulative seconds of the listed functions (only of their calls from
    the caller, when one is given), summed."""
    total = 0.0
    for (filename, _line, name), (_cc, _nc, _tt, ct, callers) in stats.stats.items():  # type: ignore[attr-defined]
        for suffix, func, caller in where:
            if name != func or not filename.endswith(suffix):
                continue
            if caller is None:
                total += ct
                continue
            caller_file, _, caller_func = caller.partition(":")
            total += sum(
                v[3] for (cf, _l, cn), v in callers.items() if cf.endswith(caller_file) and caller_func in ("", cn)
            )
    return total


def short_path(filename: str) -> str:
    for marker in ("site-packages/", str(ROOT) + "/", "/lib/python3.11/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename
