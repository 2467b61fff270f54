"""The sources CVX stores its own survey answers under are refused from the
API, the bulk API and the CSV import, so no integration can take an
invitation's key; a key taken anyway (stored before the rule) is an error
the survey page shows and the log records, never a silent thank-you."""

from __future__ import annotations

import logging
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from feedback.choices import SURVEY_SOURCES, SurveyPurpose
from feedback.models import FeedbackResponse, SurveyInvitation
from feedback.services import CREATED, ERROR, feedback_ingest
from feedback.surveys import invitation_create, invitation_token

pytestmark = pytest.mark.django_db

URL = "/api/v1/feedback/"
RESERVED = ["cvx_survey", "follow_up", "Follow_Up", "CVX_SURVEY"]


def item(n: int = 1, **overrides) -> dict:
    return {"touchpoint": "fault-line", "source": "survey", "external_id": f"rs{n}", "nps": 8, **overrides}


@pytest.fixture
def invitation(touchpoint) -> SurveyInvitation:
    customer = feedback_ingest(item=item(0, customer={"email": "ann@example.com"})).response.customer
    return invitation_create(customer=customer, touchpoint=touchpoint, purpose=SurveyPurpose.SURVEY)


def survey_path(invitation: SurveyInvitation) -> str:
    return f"/s/{invitation_token(invitation)}/"


@pytest.mark.parametrize("source", RESERVED)
def test_the_api_refuses_a_reserved_source_naming_the_field(api, integration, touchpoint, source):
    response = api(token=integration).post(URL, item(source=source), format="json")
    assert response.status_code == 400
    assert "reserved" in response.json()["source"][0]
    assert not FeedbackResponse.objects.exists()


def test_the_bulk_api_refuses_a_reserved_source_item_and_keeps_the_others(api, integration, touchpoint):
    items = [item(1), item(2, source="follow_up", external_id="invitation-1"), item(3)]
    response = api(token=integration).post(URL + "bulk/", items, format="json")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["created", "error", "created"]
    assert list(results[1]["errors"]) == ["source"]
    assert set(FeedbackResponse.objects.values_list("external_id", flat=True)) == {"rs1", "rs3"}


def test_the_csv_import_refuses_a_reserved_source_by_line(touchpoint, tmp_path):
    path = tmp_path / "feedback.csv"
    path.write_text(
        "touchpoint,source,external_id,nps\nfault-line,survey,c1,3\n"
        "fault-line,cvx_survey,invitation-7,3\nfault-line,survey,c3,3\n"
    )
    out, err = StringIO(), StringIO()
    call_command("import_feedback", str(path), "--no-progress", stdout=out, stderr=err)
    assert out.getvalue().strip().splitlines()[-1] == "created 2, duplicate 0, rejected 1"
    [report] = err.getvalue().strip().splitlines()
    assert report.startswith("line 3: source: ") and "reserved" in report


def test_the_trusted_survey_path_may_use_a_reserved_source_but_is_still_validated(invitation):
    answer = {"source": "cvx_survey", "external_id": f"invitation-{invitation.pk}"}
    refused = feedback_ingest(item=item(**answer, nps=11), invitation=invitation)
    assert refused.status == ERROR and list(refused.errors) == ["nps"]
    stored = feedback_ingest(item=item(**answer), invitation=invitation)
    assert stored.status == CREATED and stored.response.invitation == invitation


@pytest.mark.parametrize("purpose", list(SurveyPurpose))
def test_a_survey_answer_is_stored_under_the_source_reserved_for_its_purpose(client, touchpoint, purpose):
    customer = feedback_ingest(item=item(0, customer={"email": "bo@example.com"})).response.customer
    invitation = invitation_create(customer=customer, touchpoint=touchpoint, purpose=purpose)
    assert client.post(survey_path(invitation), {"nps": "9"}).status_code == 200
    answer = FeedbackResponse.objects.get(invitation=invitation)
    assert (answer.source, answer.external_id) == (SURVEY_SOURCES[purpose], f"invitation-{invitation.pk}")


def test_an_integration_cannot_pre_empt_the_customers_answer(api, integration, client, invitation):
    key = {"source": "cvx_survey", "external_id": f"invitation-{invitation.pk}"}
    assert api(token=integration).post(URL, item(**key, nps=0), format="json").status_code == 400
    thanks = client.post(survey_path(invitation), {"nps": "9", "comment": "Lovely"})
    assert thanks.status_code == 200 and b"Thank you" in thanks.content
    answer = FeedbackResponse.objects.get(**key)
    assert (answer.nps, answer.comment, answer.invitation_id) == (9, "Lovely", invitation.pk)


def test_a_taken_key_is_shown_to_the_customer_and_logged_and_the_survey_stays_open(client, invitation, caplog):
    # A response stored under the invitation's key before the sources were reserved.
    taken = FeedbackResponse.objects.create(
        touchpoint=invitation.touchpoint,
        source="cvx_survey",
        external_id=f"invitation-{invitation.pk}",
        nps=0,
        occurred_at=timezone.now(),
        content_hash="0" * 64,
    )
    with caplog.at_level(logging.ERROR, logger="feedback.surveys"):
        response = client.post(survey_path(invitation), {"nps": "9", "comment": "Lovely"})
    assert response.status_code == 409
    assert b"could not record your answer" in response.content and b"Thank you" not in response.content
    [record] = caplog.records
    assert record.levelno == logging.ERROR and f"survey invitation {invitation.pk}" in record.getMessage()
    assert "conflict" in record.getMessage() and str(taken.pk) in record.getMessage()
    invitation.refresh_from_db()
    assert invitation.answered_at is None
    assert list(FeedbackResponse.objects.filter(invitation__isnull=False)) == []
    assert client.get(survey_path(invitation)).status_code == 200  # the link still works
