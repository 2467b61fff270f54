"""VES, the Value Enhancement Score ("after this, I am better able to ..."):
a fourth optional score, taken on every entry path by the one validator,
asked on CVX's own surveys where the touchpoint asks it (in its words),
counted in the score summary exactly as the raw read counts it, and
reported beside CSAT and CES by the insights and the metrics API."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from cases.choices import AssignmentStrategy
from cases.models import Case, RoutingRule
from cases.services import response_route
from feedback import scores
from feedback.analytics import responses_between, score_metrics, score_metrics_from_summary
from feedback.choices import SurveyPurpose
from feedback.models import FeedbackResponse
from feedback.services import CONFLICT, CREATED, DUPLICATE, ERROR, feedback_ingest, feedback_ingest_many
from feedback.summaries import rebuild_daily_scores, refresh_daily_scores
from feedback.surveys import invitation_create, invitation_send, invitation_token
from journeys.models import DEFAULT_VES_QUESTION, Touchpoint
from journeys.services import journey_copy_as_future

pytestmark = pytest.mark.django_db

URL = "/api/v1/feedback/"
LOW, HIGH = scores.VES_RANGE
OUTSIDE = [LOW - 1, HIGH + 1, 100, -3, "abc", "4.5", 2.5, True]
DAY = datetime(2025, 3, 3, 9, tzinfo=UTC)  # a Monday


def item(n: int = 1, **fields) -> dict:
    return {"touchpoint": "fault-line", "source": "survey", "external_id": f"v{n}", **fields}


# --- ingestion: the one validator, on every path ----------------------------------


@pytest.mark.parametrize("score", range(LOW - 1, HIGH + 2))
def test_the_validator_takes_exactly_the_ves_scale(touchpoint, score):
    outcome = feedback_ingest(item=item(ves=score))
    if LOW <= score <= HIGH:
        assert outcome.status == CREATED and outcome.response.ves == score
    else:
        assert outcome.status == ERROR and list(outcome.errors) == ["ves"]
        assert outcome.errors["ves"] == [f"The VES (Value Enhancement Score) is a whole number from {LOW} to {HIGH}."]
        assert not FeedbackResponse.objects.exists()


@pytest.mark.parametrize("bad", OUTSIDE)
def test_the_api_refuses_a_ves_off_the_scale_naming_the_field(api, integration, touchpoint, bad):
    response = api(token=integration).post(URL, item(ves=bad), format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["ves"] and "VES" in response.json()["ves"][0]
    assert not FeedbackResponse.objects.exists()


def test_the_api_stores_and_returns_a_ves(api, integration, touchpoint):
    client = api(token=integration)
    created = client.post(URL, item(ves=4, comment="Now I can set it up myself"), format="json")
    assert created.status_code == 201 and created.json()["ves"] == 4
    assert FeedbackResponse.objects.get().ves == 4
    [listed] = client.get(URL).json()["results"]
    assert listed["ves"] == 4


def test_a_ves_alone_is_enough_for_a_response(touchpoint):
    assert feedback_ingest(item=item(ves=LOW)).status == CREATED
    refused = feedback_ingest(item=item(2))
    assert refused.status == ERROR
    assert refused.errors["non_field_errors"] == ["Give at least one score (nps, csat, ces, ves) or a comment."]


def test_the_bulk_api_refuses_only_the_items_with_a_bad_ves(api, integration, touchpoint):
    items = [item(1, ves=HIGH), item(2, ves=HIGH + 1), item(3, ves=LOW, nps=9)]
    reply = api(token=integration).post(URL + "bulk/", items, format="json").json()
    assert [r["status"] for r in reply["results"]] == ["created", "error", "created"]
    assert list(reply["results"][1]["errors"]) == ["ves"]
    assert sorted(FeedbackResponse.objects.values_list("external_id", "ves")) == [("v1", HIGH), ("v3", LOW)]


def test_the_csv_import_takes_a_ves_column_through_the_validator(touchpoint, tmp_path):
    path = tmp_path / "feedback.csv"
    path.write_text(
        f"touchpoint,source,external_id,ves,comment\n"
        f"fault-line,survey,c1,{HIGH},\n"
        f"fault-line,survey,c2,{HIGH + 1},Too high\n"
        f"fault-line,survey,c3,,Only a comment\n"
    )
    out, err = StringIO(), StringIO()
    call_command("import_feedback", str(path), "--no-progress", stdout=out, stderr=err)
    assert out.getvalue().strip().splitlines()[-1] == "created 2, duplicate 0, rejected 1"
    assert err.getvalue().strip() == (
        f"line 3: ves: The VES (Value Enhancement Score) is a whole number from {LOW} to {HIGH}."
    )
    assert dict(FeedbackResponse.objects.values_list("external_id", "ves")) == {"c1": HIGH, "c3": None}


def test_a_replay_with_another_ves_is_a_conflict_and_the_same_a_duplicate(touchpoint):
    assert feedback_ingest(item=item(nps=7, ves=3)).status == CREATED
    assert feedback_ingest(item=item(nps=7, ves=3)).status == DUPLICATE
    assert feedback_ingest(item=item(nps=7, ves=4)).status == CONFLICT
    assert feedback_ingest(item=item(nps=7)).status == CONFLICT
    # Without a VES, the content (and so its stored hash) is what it was before VES existed.
    assert feedback_ingest(item=item(2, nps=7)).status == CREATED
    assert feedback_ingest(item=item(2, nps=7, ves=None)).status == DUPLICATE


def test_the_database_holds_exactly_the_scale():
    constraint = next(c for c in FeedbackResponse._meta.constraints if c.name == "feedback_ves_range")
    has_something = next(c for c in FeedbackResponse._meta.constraints if c.name == "feedback_has_score_or_comment")
    for score in range(LOW - 1, HIGH + 2):
        response = FeedbackResponse(ves=score)
        if LOW <= score <= HIGH:
            constraint.validate(FeedbackResponse, response)
            has_something.validate(FeedbackResponse, response)
        else:
            with pytest.raises(ValidationError):
                constraint.validate(FeedbackResponse, response)


# --- the survey forms ------------------------------------------------------------------


def _invitation(touchpoint, purpose: str):
    customer = feedback_ingest(item=item(0, nps=8, customer={"email": "ann@example.com"})).response.customer
    return invitation_create(customer=customer, touchpoint=touchpoint, purpose=purpose)


def _survey_path(invitation) -> str:
    return f"/s/{invitation_token(invitation)}/"


def _asks_ves(touchpoint, question: str = "After this call, I am better able to fix my line myself.") -> str:
    Touchpoint.objects.filter(pk=touchpoint.pk).update(asks_ves=True, ves_question=question)
    return question


@pytest.mark.parametrize("purpose", list(SurveyPurpose))
def test_a_survey_asks_no_ves_where_the_touchpoint_does_not_ask_it(client, touchpoint, purpose):
    invitation = _invitation(touchpoint, purpose)
    page = client.get(_survey_path(invitation)).content.decode()
    assert DEFAULT_VES_QUESTION not in page and 'name="ves"' not in page
    # A VES posted anyway is not taken: the form does not ask it.
    assert client.post(_survey_path(invitation), {"nps": "9", "ves": "5"}).status_code == 200
    assert FeedbackResponse.objects.get(invitation=invitation).ves is None


@pytest.mark.parametrize("purpose", list(SurveyPurpose))
def test_a_survey_asks_the_touchpoints_ves_question_and_records_the_answer(client, touchpoint, purpose):
    question = _asks_ves(touchpoint)
    invitation = _invitation(touchpoint, purpose)
    page = client.get(_survey_path(invitation)).content.decode()
    assert question in page
    assert sorted(int(v) for v in re.findall(r'name="ves" value="(\d+)"', page)) == list(range(LOW, HIGH + 1))
    thanks = client.post(_survey_path(invitation), {"nps": "9", "ves": str(HIGH - 1)})
    assert thanks.status_code == 200 and b"Thank you" in thanks.content
    answer = FeedbackResponse.objects.get(invitation=invitation)
    assert (answer.nps, answer.ves) == (9, HIGH - 1)


def test_the_ves_is_optional_and_a_bad_one_is_refused_on_the_page(client, touchpoint):
    _asks_ves(touchpoint)
    invitation = _invitation(touchpoint, SurveyPurpose.SURVEY)
    refused = client.post(_survey_path(invitation), {"nps": "9", "ves": str(HIGH + 1)})
    assert refused.status_code == 400 and b'role="alert"' in refused.content
    assert not FeedbackResponse.objects.filter(invitation=invitation).exists()
    assert client.post(_survey_path(invitation), {"nps": "9"}).status_code == 200
    assert FeedbackResponse.objects.get(invitation=invitation).ves is None


def test_the_invitation_email_lists_the_ves_question_where_it_is_asked(touchpoint, mailoutbox):
    question = _asks_ves(touchpoint)
    invitation = _invitation(touchpoint, SurveyPurpose.SURVEY)
    assert invitation_send(invitation_id=invitation.pk)
    [sent] = mailoutbox
    assert f"- {question}" in sent.body and sent.subject == "How did we do? Three quick questions"


def test_a_future_state_copy_keeps_the_ves_question(touchpoint):
    question = _asks_ves(touchpoint)
    draft = journey_copy_as_future(journey=touchpoint.stage.journey)
    copy = Touchpoint.objects.get(stage__journey=draft)
    assert (copy.asks_ves, copy.ves_question) == (True, question)


def test_a_touchpoint_asks_no_ves_until_told_and_has_a_question_ready(touchpoint):
    assert (touchpoint.asks_ves, touchpoint.ves_question) == (False, DEFAULT_VES_QUESTION)


# --- figures: the summary equals the raw read, by hand --------------------------------


@pytest.fixture
def ves_feedback(touchpoint, stage, team):
    """VES answers on two touchpoints over three weeks, with and without other scores."""
    other = Touchpoint.objects.create(stage=stage, name="Shop", slug="shop", channel="store", team=team)
    answers = {
        # touchpoint slug: [(day offset, ves, nps)]
        "fault-line": [(0, 5, 9), (0, 4, None), (1, 1, 3), (8, 2, None), (8, None, 10), (15, 3, 6)],
        "shop": [(0, 5, None), (9, 4, 7), (16, None, None)],
    }
    items = [
        {
            "touchpoint": slug,
            "source": "survey",
            "external_id": f"{slug}-{i}",
            "occurred_at": (DAY + timedelta(days=offset)).isoformat(),
            **({"ves": ves} if ves is not None else {}),
            **({"nps": nps} if nps is not None else {}),
            **({} if ves is not None or nps is not None else {"comment": "Fine"}),
        }
        for slug, rows in answers.items()
        for i, (offset, ves, nps) in enumerate(rows)
    ]
    assert {o.status for o in feedback_ingest_many(items=items)} == {CREATED}
    return {"touchpoint": touchpoint, "other": other}


def test_the_ves_figures_are_the_mean_and_the_share_scoring_4_to_5(ves_feedback):
    rows = {row["group"]: row for row in score_metrics(FeedbackResponse.objects.all(), group_by="touchpoint")}
    # fault-line: 5, 4, 1, 2, 3 -> mean 3.0, 2 of 5 score 4-5; shop: 5, 4 -> 4.5, 2 of 2.
    assert (rows["fault-line"]["ves_responses"], rows["fault-line"]["ves"]) == (5, 3.0)
    assert rows["fault-line"]["ves_enhanced_pct"] == 40.0
    assert (rows["shop"]["ves_responses"], rows["shop"]["ves"], rows["shop"]["ves_enhanced_pct"]) == (2, 4.5, 100.0)
    [overall] = score_metrics(FeedbackResponse.objects.all())
    assert (overall["ves_responses"], overall["ves"], overall["ves_enhanced_pct"]) == (7, 3.43, 57.1)


def test_a_figure_without_ves_answers_is_none(touchpoint):
    feedback_ingest(item=item(nps=9))
    [row] = score_metrics(FeedbackResponse.objects.all())
    assert (row["ves_responses"], row["ves"], row["ves_enhanced_pct"]) == (0, None, None)


@pytest.mark.parametrize("group_by", [None, "touchpoint", "journey", "team", "stage"])
@pytest.mark.parametrize("period", [None, "day", "week", "month"])
def test_the_summary_gives_the_raw_ves_figures_to_the_last_digit(ves_feedback, group_by, period):
    rebuild_daily_scores()
    raw = score_metrics(FeedbackResponse.objects.all(), group_by=group_by, period=period)
    assert score_metrics_from_summary(None, group_by=group_by, period=period) == raw
    since, until = DAY.date() + timedelta(days=1), DAY.date() + timedelta(days=15)
    cut = responses_between(FeedbackResponse.objects.all(), since, until)
    summary = score_metrics_from_summary(None, since=since, until=until, group_by=group_by, period=period)
    assert summary == score_metrics(cut, group_by=group_by, period=period)


def test_the_refresh_after_ingestion_counts_a_new_ves(ves_feedback):
    rebuild_daily_scores()
    outcome = feedback_ingest(item=item(99, ves=LOW, occurred_at=DAY.isoformat()))
    refresh_daily_scores([(outcome.response.touchpoint_id, DAY.date())])
    [summary] = score_metrics_from_summary(None)
    [raw] = score_metrics(FeedbackResponse.objects.all())
    assert summary == raw and raw["ves_responses"] == 8


# --- insights: the metrics API and the journey map ------------------------------------


def test_the_metrics_api_returns_ves_beside_csat_and_ces(api, integration, ves_feedback):
    rebuild_daily_scores()
    reply = api(token=integration).get("/api/v1/metrics/", {"group_by": "touchpoint"})
    rows = {row["group"]: row for row in reply.json()["scores"]}
    assert {k: rows["fault-line"][k] for k in ("ves", "ves_responses", "ves_enhanced_pct")} == {
        "ves": 3.0,
        "ves_responses": 5,
        "ves_enhanced_pct": 40.0,
    }
    assert (rows["shop"]["ves"], rows["shop"]["ves_responses"]) == (4.5, 2)
    schema = api(token=integration).get("/api/v1/schema/", {"format": "json"}).json()
    documented = schema["components"]["schemas"]["ScoreRow"]["properties"]
    assert {"ves", "ves_responses", "ves_enhanced_pct"} <= documented.keys()


def test_the_metrics_api_shows_an_outsider_no_ves(api, outsider, ves_feedback):
    rebuild_daily_scores()
    [row] = api(outsider).get("/api/v1/metrics/").json()["scores"]
    assert (row["ves_responses"], row["ves"]) == (0, None)


def test_the_journey_map_card_shows_the_mean_ves(client, lead, touchpoint):
    now = datetime.now(UTC)
    for n, ves in enumerate((5, 4, 2), start=1):
        feedback_ingest(item=item(n, nps=9, ves=ves, occurred_at=(now - timedelta(days=1)).isoformat()))
    client.force_login(lead)
    page = client.get(f"/cases/insights/journeys/{touchpoint.stage.journey.slug}/map/").content.decode()
    card = page[page.index("Fault line") :]
    assert re.search(r"VES <b>3\.7</b>", card), card[:600]


def test_the_case_page_shows_the_ves_of_the_feedback_that_opened_it(client, agent, touchpoint):
    RoutingRule.objects.create(name="Detractors", position=10, nps_at_most=6, strategy=AssignmentStrategy.DEFAULT_OWNER)
    outcome = feedback_ingest(
        item=item(nps=2, ves=LOW + 1, comment="Still stuck", customer={"email": "bo@example.com"})
    )
    response_route(response_id=outcome.response.pk)
    case = Case.objects.get(feedback=outcome.response)
    client.force_login(agent)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert f"VES {LOW + 1}/{HIGH}" in page


# --- how sure a VES figure is: n, margin, few responses --------------------------------


@pytest.mark.parametrize(("minimum", "few"), [(7, False), (8, True)])
def test_the_ves_share_carries_its_n_margin_and_few_flag(ves_feedback, settings, minimum, few):
    settings.CVX_MIN_RESPONSES = minimum
    [row] = score_metrics(FeedbackResponse.objects.all())
    # 4 of 7 answers score 4-5: 1.96 * sqrt(4/7 * 3/7 / 7) * 100 = 36.66 points.
    assert (row["ves_n"], row["ves_enhanced_margin"], row["ves_few"]) == (7, 36.7, few)
    rebuild_daily_scores()
    assert score_metrics_from_summary(None) == [row]


def test_the_metrics_api_returns_the_ves_n_margin_and_few_flag(api, integration, ves_feedback, settings):
    settings.CVX_MIN_RESPONSES = 5
    rebuild_daily_scores()
    client = api(token=integration)
    rows = {row["group"]: row for row in client.get("/api/v1/metrics/", {"group_by": "touchpoint"}).json()["scores"]}
    # fault-line: 2 of 5 score 4-5: 1.96 * sqrt(0.4 * 0.6 / 5) * 100 = 42.94 points.
    assert {k: rows["fault-line"][k] for k in ("ves_n", "ves_enhanced_margin", "ves_few")} == {
        "ves_n": 5,
        "ves_enhanced_margin": 42.9,
        "ves_few": False,
    }
    assert (rows["shop"]["ves_n"], rows["shop"]["ves_enhanced_margin"], rows["shop"]["ves_few"]) == (2, 0.0, True)
    documented = client.get("/api/v1/schema/", {"format": "json"}).json()["components"]["schemas"]["ScoreRow"]
    assert {"ves_n", "ves_enhanced_margin", "ves_few"} <= documented["properties"].keys()


@pytest.mark.parametrize(("minimum", "few"), [(3, False), (4, True)])
def test_the_journey_map_mutes_a_ves_from_few_responses(client, lead, touchpoint, settings, minimum, few):
    settings.CVX_MIN_RESPONSES = minimum
    now = datetime.now(UTC)
    for n, ves in enumerate((5, 4, 2), start=1):
        feedback_ingest(item=item(n, nps=9, ves=ves, occurred_at=(now - timedelta(days=1)).isoformat()))
    client.force_login(lead)
    page = client.get(f"/cases/insights/journeys/{touchpoint.stage.journey.slug}/map/").content.decode()
    ves = page[page.index('class="tp-ves') :]
    ves = ves[: ves.index("</span></span>")]
    assert ("few responses (3)" in ves) is few and ('tp-ves few muted"' in ves) is few
