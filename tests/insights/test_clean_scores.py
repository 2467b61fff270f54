"""Follow-up survey answers are recovery measures, never scores: the raw
read, the summary tables, the insight pages and the metrics API leave them
out of every score figure, agree with each other on every figure, and
report them as before -> after."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cases import services
from cases.models import Case, FollowUp
from cases.services import response_route
from feedback.analytics import score_metrics, score_metrics_from_summary
from feedback.models import DailyScore, FeedbackResponse, WeeklyScore
from feedback.services import feedback_ingest
from feedback.summaries import daily_score_keys, rebuild_daily_scores, refresh_daily_scores

pytestmark = pytest.mark.django_db

TOUCHPOINT_PAGE = "/cases/insights/touchpoints/fault-line/"
JOURNEY_PAGE = "/cases/insights/journeys/get-connected/"
# (NPS, CSAT) of the feedback at fault-line, and of the follow-up answer of
# the case each detractor opens (None: no answer).
OPENING = [(2, 1, (10, 5)), (3, 2, (5, 4)), (0, 1, None), (10, 5, None), (9, 4, None), (8, 3, None)]


def say(n: int, nps: int, csat: int, *, days_ago: int = 1) -> FeedbackResponse:
    outcome = feedback_ingest(
        item={
            "touchpoint": "fault-line",
            "source": "survey",
            "external_id": f"clean-{n}",
            "customer": {"email": f"clean-{n}@example.com"},
            "occurred_at": (timezone.now() - timedelta(days=days_ago)).isoformat(),
            "nps": nps,
            "csat": csat,
        }
    )
    assert outcome.status == "created", outcome.errors
    response_route(response_id=outcome.response.pk)
    return outcome.response


def answer_follow_up(case: Case, nps: int, csat: int, agent, root_cause) -> FeedbackResponse:
    services.case_log_contact(case_id=case.pk, actor=agent, channel="phone", note="Called back")
    services.case_resolve(case_id=case.pk, actor=agent, root_cause=root_cause, note="Fixed the line")
    follow = FollowUp.objects.select_related("invitation").get(case=case)
    outcome = feedback_ingest(
        item={
            "touchpoint": "fault-line",
            "source": "follow_up",
            "external_id": f"invitation-{follow.invitation.pk}",
            "customer": {"email": follow.invitation.email},
            "nps": nps,
            "csat": csat,
        },
        invitation=follow.invitation,
    )
    assert outcome.status == "created", outcome.errors
    response_route(response_id=outcome.response.pk)
    return outcome.response


@pytest.fixture
def history(detractor_rule, touchpoint, agent, root_cause, settings):
    """Six responses at fault-line (three detractors, each opening a case)
    and two answered follow-ups, the summary rebuilt."""
    settings.CVX_REOPEN_NOT_RECOVERED = False
    for n, (nps, csat, answer) in enumerate(OPENING):
        response = say(n, nps, csat)
        if answer:
            answer_follow_up(Case.objects.get(feedback=response), *answer, agent, root_cause)
    assert FeedbackResponse.objects.filter(source="follow_up").count() == 2
    rebuild_daily_scores()


def summary_totals(model) -> dict:
    fields = ("responses", "nps_responses", "promoters", "detractors", "csat_responses", "csat_satisfied")
    rows = list(model.objects.values_list(*fields))
    return {name: sum(row[i] for row in rows) for i, name in enumerate(fields)}


def test_follow_up_answers_count_in_no_score(history):
    # By hand: 6 responses, promoters 10 and 9, detractors 2, 3 and 0: NPS (2 - 3) / 6 = -16.7;
    # CSAT 4-5: 5 and 4 of 6 = 33.3 %. The answers (10/5, 5/4) would make it 0.0 and 50.0 %.
    [row] = score_metrics(FeedbackResponse.objects.all())
    assert (row["responses"], row["promoters"], row["detractors"], row["nps"]) == (6, 2, 3, -16.7)
    assert (row["csat_responses"], row["csat_satisfied"], row["csat_pct"]) == (6, 2, 33.3)
    expected = {
        "responses": 6,
        "nps_responses": 6,
        "promoters": 2,
        "detractors": 3,
        "csat_responses": 6,
        "csat_satisfied": 2,
    }
    assert summary_totals(DailyScore) == expected and summary_totals(WeeklyScore) == expected
    assert score_metrics_from_summary(None) == [row]


def test_the_refresh_after_an_answer_leaves_it_out_too(history):
    DailyScore.objects.all().delete()
    WeeklyScore.objects.all().delete()
    keys = daily_score_keys(FeedbackResponse.objects.all())
    refresh_daily_scores([(touchpoint, timezone.datetime.fromisoformat(day).date()) for touchpoint, day in keys])
    assert summary_totals(DailyScore)["responses"] == 6 and summary_totals(WeeklyScore)["promoters"] == 2


def test_pages_api_and_summary_agree_on_every_figure(api, lead, history):
    client = api(lead)
    [in_summary] = score_metrics_from_summary(None, group_by="touchpoint")
    page = client.get(TOUCHPOINT_PAGE, {"granularity": "month"})
    assert page.status_code == 200
    series = page.context["series"]
    [on_page] = [row for row in series if row["responses"]]
    served = client.get(
        "/api/v1/metrics/", {"group_by": "touchpoint", "period": "month", "since": series[0]["period"].isoformat()}
    )
    [in_api] = served.json()["scores"]
    figures = sorted(on_page.keys() - {"period", "label"})
    assert figures and {k: on_page[k] for k in figures} == {k: in_api[k] for k in figures}
    assert {k: in_summary[k] for k in figures} == {k: in_api[k] for k in figures}
    assert (in_api["responses"], in_api["nps"], in_api["csat_pct"]) == (6, -16.7, 33.3)
    # The journey map's card and the distribution on the page hold the same six responses.
    map_page = client.get("/cases/insights/journeys/get-connected/map/")
    [card] = [card for stage in map_page.context["stages"] for card in stage["cards"]]
    assert (card["measure"], card["value"], card["responses"]) == ("NPS", -16.7, 6)
    [(_name, nps_bars), *_others] = page.context["distributions"]
    assert "10: 1" in nps_bars and "5: 0" in nps_bars  # the answer 10 and the answer 5 are not bars


def test_answers_are_reported_as_recovery_before_and_after(api, lead, history):
    # By hand: answered follow-ups of the cases opened by NPS 2 and 3 (CSAT 1 and 2):
    # NPS before (2 + 3) / 2 = 2.5, after (10 + 5) / 2 = 7.5; CSAT 1.5 -> 4.5; both no
    # longer detractors (5 is one: not recovered) -> 1 of 2 recovered.
    expected = {
        "answered": 2,
        "recovered": 1,
        "recovery_rate": 50.0,
        "nps_n": 2,
        "nps_before": 2.5,
        "nps_after": 7.5,
        "csat_n": 2,
        "csat_before": 1.5,
        "csat_after": 4.5,
    }
    client = api(lead)
    page = client.get(TOUCHPOINT_PAGE)
    assert {k: page.context["recovery"][k] for k in expected} == expected
    assert b"Won back?" in page.content
    journey_page = client.get(JOURNEY_PAGE)
    assert {k: journey_page.context["recovery"][k] for k in expected} == expected
    since = page.context["series"][0]["period"].isoformat()
    served = client.get("/api/v1/metrics/", {"group_by": "touchpoint", "since": since}).json()
    assert served["recovery"] == [{"group": "fault-line", **expected}]


def test_an_outsider_sees_no_recovery(api, outsider, history):
    served = api(outsider).get("/api/v1/metrics/").json()
    assert served["recovery"] == [{**served["recovery"][0], "answered": 0, "nps_n": 0, "csat_n": 0}]
    assert served["recovery"][0]["nps_before"] is None
