"""The audit trail: every change appends one hash-chained event, tampering is
found by `verify_audit`, and neither Django nor PostgreSQL lets an event be
changed or removed."""

from __future__ import annotations

import io

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection, transaction

from cases import services
from cases.audit import GENESIS, event_hash
from cases.choices import EventKind
from cases.models import CaseEvent

pytestmark = pytest.mark.django_db


def verify_audit(*args: str) -> tuple[int, str, str]:
    """Run the command; (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit", *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return exit_.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def events_of(case) -> list[CaseEvent]:
    return list(CaseEvent.objects.filter(case=case).order_by("seq"))


# Raw SQL as an attacker with the table owner's rights would run it (the
# `tamper` fixture): committed, so these tests are transactional.
TAMPERING = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("pg_audit_cleanup"),
]


def tampering_marks(test):
    for mark in TAMPERING:
        test = mark(test)
    return test


@pytest.fixture
def noted_case(make_case, agent):
    """A case with four events: opened, assigned, two notes."""
    case = make_case()
    services.case_note(case_id=case.pk, actor=agent, note="Called, no answer")
    services.case_note(case_id=case.pk, actor=agent, note="Left a voicemail")
    assert [e.seq for e in events_of(case)] == [1, 2, 3, 4]
    return case


# --- every change appends one chained event -------------------------------------


def test_routing_starts_the_chain_with_system_events(make_case):
    opened, assigned = events_of(make_case())
    assert (opened.seq, opened.kind, opened.actor, opened.prev_hash) == (1, EventKind.OPENED, None, GENESIS)
    assert (assigned.seq, assigned.kind, assigned.actor, assigned.prev_hash) == (
        2,
        EventKind.ASSIGNED,
        None,
        opened.hash,
    )


@pytest.mark.parametrize(
    ("action", "actor_name", "kind"),
    [
        ("acknowledge", "agent", EventKind.ACKNOWLEDGED),
        ("log_contact", "agent", EventKind.CONTACTED),
        ("note", "agent", EventKind.NOTE),
        ("reassign", "lead", EventKind.ASSIGNED),
        ("escalate", "agent", EventKind.ESCALATED),
        ("resolve", "agent", EventKind.RESOLVED),
        ("reopen", "lead", EventKind.REOPENED),
        ("cancel", "lead", EventKind.CANCELLED),
    ],
)
def test_each_transition_appends_one_event_chained_to_the_last(
    make_case, request, agent, root_cause, action, actor_name, kind
):
    case = make_case()
    if action in ("resolve", "reopen"):
        services.case_log_contact(case_id=case.pk, actor=agent, channel="phone", note="Called the customer")
    if action == "reopen":
        services.case_resolve(case_id=case.pk, actor=agent, root_cause=root_cause, note="Line repaired")
    actor = request.getfixturevalue(actor_name)
    before = events_of(case)
    # Each service takes only the parameters it needs from these.
    services.case_transition(
        case_id=case.pk,
        actor=actor,
        action=action,
        note="Reason given",
        channel="phone",
        owner=actor.pk,
        root_cause=root_cause.pk,
    )
    after = events_of(case)
    assert [e.pk for e in after[: len(before)]] == [e.pk for e in before]
    added = after[len(before) :]
    # Resolving also sends the follow-up survey, a system event of its own.
    expected = [kind, EventKind.FOLLOW_UP_SENT] if action == "resolve" else [kind]
    assert [e.kind for e in added] == expected
    new, last = added[0], before[-1]
    assert (new.kind, new.actor, new.seq, new.prev_hash) == (kind, actor, last.seq + 1, last.hash)
    assert all(e.hash == event_hash(e) for e in added)
    case.refresh_from_db()
    assert (case.audit_seq, case.audit_head) == (added[-1].seq, added[-1].hash)


def test_attached_feedback_and_sla_breaches_are_system_events_in_the_chain(make_case):
    from datetime import timedelta

    case = make_case(customer={"email": "repeat@example.com"})
    make_case(customer={"email": "repeat@example.com"}, nps=0)  # attaches to `case`
    services.sla_sweep(now=case.first_contact_due + timedelta(minutes=1))
    events = events_of(case)
    assert [(e.seq, e.kind, e.actor) for e in events[2:]] == [
        (3, EventKind.FEEDBACK_ATTACHED, None),
        (4, EventKind.SLA_BREACHED, None),
    ]
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]


def test_verify_audit_reports_an_untouched_trail_intact(noted_case, agent, lead, root_cause):
    services.case_log_contact(case_id=noted_case.pk, actor=agent, channel="phone", note="Called the customer")
    services.case_resolve(case_id=noted_case.pk, actor=agent, root_cause=root_cause, note="Line repaired")
    services.case_reopen(case_id=noted_case.pk, actor=lead, note="Dropped again")
    code, out, err = verify_audit()
    assert (code, err) == (0, "")
    assert "intact" in out and "1 case(s)" in out


# --- tampering is found --------------------------------------------------------


@tampering_marks
def test_an_edited_event_is_found_and_named(noted_case, tamper):
    with tamper() as cursor:
        cursor.execute(
            "UPDATE cases_caseevent SET note = %s WHERE case_id = %s AND seq = 3", ["Customer was rude", noted_case.pk]
        )
    code, _, err = verify_audit()
    assert code == 1
    assert noted_case.number in err and "event #3" in err and "edited" in err


@tampering_marks
def test_a_deleted_middle_event_is_found_where_the_chain_breaks(noted_case, tamper):
    with tamper() as cursor:
        # The assignment's email notification goes first (it refers to the event).
        cursor.execute(
            "DELETE FROM cases_notification WHERE event_id IN "
            "(SELECT id FROM cases_caseevent WHERE case_id = %s AND seq = 2)",
            [noted_case.pk],
        )
        cursor.execute("DELETE FROM cases_caseevent WHERE case_id = %s AND seq = 2", [noted_case.pk])
    code, _, err = verify_audit()
    assert code == 1
    assert noted_case.number in err and "event #3" in err and "deleted or reordered" in err


@tampering_marks
def test_a_deleted_last_event_is_found_from_the_head_the_case_keeps(noted_case, tamper):
    with tamper() as cursor:
        cursor.execute("DELETE FROM cases_caseevent WHERE case_id = %s AND seq = 4", [noted_case.pk])
    code, _, err = verify_audit()
    assert code == 1
    assert noted_case.number in err and "end of chain" in err and "records 4 events" in err


@tampering_marks
def test_swapped_events_are_found(noted_case, tamper):
    with tamper() as cursor:
        for old, new in [(3, 1000), (4, 3), (1000, 4)]:
            cursor.execute(
                "UPDATE cases_caseevent SET seq = %s WHERE case_id = %s AND seq = %s", [new, noted_case.pk, old]
            )
    code, _, err = verify_audit()
    assert code == 1
    assert noted_case.number in err and "event #3" in err


@tampering_marks
def test_a_clean_case_beside_a_broken_one_is_not_reported(noted_case, make_case, tamper):
    clean = make_case()
    with tamper() as cursor:
        cursor.execute("UPDATE cases_caseevent SET note = 'x' WHERE case_id = %s AND seq = 3", [noted_case.pk])
    code, _, err = verify_audit()
    assert code == 1 and noted_case.number in err
    assert clean.number not in err
    assert verify_audit("--case", str(clean.pk))[0] == 0


# --- Django refuses to change or remove events ----------------------------------


def test_an_event_cannot_be_saved_over(make_case):
    event = events_of(make_case())[0]
    event.note = "rewritten"
    with pytest.raises(PermissionError):
        event.save()
    assert CaseEvent.objects.get(pk=event.pk).note == ""


def test_an_event_cannot_be_deleted(make_case):
    event = events_of(make_case())[0]
    with pytest.raises(PermissionError):
        event.delete()
    assert CaseEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.parametrize(
    "write",
    [
        lambda case: CaseEvent.objects.filter(case=case).update(note="rewritten"),
        lambda case: CaseEvent.objects.filter(case=case).delete(),
        lambda case: case.events.all().update(note="rewritten"),
        lambda case: case.events.all().delete(),
        lambda case: CaseEvent.objects.bulk_update(
            [CaseEvent(pk=e.pk, note="rewritten") for e in case.events.all()], ["note"]
        ),
    ],
    ids=["update", "delete", "related-update", "related-delete", "bulk_update"],
)
def test_querysets_refuse_to_update_or_delete_events(make_case, write):
    case = make_case()
    with pytest.raises(PermissionError), transaction.atomic():  # bulk_update marks the transaction broken
        write(case)
    assert list(CaseEvent.objects.filter(case=case).values_list("seq", "note")) == [(1, ""), (2, "")]


# --- PostgreSQL refuses too ---------------------------------------------------------
# The app role may not write these at all (tests/cases/test_audit_integrity.py);
# here the table's owner, who may, is stopped by the trigger.


@pytest.mark.postgres
@tampering_marks
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE cases_caseevent SET note = 'rewritten' WHERE case_id = %s",
        "DELETE FROM cases_caseevent WHERE case_id = %s",
        # CASCADE: a plain TRUNCATE stops at the notifications' foreign key
        # before the trigger runs; with it, only the trigger stands in the way.
        "TRUNCATE cases_caseevent CASCADE",
    ],
    ids=["update", "delete", "truncate"],
)
def test_postgresql_refuses_raw_writes_to_events_even_by_the_owner(make_case, tamper, sql):
    case = make_case()
    with pytest.raises(psycopg.errors.RestrictViolation, match="append-only"):
        with tamper(triggers_off=False) as cursor:
            cursor.execute(sql, [case.pk] if "%s" in sql else None)
    assert list(CaseEvent.objects.filter(case=case).values_list("seq", "note")) == [(1, ""), (2, "")]
    assert verify_audit()[0] == 0


@pytest.mark.postgres
def test_a_cases_events_are_read_through_the_unique_case_seq_index(make_case):
    """The event table has no separate case_id index (one fewer write per
    event): a case's trail is read through (case, seq)."""
    case = make_case()
    trail = CaseEvent.objects.filter(case=case).order_by("seq")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a test table is small enough to scan
    plan = trail.explain()
    assert "case_event_seq_unique" in plan, plan
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'cases_caseevent'")
        definitions = [row[0] for row in cursor.fetchall()]
    assert not [d for d in definitions if d.endswith("(case_id)")], definitions
