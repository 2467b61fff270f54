"""The CX layer wired into feedback: what ingestion stores (intents,
explanation, lexicon version), what the API replies, and that every scoring
caller reads through the CX layer."""

from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import call_command

from cvx_site.db import bulk_insert
from feedback.choices import Intent
from feedback.models import FeedbackResponse
from feedback.privacy import customer_erase
from feedback.sentiment import score_many, score_sentiment, vader_sentiment
from feedback.services import CREATED, feedback_ingest, feedback_ingest_many
from feedback.text import INTENTS, analyse

AT = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def item(n: int = 1, **overrides) -> dict:
    base = {
        "touchpoint": "fault-line",
        "source": "social",
        "kind": "indirect",
        "external_id": f"s{n}",
        "comment": "Your agent hung up on me",
        "customer": {"email": f"c{n}@example.com"},
    }
    base.update(overrides)
    return base


def stored(outcome) -> FeedbackResponse:
    assert outcome.status == CREATED, outcome.errors
    return FeedbackResponse.objects.get(pk=outcome.response.pk)


def test_intent_choices_are_the_engines_intents():
    assert sorted(Intent.values) == sorted(INTENTS)


# --- every scoring caller reads through the CX layer ----------------------------------


@pytest.mark.parametrize("text", ["Your agent hung up on me", "Never again. Cancel my contract.", "👎"])
def test_score_sentiment_is_the_cx_layers_score_where_plain_vader_misses(text):
    assert vader_sentiment(text).label != "negative"

    score = score_sentiment(text)

    assert (score.compound, score.label) == (analyse(text).compound, "negative")


def test_score_many_keeps_the_order_and_blank_texts_neutral():
    texts = ["Your agent hung up on me", "  ", "Brilliant engineer, fixed it in ten minutes"]

    assert [s.label for s in score_many(texts)] == ["negative", "neutral", "positive"]


# --- ingestion stores what the CX layer read -------------------------------------------


@pytest.mark.django_db
def test_a_text_only_complaint_is_stored_with_its_intents_explanation_and_lexicon_version(touchpoint):
    text = "Waited 3 weeks for an engineer who never showed up. I want to cancel my contract."
    expected = analyse(text)

    response = stored(feedback_ingest(item=item(comment=text)))

    assert response.sentiment == expected.compound and response.sentiment_label == "negative"
    assert response.intents == list(expected.intents)
    assert {"churn_risk", "complaint"} <= set(response.intents)
    assert response.explanation == [list(pair) for pair in expected.explanation]
    assert [term for term, effect in response.explanation if effect == "churn_risk"] == ["want to cancel"]
    assert response.lexicon_version == expected.lexicon_version != ""


@pytest.mark.django_db
def test_a_negated_churn_phrase_is_stored_without_churn_risk(touchpoint):
    response = stored(feedback_ingest(item=item(comment="I don't want to cancel, the new router is great")))

    assert "churn_risk" not in response.intents


@pytest.mark.django_db
def test_a_response_without_a_comment_has_no_sentiment_intents_or_lexicon(touchpoint):
    response = stored(feedback_ingest(item=item(comment="", nps=9)))

    assert (response.sentiment, response.sentiment_label) == (None, None)
    assert (response.intents, response.explanation, response.lexicon_version) == ([], [], "")


@pytest.mark.django_db
def test_a_batch_stores_each_items_own_reading(touchpoint):
    texts = ["Your agent hung up on me", "Thank you, the engineer was brilliant", "The parcel arrived on Tuesday"]

    outcomes = feedback_ingest_many(items=[item(n, comment=text) for n, text in enumerate(texts)])

    rows = [stored(outcome) for outcome in outcomes]
    assert [r.intents for r in rows] == [list(analyse(t).intents) for t in texts]
    assert [r.sentiment_label for r in rows] == ["negative", "positive", "neutral"]
    assert rows[0].intents == ["complaint"] and rows[1].intents == ["praise"] and rows[2].intents == []


@pytest.mark.django_db
def test_the_csv_import_stores_intents_too(touchpoint, tmp_path):
    path = tmp_path / "feedback.csv"
    path.write_text("touchpoint,source,external_id,comment\nfault-line,chat,c1,I'm switching to Sky next month\n")

    call_command("import_feedback", str(path), "--no-progress", stdout=StringIO(), stderr=StringIO())

    assert "churn_risk" in FeedbackResponse.objects.get(external_id="c1").intents


@pytest.mark.django_db
def test_the_fast_insert_writes_intents_explanation_and_version(touchpoint):
    # On PostgreSQL bulk_insert is a binary COPY: the JSON lists must go in as JSON.
    row = FeedbackResponse(
        touchpoint=touchpoint,
        source="t",
        external_id="e1",
        occurred_at=AT,
        comment="x",
        content_hash="h",
        intents=["churn_risk", "complaint"],
        explanation=[["cancel", "churn_risk"], ["hung up", "negative"]],
        lexicon_version="cx-1",
    )
    bulk_insert([row])

    back = FeedbackResponse.objects.get(pk=row.pk)
    assert back.intents == ["churn_risk", "complaint"]
    assert back.explanation == [["cancel", "churn_risk"], ["hung up", "negative"]]
    assert back.lexicon_version == "cx-1"


@pytest.mark.django_db
def test_erasure_empties_the_explanation_and_keeps_the_intents(touchpoint):
    response = stored(feedback_ingest(item=item(comment="Your agent hung up on me, I'm going to the ombudsman")))
    assert response.explanation

    customer_erase(customer_id=response.customer_id, actor_label="test")

    response.refresh_from_db()
    assert response.explanation == [] and response.comment != "Your agent hung up on me, I'm going to the ombudsman"
    assert "compliance_risk" in response.intents


# --- the API reply ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_api_reply_adds_intents_and_explanation(api, integration, touchpoint):
    response = api(token=integration).post("/api/v1/feedback/", item(comment="Your agent hung up on me"), format="json")

    assert response.status_code == 201
    data = response.json()
    assert data["intents"] == ["complaint"]
    assert ["hung up on", "negative"] in data["explanation"]


@pytest.mark.django_db
def test_the_bulk_api_stores_intents_and_the_list_returns_them(api, integration, lead, touchpoint):
    client = api(token=integration)
    reply = client.post(
        "/api/v1/feedback/bulk/",
        [item(1, comment="My data was leaked, I'm calling my lawyer"), item(2, comment="Lovely engineer, thanks")],
        format="json",
    )
    assert reply.status_code == 200

    listed = {row["external_id"]: row for row in api(lead).get("/api/v1/feedback/").json()["results"]}

    assert "compliance_risk" in listed["s1"]["intents"]
    assert listed["s2"]["intents"] == ["praise"]


# --- the feedback admin shows why ------------------------------------------------------------


@pytest.mark.django_db
def test_the_feedback_admin_shows_the_intents_and_why_in_words(client, cx_admin, touchpoint):
    response = stored(
        feedback_ingest(
            item=item(comment="Your agent hung up on me and never called back. I'm cancelling my contract.")
        )
    )
    client.force_login(cx_admin)

    page = client.get(f"/admin/feedback/feedbackresponse/{response.pk}/change/").content.decode()
    listing = client.get("/admin/feedback/feedbackresponse/").content.decode()

    assert "negative because: hung up on, never called back" in page
    assert "churn_risk: cancelling my contract" in page
    assert "churn_risk, complaint" in listing


def test_reasons_of_a_response_without_a_comment_are_empty():
    assert FeedbackResponse(nps=3).reasons() == ""
