"""Worker faults: two real django-q2 clusters route thousands of responses
on PostgreSQL while worker processes are killed with SIGKILL again and
again. Afterwards every response is routed, no case is duplicated, no
notification went out twice and no task ran more than max_attempts times."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

RESPONSES = 3000
CUSTOMERS = 600
BATCH = 100
DEADLINE_S = 240
ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("pg_audit_cleanup"),
]


def _test_database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def _start_cluster(name: str, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "CVX_Q_WORKERS": "2",
        "CVX_Q_TIMEOUT": "8",
        "CVX_Q_RETRY": "10",
        "DJANGO_LOG_LEVEL": "WARNING",
        # A production-like worker without a mail server: said so, or check cvx.E001 stops it.
        "CVX_ALLOW_CONSOLE_EMAIL": "true",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _children(pid: int) -> list[int]:
    """Children of every thread of `pid`: a guard thread may spawn the replacements."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _worker_processes(pid: int) -> list[int]:
    """The leaves of the cluster's process tree: workers, monitor and pusher.
    The sentinel that guards them is spared, so the cluster lives on and
    replaces what is killed, as it would in production."""
    leaves, frontier = [], _children(pid)
    while frontier:
        process = frontier.pop()
        children = _children(process)
        leaves += [] if children else [process]
        frontier += children
    return leaves


def _ingest_without_routing(touchpoint, monkeypatch) -> int:
    """Store the responses; their routing tasks go to the ORM broker (not inline)."""
    from django_q.conf import Conf

    from feedback.services import feedback_ingest_many

    monkeypatch.setattr(Conf, "SYNC", False)
    rnd = random.Random(3)
    for start in range(0, RESPONSES, BATCH):
        items = [
            {
                "touchpoint": touchpoint.slug,
                "source": "fault",
                "external_id": f"f{n}",
                "nps": rnd.randint(0, 6),
                "customer": {"email": f"c{rnd.randrange(CUSTOMERS)}@example.com"},
            }
            for n in range(start, start + BATCH)
        ]
        assert all(o.status == "created" for o in feedback_ingest_many(items=items))
    from django_q.models import OrmQ

    return OrmQ.objects.count()


def test_routing_survives_killed_workers(touchpoint, agent, monkeypatch, tmp_path):
    from django_q.models import OrmQ, Task

    from cases.choices import OPEN_STATUSES, AssignmentStrategy
    from cases.models import Case, CaseEvent, Notification, RoutedResponse, RoutingRule
    from cases.notifications.rules import NOTIFIED_EVENTS

    RoutingRule.objects.create(name="Detractors", nps_at_most=6, strategy=AssignmentStrategy.DEFAULT_OWNER)

    queued = _ingest_without_routing(touchpoint, monkeypatch)
    assert queued >= RESPONSES // BATCH  # one routing task (plus score refresh) per batch
    clusters = [_start_cluster(name, tmp_path / f"{name}.log") for name in ("a", "b")]
    kills, started = 0, time.monotonic()
    try:
        while RoutedResponse.objects.count() < RESPONSES and time.monotonic() - started < DEADLINE_S:
            time.sleep(1.0)
            victims = _worker_processes(clusters[0].pid)
            if victims and kills < 25:
                os.kill(random.choice(victims), signal.SIGKILL)
                kills += 1
    finally:
        for cluster in clusters:
            os.killpg(cluster.pid, signal.SIGTERM)
        for cluster in clusters:
            try:
                cluster.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(cluster.pid, signal.SIGKILL)
    elapsed = time.monotonic() - started
    logs = "\n".join((tmp_path / f"{n}.log").read_text()[-1500:] for n in ("a", "b"))
    assert kills >= 3, f"too few faults injected ({kills}) in {elapsed:.0f} s"
    assert RoutedResponse.objects.count() == RESPONSES, logs
    customers = Case.objects.values("customer").distinct().count()
    assert Case.objects.count() == customers  # one case per customer: none duplicated
    assert Case.objects.filter(status__in=OPEN_STATUSES).values("customer").distinct().count() == customers
    # Each event names one person here (the owner; the team has no lead): each (event, person) at most once.
    assert Notification.objects.count() <= CaseEvent.objects.filter(kind__in=NOTIFIED_EVENTS).count()
    assert Notification.objects.values("event", "user").distinct().count() == Notification.objects.count()
    assert not Task.objects.filter(attempt_count__gt=settings.Q_CLUSTER["max_attempts"]).exists()
    print(
        f"\nworker faults: {RESPONSES} responses, {kills} SIGKILLs in {elapsed:.0f} s, {Case.objects.count()} cases,"
        f" {Notification.objects.count()} notifications, {OrmQ.objects.count()} tasks left"
    )
