"""Opportunity cases (issue 19, the promoter loop): their own states in the
one state table (open -> contacted -> won / lost / no answer), enforced by
record() and the services for both kinds of case, and the amount won."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from cases import policy
from cases.choices import CaseKind, CaseStatus, EventKind, OpportunityKind
from cases.models import Case, CaseEvent
from cases.services import transitions
from cases.services._record import record
from cvx_site.errors import Conflict, InvalidInput
from tests.cases.test_state_table import listed

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
OPPORTUNITY_ACTIONS = ("win", "lose", "no_answer")
COMPLAINT_ONLY = ("acknowledge", "escalate", "resolve", "reopen", "cancel")


@pytest.fixture
def make_opportunity(make_case):
    """An open opportunity (status new) owned by `agent`."""

    def make(**item) -> Case:
        case = make_case(**item)
        Case.objects.filter(pk=case.pk).update(kind=CaseKind.OPPORTUNITY, opportunity_kind=OpportunityKind.REFERRAL)
        case.refresh_from_db()
        return case

    return make


def _contacted(case: Case, actor) -> Case:
    return transitions.case_log_contact(case_id=case.pk, actor=actor, channel="phone", note="Asked for a referral")


# --- the state table -------------------------------------------------------------------


def test_the_table_gives_each_kind_its_own_actions(make_case, make_opportunity, agent):
    complaint, opportunity = make_case(), make_opportunity()
    assert policy.allowed_actions(agent, opportunity, member=True) == ["log_contact", "note", "no_answer"]
    assert set(policy.allowed_actions(agent, complaint, member=True)).isdisjoint(OPPORTUNITY_ACTIONS)
    _contacted(opportunity, agent)
    opportunity.refresh_from_db()
    assert policy.allowed_actions(agent, opportunity, member=True) == [
        "log_contact",
        "note",
        "win",
        "lose",
        "no_answer",
    ]


@pytest.mark.parametrize("by", [policy.SYSTEM, policy.PERSON])
def test_record_refuses_on_an_opportunity_everything_the_table_does_not_list_for_one(make_opportunity, agent, by):
    case = make_opportunity()
    actor = None if by == policy.SYSTEM else agent
    events, row = CaseEvent.objects.count(), Case.objects.values().get(pk=case.pk)
    let_through = []
    for kind in EventKind.values:
        for before in CaseStatus.values:
            for after in CaseStatus.values:
                if listed(kind, by, before, after, CaseKind.OPPORTUNITY):
                    continue
                case.status = before
                try:
                    with transaction.atomic():
                        record(case, kind=kind, actor=actor, now=NOW, **({"status": after} if after != before else {}))
                except Conflict:
                    pass
                else:
                    let_through.append((kind, before, after))
    assert let_through == []
    assert CaseEvent.objects.count() == events
    assert Case.objects.values().get(pk=case.pk) == row
    # The complaint loop's events are among those refused.
    assert not listed(
        EventKind.RESOLVED, policy.PERSON, CaseStatus.CONTACTED, CaseStatus.RESOLVED, CaseKind.OPPORTUNITY
    )
    assert not listed(EventKind.SLA_BREACHED, policy.SYSTEM, CaseStatus.NEW, CaseStatus.ESCALATED, "opportunity")


def test_record_refuses_an_opportunitys_end_on_a_complaint(make_case):
    case = make_case()
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.CONTACTED)
    case.refresh_from_db()
    with pytest.raises(Conflict) as exc:
        record(case, kind=EventKind.WON, actor=None, now=NOW, status=CaseStatus.WON)
    assert "a complaint" in exc.value.message
    assert Case.objects.get(pk=case.pk).status == CaseStatus.CONTACTED


def test_an_opportunity_is_contacted_then_won_with_an_amount(make_opportunity, agent):
    case = make_opportunity()
    _contacted(case, agent)
    case = transitions.case_transition(
        case_id=case.pk, actor=agent, action="win", amount="1250.5", note="Referred her brother"
    )
    case.refresh_from_db()
    assert (case.status, case.amount, case.closed_at is not None) == (CaseStatus.WON, Decimal("1250.50"), True)
    event = case.events.order_by("-seq").first()
    assert (event.kind, event.actor, event.data, event.note) == (
        EventKind.WON,
        agent,
        {"amount": "1250.50"},
        "Referred her brother",
    )
    assert event.changes["status"] == [CaseStatus.CONTACTED, CaseStatus.WON]
    assert not case.is_open


def test_won_without_an_amount(make_opportunity, agent):
    case = make_opportunity()
    _contacted(case, agent)
    transitions.case_win(case_id=case.pk, actor=agent)
    case.refresh_from_db()
    assert (case.status, case.amount) == (CaseStatus.WON, None)
    assert case.events.order_by("-seq").first().data == {}


@pytest.mark.parametrize(
    ("action", "status", "kind"), [("lose", "lost", "case.lost"), ("no_answer", "no_answer", "case.no_answer")]
)
def test_a_contacted_opportunity_is_lost_or_not_answered(make_opportunity, agent, action, status, kind):
    case = make_opportunity()
    _contacted(case, agent)
    transitions.case_transition(case_id=case.pk, actor=agent, action=action, note="Not now")
    case.refresh_from_db()
    assert case.status == status
    latest = case.events.order_by("-seq").first()
    assert (latest.kind, latest.changes["status"]) == (kind, [CaseStatus.CONTACTED, status])


def test_an_open_opportunity_can_end_unanswered_but_not_won_or_lost(make_opportunity, agent):
    case = make_opportunity()
    for action in ("win", "lose"):
        with pytest.raises(Conflict):
            transitions.case_transition(case_id=case.pk, actor=agent, action=action)
    transitions.case_no_answer(case_id=case.pk, actor=agent)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.NO_ANSWER


@pytest.mark.parametrize("action", COMPLAINT_ONLY)
def test_the_complaint_loops_actions_are_refused_on_an_opportunity(make_opportunity, lead, root_cause, action):
    case = make_opportunity()
    _contacted(case, lead)
    count = case.events.count()
    with pytest.raises(Conflict) as exc:
        transitions.case_transition(
            case_id=case.pk, actor=lead, action=action, note="x", root_cause=root_cause.pk, unreachable=True
        )
    assert "an opportunity cannot be" in exc.value.message
    assert case.events.count() == count


@pytest.mark.parametrize("action", OPPORTUNITY_ACTIONS)
def test_an_opportunitys_actions_are_refused_on_a_complaint(make_case, lead, action):
    case = make_case()
    _contacted(case, lead)
    count = case.events.count()
    with pytest.raises(Conflict) as exc:
        transitions.case_transition(case_id=case.pk, actor=lead, action=action)
    assert "a complaint cannot be" in exc.value.message
    assert Case.objects.get(pk=case.pk).status == CaseStatus.CONTACTED
    assert case.events.count() == count


@pytest.mark.parametrize("action", OPPORTUNITY_ACTIONS)
def test_an_ended_opportunity_takes_no_further_end(make_opportunity, agent, action):
    case = make_opportunity()
    _contacted(case, agent)
    transitions.case_lose(case_id=case.pk, actor=agent)
    with pytest.raises(Conflict):
        transitions.case_transition(case_id=case.pk, actor=agent, action=action)
    with pytest.raises(Conflict):
        _contacted(case, agent)


def test_only_the_owner_or_the_lead_ends_an_opportunity(make_opportunity, agent, lead, other_agent, team):
    from cvx_site.errors import PermissionDenied

    team.members.add(other_agent)
    case = make_opportunity()
    _contacted(case, agent)
    with pytest.raises(PermissionDenied):
        transitions.case_win(case_id=case.pk, actor=other_agent, amount="10")
    transitions.case_win(case_id=case.pk, actor=lead, amount="10")
    assert Case.objects.get(pk=case.pk).status == CaseStatus.WON


# --- the amount ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("-1", "cannot be negative"),
        (-0.01, "cannot be negative"),
        ("lots", "as a number"),
        ("NaN", "as a number"),
        ("Infinity", "as a number"),
        (True, "as a number"),
        ("1.005", "2 decimal places"),
        ("1E-7", "2 decimal places"),
        ("10000000000", "10 digits"),
        ("1E+100", "10 digits"),
    ],
)
def test_a_bad_amount_is_refused_naming_the_field(make_opportunity, agent, value, reason):
    case = make_opportunity()
    _contacted(case, agent)
    with pytest.raises(InvalidInput) as exc:
        transitions.case_win(case_id=case.pk, actor=agent, amount=value)
    assert exc.value.field == "amount" and reason in exc.value.message
    assert Case.objects.get(pk=case.pk).status == CaseStatus.CONTACTED


@pytest.mark.parametrize(("value", "stored"), [("0", "0.00"), (" 12.3 ", "12.30"), (9999999999.99, "9999999999.99")])
def test_a_good_amount_is_stored_to_the_cent(make_opportunity, agent, value, stored):
    case = make_opportunity()
    _contacted(case, agent)
    transitions.case_win(case_id=case.pk, actor=agent, amount=value)
    assert Case.objects.get(pk=case.pk).amount == Decimal(stored)


@pytest.mark.parametrize("value", ["-5", "abc", "1.234", "123456789012"])
def test_the_api_answers_400_naming_amount(make_opportunity, agent, api, value):
    case = make_opportunity()
    _contacted(case, agent)
    reply = api(agent).post(f"/api/v1/cases/{case.pk}/transitions/", {"action": "win", "amount": value}, format="json")
    assert reply.status_code == 400, reply.content
    assert list(reply.json()) == ["amount"]
    assert Case.objects.get(pk=case.pk).status == CaseStatus.CONTACTED


def test_the_api_wins_an_opportunity_through_the_table(make_opportunity, agent, api, outsider):
    case = make_opportunity()
    _contacted(case, agent)
    url = f"/api/v1/cases/{case.pk}/transitions/"
    assert api(outsider).post(url, {"action": "win", "amount": "99"}, format="json").status_code == 404
    reply = api(agent).post(url, {"action": "win", "amount": 99.5}, format="json")
    assert reply.status_code == 200, reply.content
    assert reply.json()["status"] == "won" and reply.json()["actions"] == ["note"]
    assert Case.objects.get(pk=case.pk).amount == Decimal("99.50")


def test_the_api_refuses_resolving_an_opportunity_with_409(make_opportunity, agent, api, root_cause):
    case = make_opportunity()
    _contacted(case, agent)
    reply = api(agent).post(
        f"/api/v1/cases/{case.pk}/transitions/",
        {"action": "resolve", "root_cause": root_cause.pk, "note": "done"},
        format="json",
    )
    assert reply.status_code == 409


def test_the_case_page_offers_and_runs_the_opportunitys_actions(make_opportunity, agent, client):
    case = make_opportunity()
    _contacted(case, agent)
    client.force_login(agent)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'name="win-amount"' in page and "resolve-root_cause" not in page
    bad = client.post(f"/cases/{case.pk}/act/win/", {"win-amount": "-3"})
    assert bad.status_code == 400 and "cannot be negative" in bad.content.decode()
    done = client.post(f"/cases/{case.pk}/act/win/", {"win-amount": "40", "win-note": ""})
    assert done.status_code == 302
    assert Case.objects.get(pk=case.pk).amount == Decimal("40.00")


# --- the database's own checks -----------------------------------------------------------


def test_the_database_refuses_an_amount_or_opportunity_kind_on_a_complaint(make_case):
    case = make_case()
    for bad in ({"amount": Decimal("5")}, {"opportunity_kind": OpportunityKind.UPSELL}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Case.objects.filter(pk=case.pk).update(**bad)


def test_the_database_refuses_a_negative_amount_and_an_opportunity_without_its_kind(make_opportunity):
    case = make_opportunity()
    for bad in ({"amount": Decimal("-1")}, {"opportunity_kind": ""}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Case.objects.filter(pk=case.pk).update(**bad)
