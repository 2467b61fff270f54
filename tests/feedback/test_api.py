"""/api/v1/feedback/, /api/v1/feedback/bulk/ and /api/v1/customers/."""

from __future__ import annotations

import pytest

from feedback.models import FeedbackResponse
from feedback.services import feedback_ingest
from journeys.models import Touchpoint

pytestmark = pytest.mark.django_db

URL = "/api/v1/feedback/"


def body(n: int = 1, **overrides) -> dict:
    data = {
        "touchpoint": "fault-line",
        "source": "survey",
        "external_id": f"r{n}",
        "nps": 2,
        "comment": "The agent was rude and I waited two hours",
        "customer": {"email": "ann@example.com"},
    }
    data.update(overrides)
    return data


@pytest.fixture
def other_touchpoint(touchpoint, other_team):
    return Touchpoint.objects.create(
        stage=touchpoint.stage, name="Store", slug="store", channel="store", team=other_team
    )


def test_post_creates_and_returns_the_derived_fields(api, integration, touchpoint):
    response = api(token=integration).post(URL, body(), format="json")
    assert response.status_code == 201
    data = response.json()
    assert data["nps_category"] == "detractor" and data["sentiment_label"] == "negative"
    assert {"id", "sentiment", "received_at"} <= data.keys()


def test_replay_returns_the_stored_response_with_200(api, integration, touchpoint):
    client = api(token=integration)
    first = client.post(URL, body(), format="json").json()
    again = client.post(URL, body(), format="json")
    assert again.status_code == 200 and again.json()["id"] == first["id"]
    assert FeedbackResponse.objects.count() == 1


def test_reused_key_with_other_content_is_409(api, integration, touchpoint):
    client = api(token=integration)
    client.post(URL, body(), format="json")
    response = client.post(URL, body(nps=10), format="json")
    assert response.status_code == 409
    assert "external_id" in response.json()


def test_invalid_input_is_400_with_field_messages(api, integration, touchpoint):
    response = api(token=integration).post(URL, body(nps=11, csat=0), format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"nps", "csat"}


@pytest.mark.parametrize("payload", ["[1, 2]", '"text"', "{not json"])
def test_non_object_bodies_are_400_not_500(api, integration, touchpoint, payload):
    response = api(token=integration).post(URL, payload, content_type="application/json")
    assert response.status_code == 400


def test_anonymous_cannot_post_or_list(api, touchpoint):
    assert api().post(URL, body(), format="json").status_code == 401
    assert api().get(URL).status_code == 401


def test_frontline_user_cannot_post_feedback(api, agent, touchpoint):
    assert api(agent).post(URL, body(), format="json").status_code == 403
    assert not FeedbackResponse.objects.exists()


def test_bulk_keeps_valid_items_and_answers_per_item_in_order(api, integration, touchpoint):
    items = [body(1), body(2, nps=42), body(1), body(3, touchpoint="nope"), body(4, csat=5, nps=None), "junk"]
    response = api(token=integration).post(URL + "bulk/", items, format="json")
    assert response.status_code == 200
    data = response.json()
    assert [r["status"] for r in data["results"]] == ["created", "error", "duplicate", "error", "created", "error"]
    assert [r["index"] for r in data["results"]] == list(range(6))
    assert (data["created"], data["duplicate"], data["error"]) == (2, 1, 3)
    assert "nps" in data["results"][1]["errors"] and "touchpoint" in data["results"][3]["errors"]
    assert data["results"][2]["id"] == data["results"][0]["id"]
    assert FeedbackResponse.objects.count() == 2


def test_bulk_replayed_creates_nothing_more(api, integration, touchpoint):
    client = api(token=integration)
    items = [body(n) for n in range(20)]
    client.post(URL + "bulk/", items, format="json")
    data = client.post(URL + "bulk/", items, format="json").json()
    assert data["duplicate"] == 20 and data["created"] == 0
    assert FeedbackResponse.objects.count() == 20


def test_bulk_conflict_is_an_error_naming_external_id(api, integration, touchpoint):
    client = api(token=integration)
    client.post(URL, body(), format="json")
    data = client.post(URL + "bulk/", [body(nps=9)], format="json").json()
    assert data["results"][0]["status"] == "error" and "external_id" in data["results"][0]["errors"]


@pytest.mark.parametrize(("payload", "reason"), [({"a": 1}, "Expected a JSON list"), ([], "between 1 and 1000")])
def test_bulk_refuses_a_non_list_or_empty_list(api, integration, touchpoint, payload, reason):
    response = api(token=integration).post(URL + "bulk/", payload, format="json")
    assert response.status_code == 400
    assert reason in response.json()["non_field_errors"][0]


def test_bulk_refuses_more_than_1000_items(api, integration, touchpoint):
    response = api(token=integration).post(URL + "bulk/", [body(n) for n in range(1001)], format="json")
    assert response.status_code == 400
    assert not FeedbackResponse.objects.exists()


