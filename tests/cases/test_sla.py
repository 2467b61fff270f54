"""The SLA sweep marks each breach once, escalates to the lead and records it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cases import services
from cases.choices import CaseStatus, EventKind, Priority
from cases.models import Notification

pytestmark = pytest.mark.django_db


def test_first_contact_breach_is_marked_once_escalated_and_recorded(
    make_case, lead, mailoutbox, django_capture_on_commit_callbacks
):
    case = make_case()
    later = case.first_contact_due + timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sla_sweep(now=later) == 1
    case.refresh_from_db()
    assert case.first_contact_breached_at == later
    assert (case.status, case.priority) == (CaseStatus.ESCALATED, Priority.HIGH)
    breach = case.events.get(kind=EventKind.SLA_BREACHED)
    assert breach.data["sla"] == "first_contact" and breach.actor is None
    assert [m.to for m in mailoutbox] == [[case.owner.email], [lead.email]]  # the owner and the lead
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sla_sweep(now=later + timedelta(hours=1)) == 0
    assert case.events.filter(kind=EventKind.SLA_BREACHED).count() == 1
    assert len(mailoutbox) == 2


def test_nothing_is_marked_before_the_due_time(make_case):
    case = make_case()
    assert services.sla_sweep(now=case.first_contact_due - timedelta(seconds=1)) == 0


def test_contacted_cases_breach_on_resolution_only(make_case, agent):
    case = make_case()
    services.case_log_contact(case_id=case.pk, actor=agent, channel="phone", note="Called")
    assert services.sla_sweep(now=case.resolve_due - timedelta(minutes=1)) == 0
    assert services.sla_sweep(now=case.resolve_due + timedelta(minutes=1)) == 1
    case.refresh_from_db()
    assert case.resolution_breached_at is not None and case.first_contact_breached_at is None


def test_resolved_and_cancelled_cases_never_breach(make_case, agent, lead, root_cause):
    resolved, cancelled = make_case(), make_case()
    services.case_log_contact(case_id=resolved.pk, actor=agent, channel="phone", note="Called the customer")
    services.case_resolve(case_id=resolved.pk, actor=agent, root_cause=root_cause, note="Done")
    services.case_cancel(case_id=cancelled.pk, actor=lead, note="Spam")
    assert services.sla_sweep(now=timezone.now() + timedelta(days=30)) == 0


def test_an_already_escalated_case_keeps_its_status_and_records_the_breach(make_case, agent):
    case = services.case_escalate(case_id=make_case().pk, actor=agent)
    assert services.sla_sweep(now=case.first_contact_due + timedelta(minutes=1)) == 1
    case.refresh_from_db()
    assert case.status == CaseStatus.ESCALATED
    assert "status" not in case.events.get(kind=EventKind.SLA_BREACHED).changes


def test_a_retried_notification_task_sends_nothing_twice(make_case, lead, mailoutbox):
    from cases.tasks import notify_event

    case = make_case()
    services.sla_sweep(now=case.first_contact_due + timedelta(minutes=1))
    event = case.events.get(kind=EventKind.SLA_BREACHED)
    assert notify_event(event.pk) == 2  # the owner and the lead
    assert notify_event(event.pk) == 0
    assert len(mailoutbox) == 2 and all(n.sent_at is not None for n in Notification.objects.all())


def test_the_sla_schedule_is_installed_by_migration():
    from django_q.models import Schedule

    schedule = Schedule.objects.get(name="cvx: SLA sweep")
    assert schedule.func == "cases.tasks.sla_sweep" and schedule.repeats == -1
