"""Draft journeys are not live: feedback at a touchpoint of a future-state
design or of an inactive journey is refused on every entry path (API, bulk
API, CSV import, CVX's own surveys), naming the touchpoint and why, by the
one feedback validator; a live journey's touchpoints keep taking it."""

from __future__ import annotations

import logging
from io import StringIO

import pytest
from django.core.management import call_command

from feedback.choices import SurveyPurpose
from feedback.models import FeedbackResponse, SurveyInvitation
from feedback.services import CREATED, ERROR, feedback_ingest, feedback_ingest_many
from feedback.surveys import (
    TouchpointNotLive,
    invitation_create,
    invitation_send,
    invitation_token,
    survey_answer,
)
from journeys.choices import JourneyState
from journeys.models import Journey, Stage, Touchpoint

pytestmark = pytest.mark.django_db

URL = "/api/v1/feedback/"
# (journey state, active) of each kind of draft, and the words its refusal uses.
DRAFTS = {
    "future-state draft": (JourneyState.FUTURE, False, "the future-state draft journey 'Get connected, redesigned'"),
    "active future state": (JourneyState.FUTURE, True, "the future-state draft journey 'Get connected, redesigned'"),
    "inactive current state": (JourneyState.CURRENT, False, "the inactive journey 'Get connected, redesigned'"),
}


@pytest.fixture(params=list(DRAFTS))
def draft(request, team) -> tuple[Touchpoint, str]:
    """A touchpoint "fault-line-next" of a journey that is not live, and the
    words naming the journey in its refusal."""
    state, active, called = DRAFTS[request.param]
    journey = Journey.objects.create(name="Get connected, redesigned", slug="next", state=state, active=active)
    stage = Stage.objects.create(journey=journey, name="Get help")
    touchpoint = Touchpoint.objects.create(
        stage=stage, name="Fault line", slug="fault-line-next", channel="web", team=team
    )
    return touchpoint, called


def item(n: int, touchpoint: str = "fault-line", **overrides) -> dict:
    return {"touchpoint": touchpoint, "source": "survey", "external_id": f"d{n}", "nps": 2, **overrides}


def refusal(called: str) -> str:
    return (
        f"Touchpoint 'fault-line-next' belongs to {called}; "
        "feedback is accepted only for touchpoints of active current-state journeys."
    )


def test_the_api_refuses_feedback_at_a_draft_touchpoint_naming_it_and_why(api, integration, draft):
    _touchpoint, called = draft
    response = api(token=integration).post(URL, item(1, "fault-line-next"), format="json")
    assert response.status_code == 400
    assert response.json() == {"touchpoint": [refusal(called)]}
    assert not FeedbackResponse.objects.exists()


def test_the_api_still_takes_feedback_at_a_live_touchpoint(api, integration, touchpoint):
    response = api(token=integration).post(URL, item(1), format="json")
    assert response.status_code == 201
    assert FeedbackResponse.objects.get().touchpoint == touchpoint


def test_the_refusal_is_reported_with_the_items_other_errors(api, integration, draft):
    response = api(token=integration).post(URL, item(1, "fault-line-next", nps=11), format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"touchpoint", "nps"}


def test_the_bulk_api_refuses_the_draft_item_and_keeps_the_valid_ones(api, integration, touchpoint, draft):
    _draft, called = draft
    items = [item(1), item(2, "fault-line-next"), item(3)]
    response = api(token=integration).post(URL + "bulk/", items, format="json")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["created", "error", "created"]
    assert results[1]["errors"] == {"touchpoint": [refusal(called)]}
    assert set(FeedbackResponse.objects.values_list("external_id", flat=True)) == {"d1", "d3"}


def test_the_csv_import_reports_the_draft_row_by_line_and_stores_the_rest(touchpoint, draft, tmp_path):
    _draft, called = draft
    path = tmp_path / "feedback.csv"
    path.write_text(
        "touchpoint,source,external_id,nps\nfault-line,survey,c1,3\nfault-line-next,survey,c2,3\nfault-line,survey,c3,9\n"
    )
    out, err = StringIO(), StringIO()
    call_command("import_feedback", str(path), "--no-progress", stdout=out, stderr=err)
    assert out.getvalue().strip().splitlines()[-1] == "created 2, duplicate 0, rejected 1"
    assert err.getvalue().strip() == f"line 3: touchpoint: {refusal(called)}"
    assert set(FeedbackResponse.objects.values_list("external_id", flat=True)) == {"c1", "c3"}


