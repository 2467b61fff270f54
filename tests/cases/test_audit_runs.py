"""Verification in the background: a django-q2 task works through the cases
in slices, saving its progress as it goes; one runs at a time; the audit
page shows the latest result, when it ran and a run's progress, and lets a
manager start a full one. And the settings the audit trail needs."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from cases import services
from cases.checks import check_audit_key
from cases.models import AuditCheckpoint, Case, CaseEvent, VerificationRun
from cases.numbers import case_number
from cases.services import audit as audit_services
from cases.services.audit import verification_abandon_stale, verification_start
from cvx_site.env import ConfigError, database_owner_from_url, env_audit_key
from cvx_site.errors import Conflict

pytestmark = pytest.mark.django_db
Run = VerificationRun


@pytest.fixture
def run_now(django_capture_on_commit_callbacks):
    """run_now(kind, actor=None) -> the run, started and (tasks run inline) finished."""

    def start(kind=Run.Kind.FULL, actor=None) -> VerificationRun:
        with django_capture_on_commit_callbacks(execute=True):
            run = verification_start(kind=kind, actor=actor)
        run.refresh_from_db()
        return run

    return start


def test_a_full_verification_works_in_slices_saving_its_progress(make_case, agent, run_now, monkeypatch):
    cases = [make_case() for _ in range(5)]
    services.case_note(case_id=cases[0].pk, actor=agent, note="Called back")
    monkeypatch.setattr(audit_services, "BATCH", 2)
    monkeypatch.setattr(audit_services, "_slice_seconds", lambda: 0)  # one batch per task
    saved, steps = [], []
    progress, step = audit_services._progress, audit_services.verification_step
    monkeypatch.setattr(
        audit_services,
        "_progress",
        lambda run, *a, **k: (
            progress(run, *a, **k),
            saved.append(Run.objects.values_list("done", "total").get(pk=run.pk)),
        ),
    )
    monkeypatch.setattr("cases.tasks.verification_step", lambda **k: (steps.append(k), step(**k))[1])
    run = run_now()
    assert saved == [(2, 5), (4, 5), (5, 5)]
    assert len(steps) == 4  # three slices of cases, then the one that finds no more and finishes
    assert (run.status, run.active, run.done, run.total, run.break_count) == (Run.Status.PASSED, None, 5, 5, 0)
    assert run.events_checked == CaseEvent.objects.count() == 11
    assert run.checkpoint == AuditCheckpoint.objects.get() and run.started_at <= run.finished_at


def test_a_verification_that_finds_breaks_records_them_named(make_case, run_now):
    case = make_case()
    Case.objects.filter(pk=case.pk).update(status="closed")  # as the app role could, outside the services
    run = run_now()
    assert (run.status, run.break_count) == (Run.Status.FAILED, 1)
    assert run.breaks == [
        {
            "case_id": case.pk,
            "seq": None,
            "event_id": None,
            "where": "case row",
            "reason": "status is 'closed', but its events leave 'new' (changed outside the audit trail)",
        }
    ]


def test_an_incremental_verification_starts_from_the_last_good_checkpoint(make_case, agent, run_now):
    first = run_now(Run.Kind.INCREMENTAL)
    assert (first.kind, first.message) == (Run.Kind.FULL, "No verified checkpoint yet: verified in full.")
    cases = [make_case() for _ in range(3)]
    second = run_now(Run.Kind.INCREMENTAL)
    services.case_note(case_id=cases[1].pk, actor=agent, note="Called back")
    third = run_now(Run.Kind.INCREMENTAL)
    assert (second.kind, second.baseline, second.done) == (Run.Kind.INCREMENTAL, first.checkpoint, 3)
    assert (third.baseline, third.done, third.status) == (second.checkpoint, 1, Run.Status.PASSED)
    assert [r.checkpoint.number for r in (first, second, third)] == [1, 2, 3]


def test_the_hourly_task_verifies_since_the_last_good_checkpoint_or_only_makes_a_checkpoint(
    make_case, django_capture_on_commit_callbacks
):
    from cases.tasks import audit_checkpoint

    make_case()
    with django_capture_on_commit_callbacks(execute=True):
        assert audit_checkpoint() == f"verification #{Run.objects.get().pk} queued"
    Run.objects.create(kind=Run.Kind.FULL, heartbeat_at=timezone.now())  # a full one is running
    assert audit_checkpoint() == "checkpoint #2 (a verification was running)"


def test_one_verification_runs_at_a_time_and_a_stalled_one_is_abandoned(make_case, lead):
    make_case()
    running = verification_start(kind=Run.Kind.FULL, actor=lead)  # queued: its task waits for commit
    with pytest.raises(Conflict, match=f"already running \\(#{running.pk}, full"):
        verification_start(kind=Run.Kind.INCREMENTAL)
    assert verification_abandon_stale() == 0
    Run.objects.filter(pk=running.pk).update(created_at=timezone.now() - timedelta(hours=2))
    assert verification_abandon_stale() == 1
    running.refresh_from_db()
    assert (running.status, running.active) == (Run.Status.ERROR, None) and "Abandoned" in running.message
    assert verification_start(kind=Run.Kind.FULL).active is True


def test_a_second_task_for_a_run_being_worked_on_returns_at_once(make_case):
    make_case()
    run = Run.objects.create(kind=Run.Kind.FULL, claimed_until=timezone.now() + timedelta(minutes=1))
    assert audit_services.verification_step(run_id=run.pk) == "busy"
    assert Run.objects.get(pk=run.pk).status == Run.Status.QUEUED


# --- the page ------------------------------------------------------------------------


def test_the_audit_page_shows_the_latest_result_and_when_it_ran(client, lead, make_case, run_now):
    make_case()
    client.force_login(lead)
    assert "No verification has run yet." in client.get("/cases/audit/verify/").content.decode()
    run = run_now()
    body = client.get("/cases/audit/verify/").content.decode()
    assert "Intact: 1 case(s) and 2 event(s) verified against checkpoint #1." in body
    assert f"to {timezone.localtime(run.finished_at):%Y-%m-%d %H:%M:%S}, on schedule" in body
    section = re.search(r'<section id="verification"[^>]*>', body).group(0)
    assert "hx-trigger" not in section and "Run a full verification" in body  # a finished run is not polled


def test_a_manager_starts_a_full_verification_from_the_page(
    client, cx_admin, make_case, django_capture_on_commit_callbacks
):
    make_case()
    client.force_login(cx_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/cases/audit/verify/")
    assert response.status_code == 302 and response["Location"] == "/cases/audit/verify/"
    run = Run.objects.get()
    assert (run.kind, run.requested_by, run.status) == (Run.Kind.FULL, cx_admin, Run.Status.PASSED)
    assert "started by cxadmin" in client.get("/cases/audit/verify/").content.decode()


def test_the_page_polls_while_a_verification_runs_and_refuses_a_second(client, lead, make_case):
    make_case()
    client.force_login(lead)
    Run.objects.create(kind=Run.Kind.FULL, status=Run.Status.RUNNING, total=4, done=1, requested_by=lead)
    fragment = client.get("/cases/audit/verify/progress/").content.decode()
    assert 'hx-get="/cases/audit/verify/progress/"' in fragment and 'hx-trigger="every 2s"' in fragment
    assert '<progress max="100" value="25"' in fragment and "1 of 4 case(s)" in fragment
    assert '<button type="submit" disabled>' in fragment
    response = client.post("/cases/audit/verify/", follow=True)
    assert "A verification of the audit trail is already running" in response.content.decode()
    assert Run.objects.count() == 1


@pytest.mark.parametrize("role", ["agent", "outsider"])
def test_only_managers_see_or_start_verification(client, request, role, make_case):
    make_case()
    client.force_login(request.getfixturevalue(role))
    assert client.get("/cases/audit/verify/").status_code == 403
    assert client.get("/cases/audit/verify/progress/").status_code == 403
    assert client.post("/cases/audit/verify/").status_code == 403
    assert not Run.objects.exists()


def test_breaks_in_cases_of_other_teams_are_counted_not_shown(client, lead, make_case, other_team):
    mine = make_case()
    Run.objects.create(
        kind=Run.Kind.FULL,
        status=Run.Status.FAILED,
        active=None,
        finished_at=timezone.now(),
        break_count=3,
        breaks=[
            {"case_id": mine.pk, "seq": 2, "event_id": 7, "reason": "edited", "where": ""},
            {"case_id": mine.pk + 1000, "seq": 1, "event_id": 9, "reason": "edited", "where": ""},
            {"case_id": None, "seq": None, "event_id": None, "reason": "altered", "where": "checkpoint #1"},
        ],
    )
    client.force_login(lead)
    body = client.get("/cases/audit/verify/").content.decode()
    assert f"case {mine.number}: event #2 (id 7): edited" in body and "checkpoint #1: altered" in body
    assert case_number(mine.pk + 1000) not in body
    assert "1 break(s) in cases of teams you do not see." in body


# --- settings ------------------------------------------------------------------------------


def test_a_missing_audit_key_is_a_system_check_error_when_debug_is_off(settings):
    settings.DEBUG, settings.CVX_AUDIT_KEY_SET = False, False
    [error] = check_audit_key(None)
    assert error.id == "cases.E001" and "CVX_AUDIT_KEY is not set" in error.msg
    settings.CVX_AUDIT_KEY_SET = True
    assert check_audit_key(None) == []
    settings.DEBUG, settings.CVX_AUDIT_KEY_SET = True, False
    assert check_audit_key(None) == []


def test_the_audit_key_comes_from_the_environment_or_a_fallback_from_the_secret_key(monkeypatch):
    monkeypatch.setenv("CVX_AUDIT_KEY", "k" * 40)
    assert env_audit_key("CVX_AUDIT_KEY", fallback_from="secret") == ("k" * 40, True)
    monkeypatch.setenv("CVX_AUDIT_KEY", "short")
    with pytest.raises(ConfigError, match="CVX_AUDIT_KEY: must be at least 32 characters"):
        env_audit_key("CVX_AUDIT_KEY", fallback_from="secret")
    monkeypatch.delenv("CVX_AUDIT_KEY")
    one, set_ = env_audit_key("CVX_AUDIT_KEY", fallback_from="secret")
    assert not set_ and one != env_audit_key("CVX_AUDIT_KEY", fallback_from="another secret")[0]


@pytest.mark.parametrize(
    ("url", "app", "reason"),
    [
        ("postgres://cvx_app@db/cvx", "postgres://cvx_app@db/cvx", "must name another role than DATABASE_URL"),
        ("postgres://owner@db/cvx", "sqlite:///tmp/x.sqlite3", "is for PostgreSQL only"),
        ("mysql://owner@db/cvx", "postgres://cvx_app@db/cvx", "expected a sqlite:/// or postgres:// URL"),
    ],
)
def test_a_database_owner_url_that_cannot_work_stops_startup_naming_it(url, app, reason):
    from cvx_site.env import database_from_url

    with pytest.raises(ConfigError, match=f"DATABASE_OWNER_URL: .*{reason}"):
        database_owner_from_url("DATABASE_OWNER_URL", url, app=database_from_url("DATABASE_URL", app, conn_max_age=0))
    assert database_owner_from_url("DATABASE_OWNER_URL", "", app={}) is None
