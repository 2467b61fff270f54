"""cases.persistence, the fast paths of a transition, against their plain
ORM paths: the locking query (compiled once, its ids filled in on each call)
gives what the ORM query gives, for every kind of caller; the one-statement
write (PostgreSQL) leaves the audit trail the two ORM saves leave."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from cases import persistence, services
from cases.audit import verify_case
from cases.choices import EventKind
from cases.models import Case, CaseEvent
from cases.persistence import lock_case, lock_case_orm
from cases.selectors import cases_visible_to
from cases.services._record import TRACKED, record
from journeys.models import Team

pytestmark = pytest.mark.django_db

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def statements(queries) -> list[str]:
    return [q["sql"] for q in queries if not q["sql"].upper().startswith(TRANSACTION_CONTROL)]


def row_of(case: Case) -> dict:
    return {f.attname: getattr(case, f.attname) for f in Case._meta.concrete_fields}


def row_of_team(team: Team) -> dict:
    return {f.attname: getattr(team, f.attname) for f in Team._meta.concrete_fields}


# --- the locking query -----------------------------------------------------------


def test_the_locking_query_gives_what_the_orm_query_gives(make_case, team, other_team, caller):
    name, user = caller
    ours = make_case()
    theirs = make_case()
    Case.objects.filter(pk=theirs.pk).update(team=other_team)
    for case_id in (ours.pk, theirs.pk, 10**9):
        with transaction.atomic():
            fast, fast_member = lock_case(case_id, user)
            orm, orm_member = lock_case_orm(case_id, user)
        assert fast_member == orm_member, (name, case_id)
        assert (fast is None) == (orm is None), (name, case_id)
        if fast is not None:
            assert row_of(fast) == row_of(orm)
            assert row_of_team(fast.team) == row_of_team(orm.team)
            assert fast.actor_in_team == orm.actor_in_team
            assert not fast._state.adding and fast._state.db == "default"
            assert not fast.team._state.adding


def test_the_locking_query_is_compiled_once_per_scope(make_case, agent, other_agent, cx_admin, monkeypatch):
    case = make_case()
    monkeypatch.setattr(persistence, "_LOCK_PLANS", {})
    with transaction.atomic():
        lock_case(case.pk, agent)
        lock_case(case.pk, other_agent)  # the same scope: the same plan, the other actor's id
        lock_case(case.pk, cx_admin)
    assert sorted(scope for _, scope in persistence._LOCK_PLANS) == ["all", "teams"]
    with transaction.atomic():
        assert lock_case(case.pk, other_agent) == (None, False)
        assert lock_case(case.pk, agent)[0].pk == case.pk


def test_the_locking_query_loads_the_team(make_case, agent, django_assert_num_queries):
    team = make_case().team
    with transaction.atomic():
        locked, _ = lock_case(team.cases.get().pk, agent)
    with django_assert_num_queries(0):
        assert (locked.team.pk, locked.team.name, locked.team.lead_id, locked.team.active) == (
            team.pk,
            team.name,
            team.lead_id,
            True,
        )


def test_a_team_lead_who_is_not_a_member_may_act(make_case, lead_only):
    case = services.case_escalate(case_id=make_case().pk, actor=lead_only, note="Taking this over")
    assert case.events.order_by("-seq").first().actor == lead_only


# --- round trips -----------------------------------------------------------------------


def test_a_note_is_one_lock_and_one_write_on_postgresql_and_three_statements_elsewhere(
    make_case, agent, django_user_model
):
    case = make_case()
    actor = django_user_model.objects.get(pk=agent.pk)
    # As a request has it: the view's own visibility check has read the
    # user's permissions, which the user object keeps.
    cases_visible_to(actor).filter(pk=case.pk).exists()
    with CaptureQueriesContext(connection) as queries:
        services.case_note(case_id=case.pk, actor=actor, note="Called back")
    sql = statements(queries)
    assert "FOR UPDATE" in sql[0] or connection.vendor != "postgresql"
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
        event = record(
            locked,
            kind=EventKind.ESCALATED,
            actor=agent,
            now=datetime.now(UTC),
            note="Escalated",
            data={"why": "angry", "at": datetime(2025, 1, 2, tzinfo=UTC)},
            status="escalated",
            priority="high",
        )
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
    clock = iter(datetime(2025, 3, 1, 9, tzinfo=UTC) + timedelta(seconds=s) for s in range(10**6))
    start = next(clock)
    monkeypatch.setattr("django.utils.timezone.now", lambda: start)
    one_statement, orm = make_case(), make_case()
    trails = {}
    for case, vendors in ((one_statement, persistence.ONE_STATEMENT_VENDORS), (orm, frozenset())):
        monkeypatch.setattr(persistence, "ONE_STATEMENT_VENDORS", vendors)
        clock = iter(start + timedelta(seconds=s) for s in range(1, 10**6))
        monkeypatch.setattr("django.utils.timezone.now", lambda clock=clock: next(clock))
        with CaptureQueriesContext(connection) as queries:
            _life_of_a_case(case.pk, agent, lead, root_cause)
        assert any(s.startswith("WITH") for s in statements(queries)) == bool(vendors)
        case.refresh_from_db()
        assert verify_case(case) == []
        # From the first action on (routing wrote the first two events), with
        # the one id that differs, the follow-up survey's invitation, left out.
        trails[case.pk] = [
            (e.seq, e.kind, e.actor_id, e.at, e.changes, e.note, {k: v for k, v in e.data.items() if k != "invitation"})
            for e in CaseEvent.objects.filter(case=case, seq__gt=2).order_by("seq")
        ]
    assert trails[one_statement.pk] == trails[orm.pk]
    assert len(trails[orm.pk]) == 9  # eight actions and the follow-up survey
    kept = [*TRACKED, "updated_at", "audit_seq"]
    assert {f: getattr(one_statement, f) for f in kept} == {f: getattr(orm, f) for f in kept}
