"""Opportunities never enter complaint metrics (issue 19): every complaint
figure (loop metrics, recovery, root causes, pillars, the journey map's and
the touchpoint page's case counts, the metrics API, the value chain's
cohorts) is the same before and after opportunities are worked and won; the
chain of CX value counts their revenue beside churn and repeat purchase."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cases import services
from cases.choices import CaseKind, CaseOutcome
from cases.insights import queries as insights
from cases.insights.pillars import default_period, pillars, subject_for
from cases.models import Case, FollowUp
from feedback.models import FeedbackResponse
from feedback.services import feedback_ingest

pytestmark = pytest.mark.django_db


@pytest.fixture
def say(detractor_rule, promoter_rule, touchpoint):
    from cases.services import response_route

    counter = iter(range(1, 10_000))
    start = timezone.now() - timedelta(days=20)

    def make(who: str, *, day: int, invitation=None, **fields) -> FeedbackResponse:
        item = {
            "touchpoint": "fault-line",
            "source": "test",
            "external_id": f"m-{next(counter)}",
            "occurred_at": (start + timedelta(days=day)).isoformat(),
            "customer": {"email": f"{who}@example.com"},
            **fields,
        }
        outcome = feedback_ingest(item=item, invitation=invitation)
        assert outcome.status == "created", outcome.errors
        response_route(response_id=outcome.response.pk)
        return outcome.response

    return make


def _case(response: FeedbackResponse) -> Case:
    return Case.objects.get(feedback=response)


@pytest.fixture
def story(say, agent, root_cause):
    """ann: a detractor whose complaint was recovered, later a promoter
    (opportunity, won 300 when worked); bob: an open complaint; cat, dan,
    eve, fay: promoters, no complaint (won 1200.50, won without an amount,
    lost, no answer when worked). The opportunities are opened, not worked."""
    ann = _case(say("ann", day=0, nps=2, comment="The line dropped"))
    services.case_log_contact(case_id=ann.pk, actor=agent, channel="phone", note="Called", handling_minutes=10)
    services.case_resolve(case_id=ann.pk, actor=agent, root_cause=root_cause, note="Fixed the line")
    invitation = FollowUp.objects.select_related("invitation").get(case=ann).invitation
    say("ann", day=2, invitation=invitation, nps=9, source="follow_up")
    assert Case.objects.get(pk=ann.pk).outcome == CaseOutcome.RECOVERED
    say("bob", day=1, nps=1)
    opportunities = {
        "ann": _case(say("ann", day=3, nps=10, comment="Great service")),
        **{who: _case(say(who, day=4, nps=10)) for who in ("cat", "dan", "eve", "fay")},
    }
    assert {c.kind for c in opportunities.values()} == {CaseKind.OPPORTUNITY}
    return opportunities


def work(opportunities: dict, agent) -> None:
    for who, action, amount in (
        ("ann", "win", "300"),
        ("cat", "win", "1200.50"),
        ("dan", "win", None),
        ("eve", "lose", None),
        ("fay", "no_answer", None),
    ):
        case_id = opportunities[who].pk
        services.case_log_contact(
            case_id=case_id, actor=agent, channel="phone", note="Asked for a referral", handling_minutes=45
        )
        params = {"amount": amount} if action == "win" else {}
        services.case_transition(case_id=case_id, actor=agent, action=action, **params)


def complaint_figures(user, api, touchpoint, journey) -> dict:
    chain = insights.value_chain(touchpoint, FeedbackResponse.objects.all(), Case.objects.all())
    card = insights.journey_map(journey, FeedbackResponse.objects.all(), Case.objects.all(), days=30)[0]["cards"][0]
    since = timezone.now() - timedelta(days=60)
    cases_here = insights.touchpoint_cases(Case.objects.all(), touchpoint, since=since)
    return {
        "loop": insights.loop_rows(user),
        "loop_by_touchpoint": insights.loop_rows(user, group_by="touchpoint", period="week"),
        "recovery": insights.recovery_rows(user),
        "root_causes": insights.root_causes_of(user, None, None),
        "pillars": pillars(subject_for(user, "touchpoint", touchpoint.slug), default_period()),
        "map": (card["open_cases"], card["breached_cases"]),
        "touchpoint_cases": (cases_here["outcomes"], cases_here["total"], [c.pk for c in cases_here["recent"]]),
        "chain": [{k: v for k, v in row.items() if k not in ("won", "revenue_won")} for row in chain["cohorts"]],
        "chain_totals": (chain["customers"], chain["undecided"]),
        "metrics_api": api(user).get("/api/v1/metrics/").json(),
        "metrics_api_by_team": api(user).get("/api/v1/metrics/?group_by=team").json(),
    }


def test_working_and_winning_opportunities_changes_no_complaint_figure(story, agent, lead, api, touchpoint, journey):
    before = complaint_figures(lead, api, touchpoint, journey)
    # The complaints alone, by hand: two cases, one resolved after one 10-minute contact and recovered.
    loop = before["loop"][0]
    assert (loop["cases"], loop["resolved"], loop["followed_up"], loop["recovered"]) == (2, 1, 1, 1)
    assert before["recovery"][0]["answered"] == 1 and before["recovery"][0]["recovery_rate"] == 100.0
    assert [row["cases"] for row in before["root_causes"]] == [1]
    assert before["map"] == (1, 0)  # bob's open complaint; five open opportunities are not counted
    assert before["touchpoint_cases"][1] == 2
    assert before["chain_totals"] == (6, 1)  # bob's open complaint is undecided; promoters are "no case here"
    work(story, agent)
    assert Case.objects.filter(kind=CaseKind.OPPORTUNITY, status="won").count() == 3
    after = complaint_figures(lead, api, touchpoint, journey)
    assert after == before


def test_the_value_chain_shows_revenue_won_per_cohort(story, agent, touchpoint):
    work(story, agent)
    chain = insights.value_chain(touchpoint, FeedbackResponse.objects.all(), Case.objects.all())
    rows = {row["key"]: row for row in chain["cohorts"]}
    # ann (recovered): her own opportunity, 300; cat and dan (no case here): 1200.50 and no amount;
    # eve's lost and fay's unanswered opportunities bring nothing.
    assert (rows["recovered"]["won"], rows["recovered"]["revenue_won"]) == (1, Decimal("300.00"))
    assert (rows["no_case"]["won"], rows["no_case"]["revenue_won"]) == (2, Decimal("1200.50"))
    assert (rows["not_recovered"]["won"], rows["not_recovered"]["revenue_won"]) == (0, Decimal("0.00"))
    # An opportunity is not a repeat case of ann's complaint.
    assert rows["recovered"]["repeat_case"] == 0


def test_revenue_won_outside_the_window_is_not_counted(story, agent, touchpoint):
    work(story, agent)
    chain = insights.value_chain(touchpoint, FeedbackResponse.objects.all(), Case.objects.all(), window_days=2)
    rows = {row["key"]: row for row in chain["cohorts"]}
    # ann's promoter feedback came on day 3, three days after her first feedback here.
    assert rows["recovered"]["won"] == 0
    assert (rows["no_case"]["won"], rows["no_case"]["revenue_won"]) == (2, Decimal("1200.50"))


def test_the_touchpoint_page_and_the_api_show_revenue_won(story, agent, lead, api, client):
    work(story, agent)
    chain = api(lead).get("/api/v1/metrics/touchpoints/fault-line/value-chain/").json()
    rows = {row["key"]: row for row in chain["cohorts"]}
    assert (rows["no_case"]["won"], rows["no_case"]["revenue_won"]) == (2, 1200.5)
    client.force_login(lead)
    html = client.get("/cases/insights/touchpoints/fault-line/").content.decode()
    assert "Revenue won" in html and "<b>1200.50</b>" in html and "(2 won)" in html


def test_opportunities_get_no_follow_up_survey(story, agent):
    work(story, agent)
    assert not FollowUp.objects.filter(case__kind=CaseKind.OPPORTUNITY).exists()
