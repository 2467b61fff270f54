"""Single-response POST benchmark: `POST /api/v1/feedback/` requests/s under
concurrency, as a share of a bare Django JSON view served by the same
gunicorn with the same settings. Target (issue 9): at least 50%.

    .venv/bin/python bench/bench_post.py                  # 2 rounds x 10 s per side, ~1.5 min
    .venv/bin/python bench/bench_post.py --seconds 3      # a quick look
    .venv/bin/python bench/bench_post.py --worker-class sync --workers 4   # the README's command line

Setup: a throwaway PostgreSQL (fsync on, as in production), migrated, with
the demo journeys and an Integration user's token. gunicorn serves
`cvx_site.wsgi` on a free loopback port with `bench.bench_settings`: the
project's settings (DJANGO_DEBUG=false, the environment of
common.configure_environment, throttles lifted) whose URLconf adds
`/bench/bare/`, a csrf-exempt plain Django view that json.loads the body and
returns it as a JsonResponse (no auth, no DRF, no database). Both sides go
through the same middleware, workers and keep-alive connections.

The default server is gthread (--workers = CPUs, --threads 4, keep-alive
75 s): gunicorn's sync worker (the README's `--workers 4`) closes the
connection after every response, so a new TCP connection per request would
be part of both sides' figures; `--worker-class sync` measures that.

Load: --clients processes (not threads of this one, so they share no GIL
with anything) holding --concurrency keep-alive connections in all, each
with one request in flight at a time (closed loop). The client is a small
socket loop, not http.client, to leave as much of the CPU as possible to
the server: client, server and PostgreSQL share this machine's cores, and
a heavier client would slow the faster (bare) side most, flattering the
ratio. Every request body is one realistic response as an integration sends
it (bench_ingest's generator: scores, a 10-60 word comment, metadata, a
customer from a skewed pool) with a unique external_id; the bare side gets
the very same bytes (Authorization header included) on its own path.

Sides alternate, bare -> ingest -> bare -> ingest (--rounds), to cancel
drift; each phase is --warmup s untimed, then --seconds s counted: a
request counts when its response arrives inside the window, the window's
responses give requests/s and p50/p95 latency. After each phase the client
drains its in-flight requests, so the database check is exact: the number
of stored rows must equal the number of 201s received. Any non-2xx answer on
either side makes the run fail (exit 1): figures over failures mean nothing.

No django-q2 worker runs: each POST queues its routing and daily-score tasks
with on_commit (two INSERTs into the ORM broker's queue, which are
measured), but doing them is the worker's job, measured by bench_ingest.
A worker here would only take CPU from the server under test.

CPU columns: CPU time used during the counted window by the gunicorn
workers, by PostgreSQL (the postmaster and its children, when the server is
local) and by the load generator, per request; and how busy the machine
was. With a saturated machine, server ms/request is the cost to compare.

Afterwards one single POST is profiled in-process (django.test.Client,
same settings, cProfile over --profile-requests requests) and its SQL is
captured; the bare view is timed the same way. Results: the printed tables
and bench/results/post.json.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import cProfile
import io
import json
import multiprocessing
import os
import pstats
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, Where, configure_environment, cumulative, database_url, p50_p95, short_path, write_results  # noqa: E402 - after sys.path

SETTINGS = "bench.bench_settings"
INGEST_PATH, BARE_PATH = "/api/v1/feedback/", "/bench/bare/"
SIDES = {"bare": BARE_PATH, "ingest": INGEST_PATH}
ID_MARK = b"@@EXTERNAL_ID@@"
RUN_PREFIX = "post"  # external ids of the load phases; the profile uses "prof"
DRAIN_SECONDS = 35  # gunicorn's --timeout is 30: nothing is in flight longer
TARGET = 0.5


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="use this (disposable) database instead of a throwaway server")
    parser.add_argument("--seconds", type=float, default=10, help="counted seconds per phase (default 10)")
    parser.add_argument("--warmup", type=float, default=2, help="untimed seconds before each phase (default 2)")
    parser.add_argument("--rounds", type=int, default=2, help="bare+ingest rounds (default 2)")
    parser.add_argument("--concurrency", type=int, default=16, help="keep-alive connections in all (default 16)")
    parser.add_argument("--clients", type=int, default=2, help="load generator processes (default 2)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="gunicorn workers (default: CPUs)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker (default 4)")
    parser.add_argument("--worker-class", default="gthread", choices=["gthread", "sync"])
    parser.add_argument("--profile-requests", type=int, default=300, help="in-process profiled POSTs (default 300)")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.warmup < 0 or args.rounds < 1 or args.clients < 1 or args.profile_requests < 1:
        parser.error("--seconds, --rounds, --clients and --profile-requests must be positive")
    if args.concurrency < args.clients:
        parser.error("--concurrency must be at least --clients")
    return args


# --- data ------------------------------------------------------------------------


def prepare_database(url: str, data_dir: str) -> str:
    """common.setup_django with the bench settings: migrate, collectstatic,
    the demo journeys; return an Integration user's token key."""
    configure_environment(url, data_dir)
    os.environ.update({"DJANGO_SETTINGS_MODULE": SETTINGS, "DJANGO_ALLOWED_HOSTS": "testserver,127.0.0.1"})
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import Token

    from journeys.demo import seed_journeys
    from journeys.roles import INTEGRATION

    seed_journeys()
    user = get_user_model().objects.create_user("bench.post.integration")
    user.groups.add(Group.objects.get(name=INTEGRATION))
    return Token.objects.create(user=user).key


