"""Loop health, the figures on the admin home: is anything stuck between
feedback arriving and a case being closed?

Each figure says what it counts, whether it looks stuck (`alert`) and links
to where it is acted on when the user may open that page. The figures are
about the whole installation (every case, every response, the task queue),
so only those who act on every case see them: CX admins and superusers
(`cases.policy.is_case_admin`); a team lead sees the admin home without them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Min
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django_q.brokers import get_broker
from django_q.models import Task
from django_q.status import Stat

from cases.audit.trail import latest_checkpoint
from cases.choices import CaseStatus
from cases.models import VerificationRun
from cases.policy import is_case_admin
from cases.selectors import breached, cases_visible_to
from cases.services.follow_up import follow_ups_due
from feedback.models import FeedbackResponse

# Past these, a figure is flagged: routing runs on commit, the SLA sweep every
# 5 minutes (so some task finishes every few minutes), checkpoints hourly and
# a full verification daily.
ROUTING_STUCK_AFTER = timedelta(minutes=10)
WORKERS_SILENT_AFTER = timedelta(minutes=15)
CHECKPOINT_LATE_AFTER = timedelta(hours=2)
VERIFICATION_LATE_AFTER = timedelta(hours=26)


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    value: str
    detail: str = ""
    url: str | None = None
    alert: bool = False


def _ago(then: datetime | None, now: datetime) -> str:
    return f"{timesince(then, now)} ago" if then else "never"


def _n(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _link(user, perm: str, name: str, query: str = "") -> str | None:
    return reverse(name) + query if user.has_perm(perm) else None


def loop_health(user, *, now: datetime | None = None) -> list[Figure] | None:
    """The figures for `user`, or None when they may not see them."""
    if not is_case_admin(user):
        return None
    now = now or timezone.now()
    return [
        _waiting_for_routing(user, now),
        *_task_queue(user, now),
        _breached(user),
        _follow_ups_due(user, now),
        _verification(now),
        _checkpoint(now),
    ]


def _waiting_for_routing(user, now: datetime) -> Figure:
    waiting = FeedbackResponse.objects.filter(routing__isnull=True).aggregate(n=Count("pk"), oldest=Min("received_at"))
    count, oldest = waiting["n"], waiting["oldest"]
    return Figure(
        "waiting",
        "Responses waiting for routing",
        f"{count:,}",
        f"oldest arrived {_ago(oldest, now)}; `manage.py route_pending` routes them" if count else "",
        _link(user, "django_q.view_ormq", "admin:django_q_ormq_changelist") if count else None,
        alert=oldest is not None and now - oldest > ROUTING_STUCK_AFTER,
    )


def _task_queue(user, now: datetime) -> list[Figure]:
    broker = get_broker()
    depth = broker.queue_size() or 0
    clusters = Stat.get_all(broker=broker)
    workers = sum(len(stat.workers) for stat in clusters)
    last = Task.objects.order_by("-stopped").values_list("stopped", flat=True).first()
    silent = last is None or now - last > WORKERS_SILENT_AFTER
    if clusters:
        states = ", ".join(sorted({str(stat.status) for stat in clusters}))
        detail = f"{_n(len(clusters), 'cluster')} ({states}); last task finished {_ago(last, now)}"
    else:
        # Without Redis the cluster keeps its status in its own process's cache: the finished tasks tell instead.
        detail = f"no cluster status shared with this process; last task finished {_ago(last, now)}"
    orm = "orm" in settings.Q_CLUSTER
    return [
        Figure(
            "queue",
            "Tasks in the queue",
            f"{depth:,}",
            f"on the {'database' if orm else 'Redis'} broker",
            _link(user, "django_q.view_ormq", "admin:django_q_ormq_changelist") if orm else None,
            alert=depth > 0 and silent,
        ),
        Figure(
            "workers",
            "Task workers",
            f"{workers:,}" if clusters else "unknown",
            detail,
            _link(user, "django_q.view_failure", "admin:django_q_failure_changelist"),
            alert=silent and not workers,
        ),
    ]


def _breached(user) -> Figure:
    count = breached(cases_visible_to(user)).count()
    return Figure(
        "breached",
        "Cases breached now",
        f"{count:,}",
        "open past a due time, or marked breached by the SLA sweep",
        reverse("cases:queue", args=["all"]) + "?breached=true",
        alert=count > 0,
    )


def _follow_ups_due(user, now: datetime) -> Figure:
    reminders, expired = follow_ups_due(now=now)
    due, overdue = reminders.count(), expired.count()
    return Figure(
        "follow_ups",
        "Follow-ups due",
        f"{due + overdue:,}",
        f"{_n(due, 'reminder')} to send, {overdue:,} expired to close; the sweep runs every 15 minutes",
        _link(
            user,
            "cases.view_case",
            "admin:cases_case_changelist",
            f"?status__exact={CaseStatus.AWAITING_FOLLOW_UP}",
        ),
        alert=overdue > 0,
    )


def _verification(now: datetime) -> Figure:
    runs = VerificationRun.objects.all()
    result = runs.filter(active__isnull=True).order_by("-finished_at", "-id").first()
    running = runs.filter(active=True).exists()
    if result is None:
        return Figure(
            "verification",
            "Last audit verification",
            "running" if running else "none yet",
            "",
            reverse("cases:audit-verify"),
            alert=not running,
        )
    failed = result.status != VerificationRun.Status.PASSED
    late = result.finished_at is None or now - result.finished_at > VERIFICATION_LATE_AFTER
    detail = f"{result.get_kind_display().lower()}, finished {_ago(result.finished_at, now)}"
    if result.break_count:
        detail += f", {_n(result.break_count, 'break')}"
    if running:
        detail += "; another is running"
    return Figure(
        "verification",
        "Last audit verification",
        result.get_status_display(),
        detail,
        reverse("cases:audit-verify"),
        alert=failed or late,
    )


def _checkpoint(now: datetime) -> Figure:
    checkpoint = latest_checkpoint()
    return Figure(
        "checkpoint",
        "Last audit checkpoint",
        f"#{checkpoint.number}" if checkpoint else "none yet",
        f"signed {_ago(checkpoint.created_at, now)}" if checkpoint else "",
        reverse("cases:audit-verify"),
        alert=checkpoint is None or now - checkpoint.created_at > CHECKPOINT_LATE_AFTER,
    )
