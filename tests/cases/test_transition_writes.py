"""How a transition reaches the database: one locking query that also finds
the actor's team membership, then (on PostgreSQL) one statement that appends
the event and moves the case. The audit trail must come out the same as the
plain ORM writes make it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from cases import services
from cases.audit import verify_case
from cases.choices import EventKind
from cases.models import Case, CaseEvent
from cases.services import _record
from cases.services._lock import lock_case
from cases.services._record import TRACKED, record

pytestmark = pytest.mark.django_db

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def statements(queries) -> list[str]:
    return [q["sql"] for q in queries if not q["sql"].upper().startswith(TRANSACTION_CONTROL)]


def row_of(case: Case) -> dict:
    return {f.attname: getattr(case, f.attname) for f in Case._meta.concrete_fields}


@pytest.fixture
def lead_only(team, django_user_model):
    """Leads the team without being one of its members."""
    user = django_user_model.objects.create_user("lead_only")
    team.lead = user
    team.save(update_fields=["lead"])
    return user


# --- the locking query -----------------------------------------------------------

@pytest.mark.parametrize("role", ["agent", "other_agent", "lead", "lead_only", "cx_admin", "outsider"])
def test_the_locking_query_finds_membership_as_case_access_does(make_case, request, role):
    from cases.selectors import case_access

    user = request.getfixturevalue(role)
    case = make_case()
    with transaction.atomic():
        locked, member = lock_case(case.pk, user)
    assert member == case_access(user, case)[1]
    assert row_of(locked) == row_of(Case.objects.get(pk=case.pk))
    assert not locked._state.adding and locked._state.db == "default"


def test_the_locking_query_loads_the_team(make_case, agent, django_assert_num_queries):
    team = make_case().team
    with transaction.atomic():
        locked, _ = lock_case(team.cases.get().pk, agent)
    with django_assert_num_queries(0):
        assert (locked.team.pk, locked.team.name, locked.team.lead_id, locked.team.active) == (
            team.pk, team.name, team.lead_id, True)


def test_the_locking_query_finds_no_missing_case(agent):
    with transaction.atomic():
        assert lock_case(10**9, agent) == (None, False)


def test_a_team_lead_who_is_not_a_member_may_act(make_case, lead_only):
    case = services.case_escalate(case_id=make_case().pk, actor=lead_only, note="Taking this over")
    assert case.events.order_by("-seq").first().actor == lead_only


# --- round trips -----------------------------------------------------------------------

def test_a_note_is_one_lock_and_one_write_on_postgresql_and_three_statements_elsewhere(make_case, agent,
                                                                                       django_user_model):
    case = make_case()
    actor = django_user_model.objects.get(pk=agent.pk)  # as a request has it: no permissions cached
    with CaptureQueriesContext(connection) as queries:
        services.case_note(case_id=case.pk, actor=actor, note="Called back")
    sql = statements(queries)
    assert "FOR UPDATE" in sql[0] or connection.vendor != "postgresql"
    # The owner acting in their own team needs no permission lookup.
    assert not any("auth_permission" in s for s in sql)
    if connection.vendor == "postgresql":
        assert len(sql) == 2 and sql[1].startswith("WITH")
    else:
        assert len(sql) == 3


def test_a_note_updates_only_the_head_and_the_time(make_case, agent):
    case = make_case()
    with CaptureQueriesContext(connection) as queries:
        services.case_note(case_id=case.pk, actor=agent, note="Called back")
    update = next(s for s in statements(queries) if 'UPDATE "cases_case"' in s)
    assert update.split(" SET ")[1].split(" WHERE ")[0].split(" FROM ")[0].count("=") == 3  # updated_at, audit_*


# --- the one-statement write stores what the ORM would ---------------------------------

def test_the_written_event_is_the_stored_one(make_case, agent):
    case = make_case()
    with transaction.atomic():
        locked, _ = lock_case(case.pk, agent)
        event = record(locked, kind=EventKind.ESCALATED, actor=agent, now=datetime.now(dt_timezone.utc),
                       note="Escalated", data={"why": "angry", "at": datetime(2025, 1, 2, tzinfo=dt_timezone.utc)},
                       status="escalated", priority="high")
    stored = CaseEvent.objects.get(pk=event.pk)
    fields = [f.attname for f in CaseEvent._meta.concrete_fields]
    assert {f: getattr(stored, f) for f in fields} == {f: getattr(event, f) for f in fields}
    assert not event._state.adding  # so save() refuses to write over it
    with pytest.raises(PermissionError):
        event.save()
    assert row_of(Case.objects.get(pk=case.pk)) == row_of(locked)
    assert verify_case(locked) == []


def _life_of_a_case(case_id, agent, lead, root_cause):
    services.case_acknowledge(case_id=case_id, actor=agent, note="On it")
    services.case_log_contact(case_id=case_id, actor=agent, channel="phone", note="Agreed a refund")
    services.case_note(case_id=case_id, actor=agent, note="Refund sent — 12,50 €")
    services.case_escalate(case_id=case_id, actor=agent)
    services.case_reassign(case_id=case_id, actor=lead, owner=lead.pk, note="Mine now")
    services.case_resolve(case_id=case_id, actor=lead, root_cause=root_cause.pk, note="Line repaired")
    services.case_reopen(case_id=case_id, actor=lead, note="Still dropping")
    services.case_cancel(case_id=case_id, actor=lead, note="Customer left")


@pytest.mark.postgres
def test_one_statement_and_orm_writes_leave_the_same_trail(make_case, agent, lead, root_cause, monkeypatch):
    # Both cases are made and worked at the same (frozen, then stepped) time,
    # so their events differ only in the case they belong to.
    clock = iter(datetime(2025, 3, 1, 9, tzinfo=dt_timezone.utc) + timedelta(seconds=s) for s in range(10**6))
    start = next(clock)
    monkeypatch.setattr("django.utils.timezone.now", lambda: start)
    one_statement, orm = make_case(), make_case()
    trails = {}
    for case, vendors in ((one_statement, _record.ONE_STATEMENT_VENDORS), (orm, frozenset())):
        monkeypatch.setattr(_record, "ONE_STATEMENT_VENDORS", vendors)
        clock = iter(start + timedelta(seconds=s) for s in range(1, 10**6))
        monkeypatch.setattr("django.utils.timezone.now", lambda clock=clock: next(clock))
        with CaptureQueriesContext(connection) as queries:
            _life_of_a_case(case.pk, agent, lead, root_cause)
        assert any(s.startswith("WITH") for s in statements(queries)) == bool(vendors)
        case.refresh_from_db()
        assert verify_case(case) == []
        # From the first action on (routing wrote the first two events), with
        # the one id that differs, the follow-up survey's invitation, left out.
        trails[case.pk] = [(e.seq, e.kind, e.actor_id, e.at, e.changes, e.note,
                            {k: v for k, v in e.data.items() if k != "invitation"})
                           for e in CaseEvent.objects.filter(case=case, seq__gt=2).order_by("seq")]
    assert trails[one_statement.pk] == trails[orm.pk]
    assert len(trails[orm.pk]) == 9  # eight actions and the follow-up survey
    kept = [*TRACKED, "updated_at", "audit_seq"]
    assert {f: getattr(one_statement, f) for f in kept} == {f: getattr(orm, f) for f in kept}