def test_list_filters(api, integration, touchpoint, other_touchpoint):
    client = api(token=integration)
    client.post(
        URL + "bulk/", [body(1), body(2, nps=10, comment="Great, thanks!"), body(3, touchpoint="store")], format="json"
    )

    def ids(**query):
        return sorted(r["external_id"] for r in client.get(URL, query).json()["results"])

    assert ids() == ["r1", "r2", "r3"]
    assert ids(touchpoint="store") == ["r3"]
    assert ids(nps_category="promoter") == ["r2"]
    assert ids(sentiment_label="negative") == ["r1", "r3"]
    assert ids(team="care") == ["r1", "r2"]
    assert ids(journey="get-connected") == ["r1", "r2", "r3"]


def test_frontline_sees_only_feedback_of_their_teams_touchpoints(api, agent, other_agent, touchpoint, other_touchpoint):
    feedback_ingest(item=body(1))
    feedback_ingest(item=body(2, touchpoint="store"))
    assert [r["external_id"] for r in api(agent).get(URL).json()["results"]] == ["r1"]
    assert [r["external_id"] for r in api(other_agent).get(URL).json()["results"]] == ["r2"]
    other_id = FeedbackResponse.objects.get(external_id="r2").pk
    assert api(agent).get(f"{URL}{other_id}/").status_code == 404


def test_outsider_sees_no_feedback_and_no_customers(api, outsider, touchpoint):
    feedback_ingest(item=body(1))
    assert api(outsider).get(URL).json()["count"] == 0
    assert api(outsider).get("/api/v1/customers/").json()["count"] == 0


def test_customers_are_found_by_any_identity(api, integration, touchpoint):
    feedback_ingest(item=body(1, customer={"email": "Ann@Example.com", "phone": "+44 7700 900123", "name": "Ann"}))
    feedback_ingest(item=body(2, customer={"email": "bo@example.com"}))
    client = api(token=integration)
    by_phone = client.get("/api/v1/customers/", {"phone": "+447700900123"}).json()["results"]
    by_email = client.get("/api/v1/customers/", {"email": "ANN@example.com"}).json()["results"]
    assert [c["name"] for c in by_phone] == ["Ann"] and by_email == by_phone


def test_ingest_is_throttled_per_token(api, integration, touchpoint, settings):
    from rest_framework.settings import api_settings
    from rest_framework.throttling import ScopedRateThrottle

    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "ingest": "3/min"}
    original = ScopedRateThrottle.THROTTLE_RATES
    ScopedRateThrottle.THROTTLE_RATES = rates
    try:
        client = api(token=integration)
        codes = [client.post(URL, body(n), format="json").status_code for n in range(5)]
    finally:
        ScopedRateThrottle.THROTTLE_RATES = original
    assert codes == [201, 201, 201, 429, 429]
    assert FeedbackResponse.objects.count() == 3


def test_themes_count_negative_comments_of_the_filtered_feedback(api, integration, touchpoint, other_touchpoint):
    client = api(token=integration)
    client.post(
        URL + "bulk/",
        [
            body(1, comment="Terrible wait times, the agent was rude"),
            body(2, comment="Awful: the agent was rude and unhelpful"),
            body(3, comment="Lovely staff, great service", nps=10),
            body(4, touchpoint="store", comment="Horrible queue, rude agent"),
        ],
        format="json",
    )
    data = client.get(URL + "themes/", {"touchpoint": "fault-line"}).json()
    counts = {t["phrase"]: t["count"] for t in data["themes"]}
    assert data["comments_read"] == 2
    assert counts["rude"] == 2 and counts["agent"] == 2
    assert "lovely" not in counts and "queue" not in counts


def test_themes_report_topics_and_leave_their_terms_out_of_the_unassigned_ones(api, integration, touchpoint):
    from feedback.lexicon import topic_save

    topic_save(actor=None, name="Billing", phrases=["bill", "charged ... twice"])
    client = api(token=integration)
    client.post(
        URL + "bulk/",
        [
            body(1, comment="Charged me twice this month, awful"),
            body(2, comment="My bill is wrong again, terrible"),
            body(3, comment="Happy with the bill now, thanks", nps=10),
            body(4, comment="Engineer never showed up, awful"),
        ],
        format="json",
    )
    data = client.get(URL + "themes/").json()
    billing = next(t for t in data["topics"] if t["name"] == "Billing")
    assert (billing["volume"], billing["negative"]) == (3, 2)
    assert sum(week["volume"] for week in billing["trend"]) == 3
    terms = {t["phrase"] for t in data["themes"]}
    assert data["comments_read"] == 1 and "engineer" in terms and "bill" not in terms


def test_themes_refuse_a_bad_top(api, integration, touchpoint):
    response = api(token=integration).get(URL + "themes/", {"top": "lots"})
    assert response.status_code == 400 and "top" in response.json()


def test_feedback_is_read_only_in_the_admin(client, cx_admin, touchpoint):
    outcome = feedback_ingest(item=body(1))
    client.force_login(cx_admin)
    assert client.get("/admin/feedback/feedbackresponse/").status_code == 200
    assert client.get("/admin/feedback/feedbackresponse/add/").status_code == 403
    response = client.post(f"/admin/feedback/feedbackresponse/{outcome.response.pk}/change/", {"nps": 10})
    assert response.status_code == 403
    assert FeedbackResponse.objects.get().nps == 2