def test_a_journey_made_a_draft_stops_taking_feedback_and_taking_it_live_again_resumes(touchpoint):
    journey = touchpoint.stage.journey
    Journey.objects.filter(pk=journey.pk).update(active=False)
    refused = feedback_ingest_many(items=[item(1)])[0]
    assert refused.status == ERROR
    assert "the inactive journey 'Get connected'" in refused.errors["touchpoint"][0]
    Journey.objects.filter(pk=journey.pk).update(active=True)
    assert feedback_ingest_many(items=[item(1)])[0].status == CREATED


# --- CVX's own surveys ---------------------------------------------------------------


@pytest.fixture
def customer(touchpoint):
    return feedback_ingest(item=item(0, nps=9, customer={"email": "ann@example.com"})).response.customer


def make_draft(touchpoint: Touchpoint, **fields) -> None:
    Journey.objects.filter(pk=touchpoint.stage.journey_id).update(**fields)


@pytest.mark.parametrize("fields", [{"state": JourneyState.FUTURE}, {"active": False}], ids=["future", "inactive"])
def test_no_ordinary_survey_is_made_for_a_draft_touchpoint(customer, touchpoint, fields):
    make_draft(touchpoint, **fields)
    touchpoint.refresh_from_db()
    with pytest.raises(TouchpointNotLive) as refused:
        invitation_create(customer=customer, touchpoint=touchpoint, purpose=SurveyPurpose.SURVEY)
    assert refused.value.status == 400
    assert refused.value.as_dict()["touchpoint"][0].startswith("Touchpoint 'fault-line' belongs to the ")
    assert not SurveyInvitation.objects.exists()


def test_a_follow_up_survey_is_made_for_a_case_at_a_draft_touchpoint(customer, touchpoint):
    make_draft(touchpoint, active=False)
    touchpoint.refresh_from_db()
    invitation = invitation_create(customer=customer, touchpoint=touchpoint, purpose=SurveyPurpose.FOLLOW_UP)
    assert invitation.purpose == SurveyPurpose.FOLLOW_UP


@pytest.fixture
def invitation(customer, touchpoint) -> SurveyInvitation:
    """An ordinary survey made while the journey was live."""
    return invitation_create(customer=customer, touchpoint=touchpoint, purpose=SurveyPurpose.SURVEY)


def test_an_ordinary_survey_is_not_sent_once_its_journey_is_a_draft(invitation, touchpoint, mailoutbox, caplog):
    make_draft(touchpoint, state=JourneyState.FUTURE)
    with caplog.at_level(logging.INFO, logger="feedback.surveys"):
        assert invitation_send(invitation_id=invitation.pk) is False
    assert mailoutbox == []
    invitation.refresh_from_db()
    assert invitation.sent_at is None
    assert "belongs to the future-state draft journey 'Get connected'" in caplog.text


def test_an_ordinary_survey_is_sent_while_its_journey_is_live(invitation, mailoutbox):
    assert invitation_send(invitation_id=invitation.pk) is True
    assert len(mailoutbox) == 1


@pytest.mark.parametrize("method", ["get", "post"])
def test_the_survey_page_of_a_draft_touchpoint_says_the_survey_has_closed(client, invitation, touchpoint, method):
    make_draft(touchpoint, active=False)
    path = f"/s/{invitation_token(invitation)}/"
    page = client.get(path) if method == "get" else client.post(path, {"nps": "9", "csat": "5"})
    assert page.status_code == 410
    assert "This survey about Fault line has closed." in page.content.decode()
    assert not FeedbackResponse.objects.filter(invitation=invitation).exists()
    invitation.refresh_from_db()
    assert invitation.answered_at is None


def test_the_survey_page_of_a_live_touchpoint_takes_the_answer(client, invitation):
    page = client.post(f"/s/{invitation_token(invitation)}/", {"nps": "9", "csat": "5"})
    assert page.status_code == 200
    assert FeedbackResponse.objects.filter(invitation=invitation).exists()


def test_the_validator_refuses_an_ordinary_survey_answer_at_a_draft_touchpoint(invitation, touchpoint):
    # The page refuses first; the one validator holds even for a trusted caller.
    make_draft(touchpoint, state=JourneyState.FUTURE)
    outcome = feedback_ingest(
        item={**item(9, source="cvx_survey", external_id=f"invitation-{invitation.pk}")}, invitation=invitation
    )
    assert outcome.status == ERROR
    assert "belongs to the future-state draft journey 'Get connected'" in outcome.errors["touchpoint"][0]


def test_survey_answer_refuses_a_link_whose_journey_became_a_draft(invitation, touchpoint):
    from feedback.surveys import BadLink

    make_draft(touchpoint, active=False)
    with pytest.raises(BadLink) as closed:
        survey_answer(token=invitation_token(invitation), nps=9, csat=5, comment="")
    assert closed.value.reason == "expired"
    assert not FeedbackResponse.objects.filter(invitation=invitation).exists()
