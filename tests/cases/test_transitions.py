"""Every case change goes through a service that checks state and role and
leaves an audit event."""

from __future__ import annotations

import pytest

from cases import services
from cases.choices import CaseOutcome, CaseStatus, EventKind, Priority
from cases.models import Case
from cvx_site.errors import Conflict, InvalidInput, NotFound, PermissionDenied

pytestmark = pytest.mark.django_db


def last_event(case: Case):
    return case.events.order_by("-seq").first()


def test_acknowledge(make_case, agent):
    case = services.case_acknowledge(case_id=make_case().pk, actor=agent)
    assert case.status == CaseStatus.ACKNOWLEDGED
    event = last_event(case)
    assert (event.kind, event.actor, event.changes["status"]) == (
        EventKind.ACKNOWLEDGED,
        agent,
        ["new", "acknowledged"],
    )


def test_log_contact_stops_the_first_contact_clock(make_case, agent):
    case = make_case()
    due_before = case.due_at
    case = services.case_log_contact(case_id=case.pk, actor=agent, channel="phone", note="Agreed a refund")
    assert case.status == CaseStatus.CONTACTED and case.first_contact_at is not None
    assert case.due_at == case.resolve_due != due_before
    event = last_event(case)
    assert event.kind == EventKind.CONTACTED and event.data == {"channel": "phone"} and event.note == "Agreed a refund"
    assert case.contact_count == 1


def test_a_second_contact_keeps_the_first_contact_time(make_case, agent):
    case = services.case_log_contact(case_id=make_case().pk, actor=agent, channel="phone", note="one")
    first = case.first_contact_at
    case = services.case_log_contact(case_id=case.pk, actor=agent, channel="email", note="two")
    assert case.first_contact_at == first and case.contact_count == 2


def test_note_changes_nothing_but_is_recorded(make_case, agent):
    case = services.case_note(case_id=make_case().pk, actor=agent, note="Customer prefers email")
    event = last_event(case)
    assert (event.kind, event.changes, event.note) == (EventKind.NOTE, {}, "Customer prefers email")
    assert case.status == CaseStatus.NEW


