"""The state table (cases.policy.TRANSITIONS) is the only gate: record()
refuses every event and status change it does not list, for people and for
the system alike, and the pages, the API and the services take each action's
label and parameters from it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import transaction

from cases import policy
from cases.api.serializers import TransitionSerializer
from cases.choices import CaseKind, CaseStatus, EventKind
from cases.forms import ActionForm
from cases.models import Case, CaseEvent
from cases.services import transitions
from cases.services._record import record
from cvx_site.errors import Conflict, InvalidInput

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
BEFORE = (policy.NO_CASE, *CaseStatus.values)  # NO_CASE: the case's first event


def listed(kind: str, by: str, before, after, case_kind: str = CaseKind.COMPLAINT) -> bool:
    """Whether some transition of the table records `kind` by `by` from
    `before`, leaving a case of `case_kind` in `after`."""
    return any(
        t.kind == kind and t.by == by and case_kind in t.kinds and before in t.sources and after in (before, t.target)
        for t in policy.TRANSITIONS.values()
    )


def _attempt(case_id: int, kind: str, actor, before, after, *, put_in_state: bool = False) -> None:
    """record() on the case as if it were in `before` (its first event when
    NO_CASE), asked to leave it in `after`. `put_in_state`: the row is put
    in `before` first, not only the instance."""
    if put_in_state:
        Case.objects.filter(pk=case_id).update(status=before)
    case = Case.objects.get(pk=case_id)
    if before is policy.NO_CASE:
        case.audit_seq, case.status = 0, after
        changes = {}
    else:
        case.status = before
        changes = {"status": after} if after != before else {}
    record(case, kind=kind, actor=actor, now=NOW, **changes)


@pytest.mark.parametrize("by", [policy.SYSTEM, policy.PERSON])
def test_record_refuses_every_event_and_status_change_the_table_does_not_list(make_case, agent, by):
    case = make_case()
    actor = None if by == policy.SYSTEM else agent
    events, row = CaseEvent.objects.count(), Case.objects.values().get(pk=case.pk)
    let_through, refused = [], 0
    for kind in EventKind.values:
        for before in BEFORE:
            for after in CaseStatus.values:
                if listed(kind, by, before, after):
                    continue
                try:
                    with transaction.atomic():
                        _attempt(case.pk, kind, actor, before, after)
                except Conflict:
                    refused += 1
                else:
                    let_through.append((kind, before, after))
    assert let_through == []
    assert refused > 1000  # every kind, from every state (and none) to every state, less the table's few
    # Refused before anything was written.
    assert CaseEvent.objects.count() == events
    assert Case.objects.values().get(pk=case.pk) == row


def test_every_transition_of_the_table_is_recorded_from_each_of_its_sources(make_case, agent):
    case = make_case()
    done = []
    for name, t in policy.TRANSITIONS.items():
        if CaseKind.COMPLAINT not in t.kinds:
            continue  # an opportunity's: tests/cases/test_opportunities.py
        actor = None if t.by == policy.SYSTEM else agent
        for before in sorted(t.sources - {policy.NO_CASE}):
            with transaction.atomic():
                _attempt(case.pk, t.kind, actor, before, t.target or before, put_in_state=True)
            latest = CaseEvent.objects.filter(case=case).order_by("-seq").first()
            assert (latest.kind, latest.actor_id) == (t.kind, actor and actor.pk), name
            assert Case.objects.get(pk=case.pk).status == (t.target or before), (name, before)
            done.append(name)
    complaints = {name for name, t in policy.TRANSITIONS.items() if CaseKind.COMPLAINT in t.kinds}
    assert set(done) == complaints - {"open"}  # opening: tests/cases/test_routing.py


def test_a_refused_system_change_names_the_case_and_the_states(make_case):
    case = make_case()  # new
    with pytest.raises(Conflict) as exc:
        record(case, kind=EventKind.CLOSED, actor=None, now=NOW, status=CaseStatus.CLOSED)
    assert exc.value.status == 409
    assert case.number in exc.value.message and "New to Closed" in exc.value.message
    assert Case.objects.get(pk=case.pk).status == CaseStatus.NEW


def test_people_and_the_system_are_separate_rows_of_the_table(make_case, agent):
    case = make_case()
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.AWAITING_FOLLOW_UP)
    case.refresh_from_db()
    # Only the system closes a case, when its follow-up is answered or expires.
    with pytest.raises(Conflict):
        record(case, kind=EventKind.CLOSED, actor=agent, now=NOW, status=CaseStatus.CLOSED)
    record(case, kind=EventKind.CLOSED, actor=None, now=NOW, status=CaseStatus.CLOSED)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.CLOSED


# --- people's actions take their labels and parameters from the table ---------------


def test_every_action_has_its_service():
    assert tuple(transitions._SERVICES) == policy.ACTIONS


@pytest.mark.parametrize("action", policy.ACTIONS)
def test_the_action_form_has_the_tables_parameters(make_case, action):
    form = ActionForm(action, case=make_case())
    params = policy.TRANSITIONS[action].params
    assert [(name, f.label, f.required) for name, f in form.fields.items()] == [
        (p.name, p.label, p.required) for p in params
    ]
    assert form.prefix == action


@pytest.mark.parametrize("action", policy.ACTIONS)
def test_the_api_takes_every_parameter_and_says_who_needs_it(action):
    fields = TransitionSerializer().fields
    assert action in fields["action"].choices
    for p in policy.TRANSITIONS[action].params:
        assert (f"{action} (required)" if p.required else action) in fields[p.name].help_text


@pytest.mark.parametrize("action", [a for a in policy.ACTIONS if policy.param(a, "note").required])
def test_a_required_note_is_refused_with_the_tables_reason(make_case, lead, root_cause, action):
    case = make_case()
    extra = {"channel": "phone", "root_cause": root_cause.pk}
    with pytest.raises(InvalidInput) as exc:
        transitions.case_transition(case_id=case.pk, actor=lead, action=action, note="  ", **extra)
    assert (exc.value.field, exc.value.message) == ("note", policy.param(action, "note").missing)