def body_templates(count: int = 500) -> list[bytes]:
    """`count` realistic single responses as JSON, external_id left as ID_MARK."""
    from bench_ingest import make_specs, render_item

    specs = make_specs(count, seed=20240601, people=max(1, count // 3))
    return [json.dumps({**render_item(spec, "api"), "external_id": ID_MARK.decode()}).encode() for spec in specs]


# --- load generator (runs in child processes) ------------------------------------


def response_end(buf: bytearray) -> tuple[int, int, bool] | None:
    """(status, bytes of the whole response, server closes) of the response
    at the start of `buf`, or None while it is incomplete."""
    head_end = buf.find(b"\r\n\r\n")
    if head_end < 0:
        return None
    lines = bytes(buf[:head_end]).decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    if "content-length" not in headers:
        raise RuntimeError(f"response without Content-Length: {lines[0]!r} {headers}")
    total = head_end + 4 + int(headers["content-length"])
    if len(buf) < total:
        return None
    return int(lines[0].split(" ", 2)[1]), total, headers.get("connection", "").lower() == "close"


class Connection:
    """One keep-alive connection with at most one request in flight."""

    def __init__(self, port: int):
        self.port, self.buf, self.sent_at, self.sock = port, bytearray(), None, None
        self.open()

    def open(self) -> None:
        self.sock = socket.create_connection(("127.0.0.1", self.port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf.clear()

    def send(self, request: bytes) -> None:
        self.sock.sendall(request)
        self.sent_at = time.monotonic()


def load_process(spec: dict, results) -> None:
    """A closed loop over spec["connections"] connections, reported on `results`."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us, or its death does:
    _die_with_parent()
    try:
        results.put(closed_loop(spec))
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which fails the run
        results.put({"failure": f"{type(exc).__name__}: {exc}"})


def closed_loop(spec: dict) -> dict:
    head = (
        f"POST {spec['path']} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token {spec['token']}\r\n"
        "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
    ).encode()
    templates, tag, seq = spec["templates"], f"{RUN_PREFIX}-{spec['tag']}".encode(), 0

    def next_request() -> bytes:
        nonlocal seq
        seq += 1
        body = templates[seq % len(templates)].replace(ID_MARK, b"%s-%d" % (tag, seq))
        return head % len(body) + body

    window_start, window_end = spec["window"]
    statuses, all_statuses, latencies, sample = collections.Counter(), collections.Counter(), [], None
    selector = selectors.DefaultSelector()
    conns = [Connection(spec["port"]) for _ in range(spec["connections"])]
    time.sleep(max(0.0, spec["start"] - time.monotonic()))
    for conn in conns:
        selector.register(conn.sock, selectors.EVENT_READ, conn)
        conn.send(next_request())
    in_flight = len(conns)
    while in_flight:
        if time.monotonic() > window_end + DRAIN_SECONDS:
            raise RuntimeError(f"{in_flight} requests unanswered {DRAIN_SECONDS} s after the phase")
        for key, _ in selector.select(timeout=0.5):
            conn = key.data
            data = conn.sock.recv(262144)
            if not data:
                raise RuntimeError("the server closed a connection with a request in flight")
            conn.buf += data
            parsed = response_end(conn.buf)
            if parsed is None:
                continue
            status, length, closes = parsed
            if status // 100 != 2 and sample is None:
                sample = f"{status}: {bytes(conn.buf[:length])[-600:]!r}"
            del conn.buf[:length]
            now = time.monotonic()
            all_statuses[status] += 1
            if window_start <= now < window_end:
                statuses[status] += 1
                latencies.append(1000 * (now - conn.sent_at))
            if closes:
                selector.unregister(conn.sock)
                conn.sock.close()
                conn.open()
                selector.register(conn.sock, selectors.EVENT_READ, conn)
            if now < window_end:
                conn.send(next_request())
            else:
                in_flight -= 1
    for conn in conns:
        conn.sock.close()
    return {
        "statuses": dict(statuses),
        "all_statuses": dict(all_statuses),
        "latencies": latencies,
        "error_sample": sample,
    }


# --- CPU accounting (Linux /proc) ------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields from 3 (state) on


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat_fields(int(entry))) and fields[1] == str(pid):
            found.append(int(entry))
    return found


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        if fields := _stat_fields(pid):
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return sum(values[:8]) - idle, sum(values[:8])


def postmaster_pid() -> int | None:
    """The pid of our database's server, if it runs on this machine."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    fields = _stat_fields(backend)
    return int(fields[1]) if fields else None


class CpuSample:
    """CPU seconds of each process group at one moment."""

    def __init__(self, groups: dict[str, list[int]]):
        self.seconds = {name: cpu_seconds(pids) for name, pids in groups.items()}
        self.ticks = machine_ticks()

    def since(self, earlier: CpuSample) -> dict[str, float]:
        busy, total = (now - then for now, then in zip(self.ticks, earlier.ticks))
        return {
            **{name: self.seconds[name] - earlier.seconds[name] for name in self.seconds},
            "machine_busy": busy / total if total else 0.0,
        }


# --- gunicorn --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """SIGTERM to this process when its parent dies, even by SIGKILL (Linux)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@contextlib.contextmanager
def gunicorn(args, port: int, log_path: Path):
    """gunicorn serving the project with the bench settings; stopped on exit."""
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "cvx_site.wsgi:application",
        "--chdir",
        str(ROOT),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(args.workers),
        "--worker-class",
        args.worker_class,
        "--timeout",
        "30",
        "--keep-alive",
        "75",
        "--log-level",
        "warning",
    ]
    if args.worker_class == "gthread":
        command += ["--threads", str(args.threads)]
    log = log_path.open("wb")
    server = subprocess.Popen(
        command,
        env=dict(os.environ),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )
    try:
        wait_until_serving(server, port, log_path)
        yield server
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)  # graceful: the workers close their database connections
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        log.close()


def gunicorn_workers(master: int, count: int) -> list[int]:
    deadline = time.monotonic() + 20
    while len(workers := children_of(master)) < count and time.monotonic() < deadline:
        time.sleep(0.2)
    return workers


def wait_until_serving(server: subprocess.Popen, port: int, log_path: Path) -> None:
    import http.client

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({server.returncode}):\n{log_path.read_text()[-3000:]}")
        with contextlib.suppress(OSError):
            client = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            client.request("GET", "/healthz")
            if client.getresponse().status == 200:
                client.close()
                return
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer /healthz within 60 s:\n{log_path.read_text()[-3000:]}")


# --- phases ----------------------------------------------------------------------


def run_phase(
    args,
    side: str,
    label: str,
    port: int,
    token: str,
    templates: list[bytes],
    groups: dict[str, Callable[[], list[int]]],
) -> dict:
    """One phase of one side: warm-up, the counted window, the drain."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    start = time.monotonic() + 1.5  # time for the children to start
    window = (start + args.warmup, start + args.warmup + args.seconds)
    shares = [args.concurrency // args.clients + (i < args.concurrency % args.clients) for i in range(args.clients)]
    procs = [
        context.Process(
            target=load_process,
            daemon=True,
            args=(
                {
                    "path": SIDES[side],
                    "token": token,
                    "templates": templates,
                    "tag": f"{label}-{i}",
                    "port": port,
                    "connections": n,
                    "start": start,
                    "window": window,
                },
                results,
            ),
        )
        for i, n in enumerate(shares)
    ]
    try:
        for proc in procs:
            proc.start()
        time.sleep(max(0.0, window[0] - time.monotonic()))
        # Database backends start when the server's threads first connect: list them now.
        groups = {name: pids() for name, pids in groups.items()} | {"client": [proc.pid for proc in procs]}
        before = CpuSample(groups)
        time.sleep(max(0.0, window[1] - time.monotonic()))
        cpu = CpuSample(groups).since(before)
        reports = []
        for _ in procs:
            reports.append(results.get(timeout=args.warmup + args.seconds + DRAIN_SECONDS + 30))
            if "failure" in reports[-1]:
                raise RuntimeError(f"load generator of {side}: {reports[-1]['failure']}")
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
            proc.join(timeout=5)
    return merge(side, label, args.seconds, reports, cpu)


def merge(side: str, label: str, seconds: float, reports: list[dict], cpu: dict) -> dict:
    statuses, all_statuses, latencies = collections.Counter(), collections.Counter(), []
    for report in reports:
        statuses.update({int(k): v for k, v in report["statuses"].items()})
        all_statuses.update({int(k): v for k, v in report["all_statuses"].items()})
        latencies += report["latencies"]
    ok = sum(v for k, v in statuses.items() if k // 100 == 2)
    return {
        "side": side,
        "label": label,
        "seconds": seconds,
        "requests": ok,
        "rps": ok / seconds,
        "statuses": dict(statuses),
        "all_statuses": dict(all_statuses),
        "latencies": latencies,
        "errors": [r["error_sample"] for r in reports if r["error_sample"]],
        "cpu": cpu,
    }


def summarise(phases: list[dict]) -> dict[str, dict]:
    sides = {}
    for side in SIDES:
        runs = [p for p in phases if p["side"] == side]
        requests, seconds = sum(p["requests"] for p in runs), sum(p["seconds"] for p in runs)
        p50, p95 = p50_p95([ms for p in runs for ms in p["latencies"]] or [0.0])
        cpu = {k: sum(p["cpu"][k] for p in runs) for k in runs[0]["cpu"] if k != "machine_busy"}
        sides[side] = {
            "requests": requests,
            "rps": requests / seconds,
            "p50_ms": p50,
            "p95_ms": p95,
            "rounds_rps": [round(p["rps"], 1) for p in runs],
            **{f"{k}_cpu_ms_per_request": 1000 * v / max(requests, 1) for k, v in cpu.items()},
            "machine_busy": sum(p["cpu"]["machine_busy"] for p in runs) / len(runs),
        }
    return sides


def stored_rows() -> int:
    from feedback.models import FeedbackResponse

    return FeedbackResponse.objects.filter(external_id__startswith=f"{RUN_PREFIX}-").count()


def queued_tasks() -> int:
    """Rows in the ORM broker's queue: in `make bench` the data set's own
    (the benchmarks before this one queue notification and routing tasks)
    are there too, so the load test counts what it adds."""
    from django_q.models import OrmQ

    return OrmQ.objects.count()


def load_test(args, token: str, templates: list[bytes], log_path: Path) -> dict:
    from django.db import connections

    port, tasks_before = free_port(), queued_tasks()
    with gunicorn(args, port, log_path) as server:
        workers, postmaster = gunicorn_workers(server.pid, args.workers), postmaster_pid()
        groups = {
            "server": lambda: workers,
            "postgres": lambda: [postmaster, *children_of(postmaster)] if postmaster else [],
        }
        connections.close_all()  # none of ours open while the server is measured
        phases = []
        for round_no in range(1, args.rounds + 1):
            for side in SIDES:
                print(f"  round {round_no}: {side} ...", flush=True)
                phases.append(run_phase(args, side, f"{side[0]}{round_no}", port, token, templates, groups))
    created = sum(p["all_statuses"].get(201, 0) for p in phases if p["side"] == "ingest")
    queued = queued_tasks() - tasks_before
    return {"phases": phases, "created_201": created, "stored_rows": stored_rows(), "queued_tasks": queued}


# --- in-process profile ----------------------------------------------------------

VIEWS = "feedback/api/views.py"
SERVICES = "feedback/services.py"
STAGES: list[tuple[str, list[Where]]] = [
    ("Django handler, whole request", [("django/core/handlers/base.py", "get_response", None)]),
    ("  DRF dispatch (the view, with DRF's plumbing)", [("rest_framework/views.py", "dispatch", None)]),
    ("    initial: auth, permissions, throttles", [("rest_framework/views.py", "initial", None)]),
    ("      token lookup", [("rest_framework/authentication.py", "authenticate_credentials", None)]),
    ("      permissions (has_perm)", [("rest_framework/views.py", "check_permissions", None)]),
    ("      throttles (user + ingest scope)", [("rest_framework/views.py", "check_throttles", None)]),
    ("    JSON parse of the body", [("rest_framework/parsers.py", "parse", None)]),
    ("    create(): the view", [(VIEWS, "create", None)]),
    ("      feedback_ingest_many", [(SERVICES, "feedback_ingest_many", None)]),
    ("        touchpoints", [(SERVICES, "_touchpoints_for", None)]),
    ("        validation (FeedbackInSerializer) + content hash", [(SERVICES, "_validate", None)]),
    ("        existing (source, external_id) lookups", [(SERVICES, "_existing_responses", None)]),
    ("        sentiment (VADER)", [("feedback/sentiment.py", "score_many", None)]),
    ("        customer resolution", [(SERVICES, "customers_resolve", None)]),
    (
        "        INSERT of the response",
        [
            ("cvx_site/db.py", "bulk_insert", f"{SERVICES}:_create_responses"),
            ("django/db/models/manager.py", "manager_method", f"{SERVICES}:_create_responses"),
        ],
    ),
    (
        "        responses_ingested signal + score keys",
        [("django/dispatch/dispatcher.py", "send", SERVICES), ("feedback/summaries.py", "daily_score_keys", None)],
    ),
    (
        "        transaction exit: COMMIT + on_commit hooks",
        [("django/db/transaction.py", "__exit__", f"{SERVICES}:feedback_ingest_many")],
    ),
    ("          on_commit task enqueues (django-q2 ORM broker)", [("django_q/tasks.py", "async_task", None)]),
    ("      reply serialization (FeedbackSerializer)", [("rest_framework/serializers.py", "data", f"{VIEWS}:create")]),
    ("    finalize_response + JSON render", [("rest_framework/views.py", "finalize_response", None)]),
    (
        "(in all the above) building DRF serializer fields, in + out",
        [("rest_framework/serializers.py", "fields", None)],
    ),
    ("(in all the above) waiting for PostgreSQL", [("psycopg/connection.py", "wait", None)]),
]


def top_functions(stats: pstats.Stats, per: int, limit: int = 15, by: int = 2) -> list[dict]:
    entries = sorted(stats.stats.items(), key=lambda kv: kv[1][by], reverse=True)  # type: ignore[attr-defined]
    return [
        {
            "function": f"{short_path(fn)}:{line}({name})",
            "calls_per_request": nc / per,
            "own_ms": 1000 * tt / per,
            "cumulative_ms": 1000 * ct / per,
        }
        for (fn, line, name), (_cc, nc, tt, ct, _callers) in entries[:limit]
    ]


def insert_floor(n: int) -> dict:
    """The least a durable single POST does: one response row INSERTed and
    COMMITted (fsync) through the ORM, nothing else."""
    from django.db import transaction

    from feedback.models import FeedbackResponse

    row = FeedbackResponse.objects.filter(external_id__startswith="prof-").first()
    samples = []
    for i in range(n):
        row.pk, row.external_id = None, f"floor-{i}"
        start = time.perf_counter()
        with transaction.atomic():
            row.save(force_insert=True)
        samples.append(1000 * (time.perf_counter() - start))
    return dict(zip(("p50_ms", "p95_ms"), p50_p95(samples)), mean_ms=sum(samples) / n)


def in_process(args, token: str, templates: list[bytes]) -> dict:
    """Timings, SQL and a cProfile of single POSTs through django.test.Client."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(headers={"authorization": f"Token {token}"})
    counter = iter(range(10**9))

    def post(path: str) -> int:
        n = next(counter)
        body = templates[n % len(templates)].replace(ID_MARK, f"prof-{n}".encode())
        return client.post(path, data=body, content_type="application/json").status_code

    n = args.profile_requests
    for path in (INGEST_PATH, BARE_PATH) * 20:  # warm-up: lexicon, caches, connection
        assert post(path) in (201,), f"in-process warm-up of {path} failed"
    timings = {}
    for side, path in SIDES.items():
        samples = []
        for _ in range(n):
            start = time.perf_counter()
            status = post(path)
            samples.append(1000 * (time.perf_counter() - start))
            if status != 201:
                raise RuntimeError(f"in-process POST {path} answered {status}")
        timings[side] = dict(zip(("p50_ms", "p95_ms"), p50_p95(samples)), mean_ms=sum(samples) / n)
    timings["floor"] = insert_floor(n)
    per_request = []
    for _ in range(20):
        with CaptureQueriesContext(connection) as captured:
            post(INGEST_PATH)
        per_request.append([q["sql"] for q in captured.captured_queries])
    one = max(per_request, key=len)  # a new customer: the most statements
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.runcall(lambda: [post(INGEST_PATH) for _ in range(n)])
    wall = time.perf_counter() - start
    stats = pstats.Stats(profiler, stream=io.StringIO())
    return {
        "requests": n,
        "timings": timings,
        "ratio_of_means": timings["bare"]["mean_ms"] / timings["ingest"]["mean_ms"],
        "queries_per_request": sum(map(len, per_request)) / 20,
        "queries_min_max": (min(map(len, per_request)), len(one)),
        "queries_of_one_request": one,
        "profiled_ms_per_request": 1000 * wall / n,
        "stages_ms": {label.strip(): 1000 * cumulative(stats, where) / n for label, where in STAGES},
        "top_own_time": top_functions(stats, n),
    }


# --- report ----------------------------------------------------------------------


def print_load(args, load: dict, sides: dict, ratio: float) -> None:
    server = f"{args.workers} gunicorn {args.worker_class} workers" + (
        f" x {args.threads} threads" if args.worker_class == "gthread" else ""
    )
    kind = "keep-alive connections" if args.worker_class == "gthread" else "connections (closed per response)"
    print(
        f"\nPOST benchmark: {server}, {args.concurrency} {kind} from {args.clients} client "
        f"processes, {args.rounds} x {args.seconds:g} s per side (after {args.warmup:g} s warm-up each), "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the end\n"
    )
    print(
        f"{'side':<8}{'requests':>9}{'req/s':>9}{'p50 ms':>8}{'p95 ms':>8}"
        f"{'CPU ms/req: server':>20}{'postgres':>10}{'client':>8}{'busy':>7}   req/s by round"
    )
    for side, s in sides.items():
        print(
            f"{side:<8}{s['requests']:>9,}{s['rps']:>9,.0f}{s['p50_ms']:>8.1f}{s['p95_ms']:>8.1f}"
            f"{s['server_cpu_ms_per_request']:>20.2f}{s['postgres_cpu_ms_per_request']:>10.2f}"
            f"{s['client_cpu_ms_per_request']:>8.2f}{s['machine_busy']:>7.0%}   "
            + ", ".join(f"{r:,.0f}" for r in s["rounds_rps"])
        )
    print(f"\ningest / bare requests/s: {ratio:.2f} (target at least {TARGET:.2f})")
    print(
        f"201s received {load['created_201']:,}, rows stored {load['stored_rows']:,}, "
        f"tasks queued {load['queued_tasks']:,} ({load['queued_tasks'] / max(load['stored_rows'], 1):.1f} per POST)"
    )


def print_profile(prof: dict) -> None:
    t = prof["timings"]
    print(
        f"\nIn-process (django.test.Client, {prof['requests']} requests each, no profiler): "
        f"ingest p50 {t['ingest']['p50_ms']:.2f} ms, bare p50 {t['bare']['p50_ms']:.2f} ms, "
        f"bare/ingest mean time {prof['ratio_of_means']:.3f}; the floor, one ORM INSERT + COMMIT of the same "
        f"row and nothing else: p50 {t['floor']['p50_ms']:.2f} ms"
    )
    low, high = prof["queries_min_max"]
    print(
        f"SQL per single POST: {prof['queries_per_request']:.1f} statements on average ({low} to {high}; "
        "Django's own, so not the health-check SELECT 1 that gunicorn's persistent connections add per "
        f"request); the {high} of one of them:"
    )
    for sql in prof["queries_of_one_request"]:
        print(f"    {sql[:110]}")
    print(
        f"\ncProfile of {prof['requests']} single POSTs: {prof['profiled_ms_per_request']:.2f} ms each under "
        "the profiler (inflated: read shares)\n  stage (cumulative ms per request; nested lines are part of "
        "the line above)"
    )
    whole = prof["stages_ms"]["Django handler, whole request"] or 1
    for label, _where in STAGES:
        ms = prof["stages_ms"][label.strip()]
        print(f"    {label:<58}{ms:>8.3f}{ms / whole:>7.0%}")
    print("  top 15 by own time (ms per request)")
    for row in prof["top_own_time"]:
        print(
            f"    {row['calls_per_request']:>7.1f} calls {row['own_ms']:>7.3f} own {row['cumulative_ms']:>7.3f} cum"
            f"  {row['function']}"
        )


def check(load: dict) -> list[str]:
    problems = []
    for phase in load["phases"]:
        bad = {k: v for k, v in phase["all_statuses"].items() if k // 100 != 2}
        if bad:
            problems.append(f"{phase['side']} phase {phase['label']}: non-2xx answers {bad}; {phase['errors'][:1]}")
    if load["stored_rows"] != load["created_201"]:
        problems.append(f"{load['created_201']} POSTs answered 201 but {load['stored_rows']} rows are stored")
    return problems


def run(args, url: str, data_dir: str) -> int:
    load_at_start = os.getloadavg()
    print("migrating, seeding the demo journeys ...", flush=True)
    token = prepare_database(url, data_dir)
    templates = body_templates()
    print("serving with gunicorn and loading it ...", flush=True)
    load = load_test(args, token, templates, Path(data_dir) / "gunicorn.log")
    sides = summarise(load["phases"])
    ratio = sides["ingest"]["rps"] / sides["bare"]["rps"] if sides["bare"]["rps"] else 0.0
    print_load(args, load, sides, ratio)
    problems = check(load)
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    if problems:
        return 1
    print("profiling single POSTs in-process ...", flush=True)
    prof = in_process(args, token, templates)
    print_profile(prof)
    config = {
        k: getattr(args, k)
        for k in ("seconds", "warmup", "rounds", "concurrency", "clients", "workers", "threads", "worker_class")
    }
    payload = {
        "config": config,
        "load_average_at_start": load_at_start,
        "sides": sides,
        "ratio": ratio,
        "target": TARGET,
        "checks": {k: load[k] for k in ("created_201", "stored_rows", "queued_tasks")},
        "load_average_at_end": os.getloadavg(),
        "in_process": prof,
    }
    print(f"\nwrote {write_results('post', payload)}")
    return 0


def _interrupt(_signum, _frame):
    raise KeyboardInterrupt


def main(argv=None) -> int:
    args = parse_args(argv)
    # Ctrl-C and kill both unwind through the cleanup: load generators,
    # gunicorn, database connections, then the throwaway server.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    with database_url(args.database_url) as url, tempfile.TemporaryDirectory(prefix="cvx-bench-") as data_dir:
        try:
            return run(args, url, data_dir)
        except KeyboardInterrupt:
            print("\ninterrupted", file=sys.stderr)
            return 130
        finally:
            if "django.db" in sys.modules:
                from django.db import connections

                connections.close_all()


if __name__ == "__main__":
    sys.exit(main())
