"""Loop health on the admin home: what is stuck between feedback arriving
and a case closing, for those who act on every case, each figure linked to
where it is acted on."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.choices import CaseStatus
from cases.loop_health import loop_health
from cases.models import AuditCheckpoint, Case, VerificationRun
from feedback.models import FeedbackResponse, SurveyInvitation
from tests.admin.conftest import ingest

HOME = "admin:index"


def figures(user) -> dict:
    return {f.key: f for f in loop_health(user)}


@pytest.fixture
def stuck_response(touchpoint):
    """A response that arrived three hours ago and was never routed."""
    response = ingest(touchpoint=touchpoint, marker="stuck", n=1, nps=2, route=False)
    FeedbackResponse.objects.filter(pk=response.pk).update(received_at=timezone.now() - timedelta(hours=3))
    return response


@pytest.fixture
def breached_case(negative_rule, touchpoint):
    """A case whose first contact was due an hour ago."""
    ingest(touchpoint=touchpoint, marker="late", n=1, nps=1)
    case = Case.objects.get()
    Case.objects.filter(pk=case.pk).update(due_at=timezone.now() - timedelta(hours=1))
    return case


def test_a_stuck_response_and_a_breached_case_show_with_their_figures(client, cx_admin, stuck_response, breached_case):
    client.force_login(cx_admin)
    page = client.get(reverse(HOME))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="loop-health"' in html
    shown = figures(cx_admin)
    waiting = shown["waiting"]
    assert (waiting.value, waiting.alert) == ("1", True)
    assert "oldest arrived 3\xa0hours ago" in waiting.detail
    breached = shown["breached"]
    assert (breached.value, breached.alert) == ("1", True)
    assert breached.url == reverse("cases:queue", args=["all"]) + "?breached=true"
    assert f'<a href="{breached.url}">Cases breached now</a>' in html
    assert "loop-health-waiting loop-health-alert" in html
    # The app list is still there.
    assert reverse("admin:cases_routingrule_changelist") in html


def test_nothing_stuck_shows_no_alert_for_routing_and_cases(client, cx_admin, negative_rule, touchpoint):
    ingest(touchpoint=touchpoint, marker="fresh", n=1, nps=2)  # routed, due in hours
    ingest(touchpoint=touchpoint, marker="new", n=1, nps=9, route=False)  # just arrived
    shown = figures(cx_admin)
    assert (shown["waiting"].value, shown["waiting"].alert) == ("1", False)
    assert (shown["breached"].value, shown["breached"].alert) == ("0", False)


def test_the_figures_are_for_those_who_act_on_every_case(
    client, cx_admin, superuser, lead, care_viewer, stuck_response, breached_case
):
    for user in (lead, care_viewer):  # staff, with scoped or view-only rights
        assert loop_health(user) is None
        client.force_login(user)
        page = client.get(reverse(HOME))
        assert page.status_code == 200 and 'id="loop-health"' not in page.content.decode()
    client.force_login(superuser)
    assert 'id="loop-health"' in client.get(reverse(HOME)).content.decode()
    assert figures(superuser)["breached"].value == "1"


def test_links_go_only_where_the_user_may_go(cx_admin, superuser, stuck_response):
    admin_view, root_view = figures(cx_admin), figures(superuser)
    # Django Q's own admin pages are for those given its permissions.
    assert admin_view["waiting"].url is None and admin_view["workers"].url is None
    assert root_view["waiting"].url == reverse("admin:django_q_ormq_changelist")
    assert root_view["workers"].url == reverse("admin:django_q_failure_changelist")
    assert admin_view["verification"].url == reverse("cases:audit-verify")


def test_the_task_queue_depth_and_its_workers(cx_admin, monkeypatch):
    from django_q.brokers import get_broker
    from django_q.models import Success
    from django_q.status import Stat

    broker = get_broker()
    broker.enqueue("a task nobody took")
    broker.enqueue("another")
    shown = figures(cx_admin)
    assert shown["queue"].value == "2"
    assert (shown["workers"].value, shown["workers"].alert) == ("unknown", True)  # no task ever finished
    cluster = SimpleNamespace(workers=[101, 102, 103], status="Idle")
    monkeypatch.setattr(Stat, "get_all", staticmethod(lambda broker=None: [cluster]))
    now = timezone.now()
    Success.objects.create(id="t1", name="t1", func="f", started=now, stopped=now - timedelta(minutes=1), success=True)
    shown = figures(cx_admin)
    assert (shown["workers"].value, shown["workers"].alert) == ("3", False)
    assert "1 cluster (Idle)" in shown["workers"].detail
    assert not shown["queue"].alert


def test_follow_ups_due_count_the_sweeps_undone_work(cx_admin, agent, negative_rule, touchpoint):
    from cases import services
    from cases.models import RootCause

    ingest(touchpoint=touchpoint, marker="loop", n=1, nps=2)
    case = Case.objects.get()
    cause = RootCause.objects.create(name="Line fault")
    services.case_log_contact(case_id=case.pk, actor=agent, channel="phone", note="Called")
    services.case_resolve(case_id=case.pk, actor=agent, root_cause=cause, note="Fixed the line")
    assert Case.objects.get().status == CaseStatus.AWAITING_FOLLOW_UP
    assert (figures(cx_admin)["follow_ups"].value, figures(cx_admin)["follow_ups"].alert) == ("0", False)
    SurveyInvitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    due = figures(cx_admin)["follow_ups"]
    assert (due.value, due.alert) == ("1", True)
    assert "1 expired to close" in due.detail
    assert due.url == reverse("admin:cases_case_changelist") + "?status__exact=awaiting_follow_up"


def test_the_last_verification_and_checkpoint(cx_admin):
    shown = figures(cx_admin)
    assert (shown["verification"].value, shown["verification"].alert) == ("none yet", True)
    assert (shown["checkpoint"].value, shown["checkpoint"].alert) == ("none yet", True)
    now = timezone.now()
    VerificationRun.objects.create(
        kind=VerificationRun.Kind.FULL, status=VerificationRun.Status.PASSED, active=None, finished_at=now
    )
    shown = figures(cx_admin)
    assert (shown["verification"].value, shown["verification"].alert) == ("Passed", False)
    VerificationRun.objects.create(
        kind=VerificationRun.Kind.INCREMENTAL,
        status=VerificationRun.Status.FAILED,
        active=None,
        finished_at=now + timedelta(seconds=1),
        break_count=3,
    )
    shown = figures(cx_admin)
    assert (shown["verification"].value, shown["verification"].alert) == ("Breaks found", True)
    assert "3 breaks" in shown["verification"].detail
    AuditCheckpoint.objects.create(
        number=7,
        created_at=now - timedelta(minutes=20),
        case_count=0,
        event_count=0,
        max_event_id=0,
        legacy_max_event_id=0,
        root="r",
        prev="p",
        key_id="k",
        signature="s",
    )
    shown = figures(cx_admin)
    assert (shown["checkpoint"].value, shown["checkpoint"].alert) == ("#7", False)
    assert "signed 20\xa0minutes ago" in shown["checkpoint"].detail