def test_escalate_raises_priority_and_notifies_the_lead(
    make_case, agent, lead, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        case = services.case_escalate(case_id=make_case().pk, actor=agent, note="Needs a manager")
    assert case.status == CaseStatus.ESCALATED and case.priority == Priority.HIGH
    assert last_event(case).kind == EventKind.ESCALATED
    assert [m.to for m in mailoutbox] == [[lead.email]]


def test_resolve_requires_root_cause_and_summary(make_case, agent, root_cause):
    case = make_case()
    with pytest.raises(InvalidInput) as missing_note:
        services.case_resolve(case_id=case.pk, actor=agent, root_cause=root_cause, note=" ")
    with pytest.raises(InvalidInput) as missing_cause:
        services.case_resolve(case_id=case.pk, actor=agent, root_cause="", note="Fixed")
    assert (missing_note.value.field, missing_cause.value.field) == ("note", "root_cause")
    assert case.events.count() == 2  # opened, assigned: nothing more
    services.case_log_contact(case_id=case.pk, actor=agent, channel="phone", note="Called the customer")
    case = services.case_resolve(case_id=case.pk, actor=agent, root_cause=root_cause.pk, note="Fixed the line")
    assert (case.root_cause, case.resolution_summary) == (root_cause, "Fixed the line")
    assert case.resolved_at is not None
    assert case.events.filter(kind=EventKind.RESOLVED, actor=agent).count() == 1


def test_resolve_refuses_an_inactive_root_cause(make_case, agent, root_cause):
    root_cause.active = False
    root_cause.save()
    with pytest.raises(InvalidInput, match="no longer in use"):
        services.case_resolve(case_id=make_case().pk, actor=agent, root_cause=root_cause.pk, note="x")


def test_reopen_after_resolve(make_case, agent, lead, root_cause):
    case = make_case()
    services.case_log_contact(case_id=case.pk, actor=agent, channel="phone", note="Called the customer")
    case = services.case_resolve(case_id=case.pk, actor=agent, root_cause=root_cause, note="Done")
    case = services.case_reopen(case_id=case.pk, actor=lead, note="Customer called again")
    assert (case.status, case.resolved_at, case.outcome) == (CaseStatus.REOPENED, None, None)
    assert last_event(case).kind == EventKind.REOPENED


def test_cancel_requires_a_reason(make_case, lead):
    case = make_case()
    with pytest.raises(InvalidInput) as exc:
        services.case_cancel(case_id=case.pk, actor=lead, note="")
    assert exc.value.field == "note"
    case = services.case_cancel(case_id=case.pk, actor=lead, note="Spam")
    assert (case.status, case.outcome) == (CaseStatus.CANCELLED, CaseOutcome.CANCELLED)
    assert case.closed_at is not None and last_event(case).kind == EventKind.CANCELLED


def test_reassign_by_lead_notifies_the_new_owner(make_case, lead, team, mailoutbox, django_capture_on_commit_callbacks):
    from django.contrib.auth import get_user_model

    colleague = get_user_model().objects.create_user("colleague", email="colleague@example.com")
    team.members.add(colleague)
    with django_capture_on_commit_callbacks(execute=True):
        case = services.case_reassign(case_id=make_case().pk, actor=lead, owner=colleague.pk)
    assert case.owner == colleague
    assert last_event(case).changes["owner"][1] == colleague.pk
    assert [m.to for m in mailoutbox] == [["colleague@example.com"]]


def test_reassign_refuses_someone_outside_the_team(make_case, lead, other_agent):
    with pytest.raises(InvalidInput, match="not an active member"):
        services.case_reassign(case_id=make_case().pk, actor=lead, owner=other_agent)


def test_frontline_takes_an_unassigned_team_case_but_cannot_give_it_away(make_case, agent, team):
    from django.contrib.auth import get_user_model

    colleague = get_user_model().objects.create_user("colleague")
    team.members.add(colleague)
    case = make_case(owner=None)
    with pytest.raises(InvalidInput, match="only take the case yourself"):
        services.case_reassign(case_id=case.pk, actor=agent, owner=colleague)
    assert services.case_reassign(case_id=case.pk, actor=agent, owner=agent).owner == agent
    with pytest.raises(PermissionDenied):
        services.case_reassign(case_id=case.pk, actor=colleague, owner=colleague)


# --- the state machine ---------------------------------------------------------


@pytest.mark.parametrize(
    ("setup", "action", "params"),
    [
        ([], "reopen", {"note": "x"}),
        (["acknowledge"], "acknowledge", {}),
        (["escalate"], "escalate", {}),
        (["resolve"], "acknowledge", {}),
        (["resolve"], "log_contact", {"channel": "phone", "note": "x"}),
        (["resolve"], "resolve", {"note": "again"}),
        (["resolve"], "cancel", {"note": "x"}),
        (["cancel"], "reopen", {"note": "x"}),
        (["cancel"], "escalate", {}),
    ],
)
def test_forbidden_transitions_are_conflicts_and_leave_no_event(make_case, lead, root_cause, setup, action, params):
    case = make_case()
    steps = {
        "acknowledge": {},
        "escalate": {},
        "cancel": {"note": "x"},
        "resolve": {"root_cause": root_cause.pk, "note": "done"},
    }
    for step in setup:
        if step == "resolve":
            services.case_log_contact(case_id=case.pk, actor=lead, channel="phone", note="Called the customer")
        services.case_transition(case_id=case.pk, actor=lead, action=step, **steps[step])
    if action == "resolve":
        params = {**params, "root_cause": root_cause.pk}
    count = case.events.count()
    with pytest.raises(Conflict):
        services.case_transition(case_id=case.pk, actor=lead, action=action, **params)
    assert case.events.count() == count


# --- who may act ------------------------------------------------------------


@pytest.mark.parametrize("actor_name", ["outsider", "other_agent"])
def test_out_of_scope_actors_do_not_see_the_case(make_case, request, actor_name):
    case = make_case()
    with pytest.raises(NotFound):
        services.case_note(case_id=case.pk, actor=request.getfixturevalue(actor_name), note="hello")
    assert case.events.count() == 2


def test_an_integration_sees_every_case_but_acts_on_none(make_case, integration):
    from django.contrib.auth import get_user_model

    case = make_case()
    service_user = get_user_model().objects.get(username="integration")
    with pytest.raises(PermissionDenied):
        services.case_note(case_id=case.pk, actor=service_user, note="hello")
    assert case.events.count() == 2


@pytest.mark.parametrize("action", ["reopen", "cancel"])
def test_frontline_may_not_reopen_or_cancel(make_case, agent, root_cause, action):
    case = make_case()
    if action == "reopen":
        services.case_log_contact(case_id=case.pk, actor=agent, channel="phone", note="Called the customer")
        services.case_resolve(case_id=case.pk, actor=agent, root_cause=root_cause, note="done")
    with pytest.raises(PermissionDenied):
        services.case_transition(case_id=case.pk, actor=agent, action=action, note="x")


def test_a_teammate_cannot_work_someone_elses_case(make_case, team):
    from django.contrib.auth import get_user_model

    colleague = get_user_model().objects.create_user("colleague")
    team.members.add(colleague)
    with pytest.raises(PermissionDenied):
        services.case_acknowledge(case_id=make_case().pk, actor=colleague)


def test_cx_admin_acts_on_any_case(make_case, cx_admin):
    case = services.case_escalate(case_id=make_case().pk, actor=cx_admin)
    assert last_event(case).actor == cx_admin


def test_unknown_action_names_the_field(make_case, lead):
    with pytest.raises(InvalidInput) as exc:
        services.case_transition(case_id=make_case().pk, actor=lead, action="teleport")
    assert exc.value.field == "action"
