"""Negative feedback becomes exactly one assigned case, by the first matching rule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command

from cases.choices import AssignmentStrategy, CaseStatus, EventKind, Priority, RoutingOutcome
from cases.models import Case, RoutedResponse, RoutingRule
from cases.services import response_route, responses_route_pending
from cases.services.routing import load_rules, rule_matches, rule_prefilter
from cases.tasks import route_responses
from feedback.models import FeedbackResponse
from feedback.services import feedback_ingest

pytestmark = pytest.mark.django_db


def ingest(n: int = 1, **overrides) -> FeedbackResponse:
    item = {
        "touchpoint": "fault-line",
        "source": "survey",
        "external_id": f"route-{n}",
        "nps": 2,
        "comment": "Waited all day",
        "customer": {"email": f"c{n}@example.com"},
    }
    item.update(overrides)
    outcome = feedback_ingest(item=item)
    assert outcome.status == "created", outcome.errors
    return outcome.response


def test_a_detractor_opens_one_assigned_case_with_due_times(detractor_rule, touchpoint, agent):
    response = ingest()
    routed = response_route(response_id=response.pk)
    case = Case.objects.get()
    assert routed.outcome == RoutingOutcome.OPENED and routed.case == case
    assert (case.owner, case.team, case.status, case.rule) == (agent, touchpoint.team, CaseStatus.NEW, detractor_rule)
    assert case.first_contact_due == response.received_at + timedelta(hours=4)
    assert case.resolve_due == response.received_at + timedelta(hours=24)
    assert case.due_at == case.first_contact_due
    assert list(case.events.values_list("kind", flat=True)) == [EventKind.OPENED, EventKind.ASSIGNED]


def test_a_passive_opens_no_case(detractor_rule, touchpoint):
    routed = response_route(response_id=ingest(nps=7).pk)
    assert routed.outcome == RoutingOutcome.NO_MATCH
    assert not Case.objects.exists()


def test_routing_twice_still_gives_one_case(detractor_rule, touchpoint):
    response = ingest()
    assert response_route(response_id=response.pk) is not None
    assert response_route(response_id=response.pk) is None
    assert route_responses([response.pk, response.pk]) == 0
    assert Case.objects.count() == 1 and RoutedResponse.objects.count() == 1


def test_ingesting_queues_routing_after_commit(detractor_rule, touchpoint, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = ingest()
    assert Case.objects.get().feedback == response


def test_route_pending_routes_what_a_lost_task_left(detractor_rule, touchpoint, capsys):
    responses = [ingest(n) for n in range(3)]  # no on_commit here: the tasks are "lost"
    assert not RoutedResponse.objects.exists()
    call_command("route_pending")
    assert "Routed 3 response(s)." in capsys.readouterr().out
    assert set(RoutedResponse.objects.values_list("response_id", flat=True)) == {r.pk for r in responses}
    assert responses_route_pending() == 0


def test_new_negative_feedback_of_a_customer_with_an_open_case_attaches_to_it(detractor_rule, touchpoint):
    first = ingest(1, customer={"email": "same@example.com"})
    second = ingest(2, customer={"email": "same@example.com"}, nps=0)
    response_route(response_id=first.pk)
    routed = response_route(response_id=second.pk)
    case = Case.objects.get()
    assert routed.outcome == RoutingOutcome.ATTACHED and routed.case == case
    attached = case.events.get(kind=EventKind.FEEDBACK_ATTACHED)
    assert attached.data["response"] == second.pk


def test_after_the_case_closes_new_feedback_opens_a_new_case(detractor_rule, touchpoint, lead):
    from cases.services import case_cancel

    first = ingest(1, customer={"email": "same@example.com"})
    response_route(response_id=first.pk)
    case_cancel(case_id=Case.objects.get().pk, actor=lead, note="Duplicate")
    response_route(response_id=ingest(2, customer={"email": "same@example.com"}).pk)
    assert Case.objects.count() == 2


def test_first_active_matching_rule_wins(detractor_rule, touchpoint):
    urgent = RoutingRule.objects.create(
        name="Cancel risk", position=0, keywords="cancel, lawyer", priority=Priority.URGENT
    )
    RoutingRule.objects.create(name="Inactive", position=1, active=False, nps_at_most=10)
    response_route(response_id=ingest(comment="I will CANCEL my contract").pk)
    assert Case.objects.get().rule == urgent and Case.objects.get().priority == Priority.URGENT


@pytest.mark.parametrize(
    ("rule_fields", "response_fields", "matches"),
    [
        ({"nps_at_most": 6}, {"nps": 6}, True),
        ({"nps_at_most": 6}, {"nps": 7}, False),
        ({"nps_at_most": 6}, {"nps": None, "csat": 1}, False),
        ({"csat_at_most": 2}, {"nps": None, "csat": 2}, True),
        ({"csat_at_most": 2}, {"nps": None, "csat": 3}, False),
        ({"ces_at_most": 2}, {"nps": None, "ces": 2}, True),
        ({"ces_at_most": 2}, {"nps": None, "ces": 3}, False),
        ({"ces_at_most": 2}, {"nps": 2, "ces": None}, False),
        ({"sentiment_at_most": -0.5}, {"comment": "Terrible, awful, rude and useless service"}, True),
        ({"sentiment_at_most": -0.5}, {"comment": "Fine"}, False),
        ({"keywords": "lawyer\nombudsman"}, {"comment": "Calling the Ombudsman now"}, True),
        ({"keywords": "law"}, {"comment": "my lawyer"}, False),
        ({"nps_at_most": 6, "keywords": "refund"}, {"nps": 3, "comment": "no"}, False),
        ({"channels": ["web"]}, {}, False),
        ({"channels": ["call_center"]}, {}, True),
        ({"kinds": ["indirect"]}, {}, False),
        ({}, {}, True),
    ],
)
def test_rule_conditions(touchpoint, rule_fields, response_fields, matches):
    RoutingRule.objects.create(name="r", **rule_fields)
    response = ingest(**response_fields)
    [loaded] = load_rules()
    assert rule_matches(loaded, response) is matches
    # The SQL part of the rule (the preview narrows rows with it) never drops a match.
    narrowed = FeedbackResponse.objects.filter(rule_prefilter(loaded), pk=response.pk).exists()
    assert narrowed or not matches


def test_journey_and_touchpoint_filters(touchpoint, journey):
    from journeys.models import Journey

    other = Journey.objects.create(name="Other", slug="other")
    rule = RoutingRule.objects.create(name="r")
    rule.journeys.add(other)
    response = ingest()
    assert rule_matches(load_rules()[0], response) is False
    rule.journeys.set([journey])
    rule.touchpoints.add(touchpoint)
    assert rule_matches(load_rules()[0], response) is True


def test_rule_team_and_sla_hours_override_the_touchpoints(touchpoint, other_team, other_agent):
    RoutingRule.objects.create(
        name="r",
        nps_at_most=6,
        team=other_team,
        strategy=AssignmentStrategy.LEAST_LOADED,
        first_contact_sla_hours=1,
        resolution_sla_hours=2,
    )
    response = ingest()
    response_route(response_id=response.pk)
    case = Case.objects.get()
    assert (case.team, case.owner) == (other_team, other_agent)
    assert case.resolve_due - case.first_contact_due == timedelta(hours=1)


def test_default_owner_strategy_leaves_the_case_in_the_team_queue_without_one(detractor_rule, touchpoint):
    touchpoint.default_owner = None
    touchpoint.save()
    response_route(response_id=ingest().pk)
    assert Case.objects.get().owner is None


def _members(team, n):
    from django.contrib.auth import get_user_model

    users = [get_user_model().objects.create_user(f"m{i}") for i in range(n)]
    team.members.add(*users)
    return users


def test_round_robin_cycles_over_active_team_members(touchpoint, team, agent):
    m0, m1, inactive = _members(team, 3)
    inactive.is_active = False
    inactive.save()
    RoutingRule.objects.create(name="rr", nps_at_most=6, strategy=AssignmentStrategy.ROUND_ROBIN)
    for n in range(4):
        response_route(response_id=ingest(n).pk)
    owners = list(Case.objects.order_by("pk").values_list("owner__username", flat=True))
    assert owners == ["agent", "m0", "m1", "agent"]


def test_least_loaded_picks_the_member_with_fewest_open_cases(touchpoint, team, agent):
    [m0] = _members(team, 1)
    RoutingRule.objects.create(name="ll", nps_at_most=6, strategy=AssignmentStrategy.LEAST_LOADED)
    for n in range(3):
        response_route(response_id=ingest(n).pk)
    owners = list(Case.objects.order_by("pk").values_list("owner__username", flat=True))
    assert owners == ["agent", "m0", "agent"]
