"""The one ingestion service: validation, customers, idempotency, derivations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from feedback.models import Customer, CustomerIdentity, FeedbackResponse
from feedback.services import CONFLICT, CREATED, DUPLICATE, ERROR, feedback_ingest, feedback_ingest_many
from feedback.signals import responses_ingested

pytestmark = pytest.mark.django_db


def item(n: int = 1, **overrides) -> dict:
    base = {
        "touchpoint": "fault-line",
        "source": "survey",
        "external_id": f"r{n}",
        "nps": 3,
        "comment": "The agent was rude and I waited two hours",
        "customer": {"email": "ann@example.com", "name": "Ann"},
    }
    base.update(overrides)
    return base


def test_a_detractor_is_stored_with_derived_category_and_negative_sentiment(touchpoint):
    outcome = feedback_ingest(item=item())
    assert outcome.status == CREATED
    stored = FeedbackResponse.objects.get(pk=outcome.response.pk)
    assert (stored.nps_category, stored.sentiment_label) == ("detractor", "negative")
    assert stored.sentiment < -0.05
    assert stored.touchpoint == touchpoint and stored.customer.name == "Ann"


@pytest.mark.parametrize(
    ("nps", "category"),
    [(0, "detractor"), (6, "detractor"), (7, "passive"), (8, "passive"), (9, "promoter"), (10, "promoter")],
)
def test_nps_category_boundaries(touchpoint, nps, category):
    outcome = feedback_ingest(item=item(nps=nps))
    assert outcome.response.nps_category == category


@pytest.mark.parametrize(
    ("csat", "band"), [(1, "dissatisfied"), (2, "dissatisfied"), (3, "neutral"), (4, "satisfied"), (5, "satisfied")]
)
def test_csat_band_boundaries(touchpoint, csat, band):
    outcome = feedback_ingest(item=item(nps=None, csat=csat))
    assert outcome.response.csat_band == band


def test_a_score_without_comment_has_no_sentiment(touchpoint):
    outcome = feedback_ingest(item=item(comment=""))
    assert outcome.response.sentiment is None and outcome.response.sentiment_label is None


def test_replaying_the_same_content_creates_nothing(touchpoint):
    first = feedback_ingest(item=item())
    again = feedback_ingest(item=item())
    assert again.status == DUPLICATE
    assert again.response.pk == first.response.pk
    assert FeedbackResponse.objects.count() == 1


def test_replay_without_occurred_at_is_still_a_duplicate(touchpoint):
    feedback_ingest(item=item())
    assert feedback_ingest(item=item()).status == DUPLICATE


def test_same_key_with_different_content_is_a_conflict(touchpoint):
    feedback_ingest(item=item())
    outcome = feedback_ingest(item=item(nps=9))
    assert outcome.status == CONFLICT
    assert "external_id" in outcome.errors
    assert FeedbackResponse.objects.get().nps == 3


def test_the_same_external_id_from_another_source_is_a_new_response(touchpoint):
    feedback_ingest(item=item())
    assert feedback_ingest(item=item(source="chat")).status == CREATED


def test_valid_items_are_kept_when_others_fail(touchpoint):
    outcomes = feedback_ingest_many(items=[item(1), item(2, nps=11), item(3, touchpoint="nope"), item(4)])
    assert [o.status for o in outcomes] == [CREATED, ERROR, ERROR, CREATED]
    assert "nps" in outcomes[1].errors and "touchpoint" in outcomes[2].errors
    assert set(FeedbackResponse.objects.values_list("external_id", flat=True)) == {"r1", "r4"}


@pytest.mark.parametrize("field", ["comment", "external_id", "touchpoint"])
def test_a_lone_surrogate_is_refused_with_its_code_point(touchpoint, field):
    outcomes = feedback_ingest_many(items=[item(1, **{field: "fine \ud83d then"}), item(2)])
    assert [o.status for o in outcomes] == [ERROR, CREATED]
    assert outcomes[0].errors[field] == ["Contains an unpaired surrogate (U+D83D), which is not valid Unicode text."]


def test_a_lone_surrogate_in_a_customer_field_is_refused(touchpoint):
    outcome = feedback_ingest(item=item(customer={"email": "a@example.com", "name": "Ann \udfff"}))
    assert outcome.status == ERROR
    assert outcome.errors["customer"] == [
        "At name: contains an unpaired surrogate (U+DFFF), which is not valid Unicode text."
    ]


def test_a_key_repeated_inside_one_batch_is_stored_once(touchpoint):
    outcomes = feedback_ingest_many(items=[item(1), item(1), item(1, nps=10)])
    assert [o.status for o in outcomes] == [CREATED, DUPLICATE, CONFLICT]
    assert FeedbackResponse.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"nps": 11}, "nps"),
        ({"nps": -1}, "nps"),
        ({"csat": 0}, "csat"),
        ({"csat": 6}, "csat"),
        ({"ces": 8}, "ces"),
        ({"nps": "seven"}, "nps"),
        ({"nps": 7.5}, "nps"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"occurred_at": (timezone.now() + timedelta(days=1)).isoformat()}, "occurred_at"),
        ({"kind": "gossip"}, "kind"),
        ({"source": ""}, "source"),
        ({"external_id": ""}, "external_id"),
        ({"touchpoint": "nope"}, "touchpoint"),
        ({"customer": {"name": "No identity"}}, "customer"),
        ({"customer": {"email": "not-an-email"}}, "customer"),
        ({"customer": {"phone": "12"}}, "customer"),
        ({"metadata": [1, 2]}, "metadata"),
        ({"comment": "x" * 5001}, "comment"),
        ({"nps": None, "comment": ""}, "non_field_errors"),
    ],
)
def test_bad_input_is_refused_naming_the_field(touchpoint, overrides, field):
    outcome = feedback_ingest(item=item(**overrides))
    assert outcome.status == ERROR
    assert field in outcome.errors, outcome.errors
    assert not FeedbackResponse.objects.exists()


def test_a_known_identity_attaches_to_the_same_customer_across_channels(touchpoint):
    feedback_ingest(item=item(1, customer={"email": "Ann@Example.com", "phone": "+44 20 7946 0000"}))
    feedback_ingest(item=item(2, source="chat", customer={"phone": "+442079460000"}))
    feedback_ingest(item=item(3, source="social", customer={"email": "ann@example.com", "social": "@ann"}))
    assert Customer.objects.count() == 1
    customer = Customer.objects.get()
    assert customer.responses.count() == 3
    assert set(customer.identities.values_list("kind", "value")) == {
        ("email", "ann@example.com"),
        ("phone", "+442079460000"),
        ("social", "ann"),
    }


def test_customers_of_one_batch_sharing_an_identity_are_one_customer(touchpoint):
    feedback_ingest_many(
        items=[
            item(1, customer={"email": "bo@example.com"}),
            item(2, customer={"email": "bo@example.com", "external_id": "C-9"}),
            item(3, customer={"external_id": "C-9"}),
        ]
    )
    assert Customer.objects.count() == 1
    assert CustomerIdentity.objects.count() == 2


def test_an_identity_owned_by_another_customer_is_never_moved(touchpoint):
    feedback_ingest(item=item(1, customer={"email": "a@example.com"}))
    feedback_ingest(item=item(2, customer={"email": "b@example.com"}))
    feedback_ingest(item=item(3, customer={"email": "a@example.com", "external_id": "X"}))
    feedback_ingest(item=item(4, customer={"email": "b@example.com", "external_id": "X"}))
    owner_of_x = CustomerIdentity.objects.get(kind="external_id", value="X").customer
    assert owner_of_x == CustomerIdentity.objects.get(value="a@example.com").customer
    assert Customer.objects.count() == 2


def test_feedback_without_a_customer_is_accepted(touchpoint):
    outcome = feedback_ingest(item=item(customer=None))
    assert outcome.status == CREATED and outcome.response.customer is None


def test_a_batch_is_written_in_a_bounded_number_of_queries(touchpoint):
    items = [item(n, customer={"email": f"c{n % 50}@example.com"}) for n in range(300)]
    with CaptureQueriesContext(connection) as ctx:
        outcomes = feedback_ingest_many(items=items)
    assert all(o.status == CREATED for o in outcomes)
    # PostgreSQL: one query takes the ids, one COPY (not logged) writes the rows.
    inserts = [
        q
        for q in ctx.captured_queries
        if q["sql"].startswith('INSERT INTO "feedback_feedbackresponse"')
        or ("nextval" in q["sql"] and "'feedback_feedbackresponse'" in q["sql"])
    ]
    # SQLite caps the variables of one statement, so it needs a few batches.
    assert 1 <= len(inserts) <= (1 if connection.vendor == "postgresql" else 10)
    assert len(ctx.captured_queries) < 30
    assert Customer.objects.count() == 50


def test_ingested_signal_names_only_new_responses(touchpoint):
    seen = []

    def receiver(sender, response_ids, **kwargs):
        seen.append(list(response_ids))

    responses_ingested.connect(receiver)
    try:
        feedback_ingest_many(items=[item(1), item(2, nps=99)])
        feedback_ingest_many(items=[item(1), item(3)])
    finally:
        responses_ingested.disconnect(receiver)
    ids = dict(FeedbackResponse.objects.values_list("external_id", "pk"))
    assert seen == [[ids["r1"]], [ids["r3"]]]


def test_database_refuses_out_of_range_scores_even_bypassing_the_service(touchpoint):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        FeedbackResponse.objects.create(
            touchpoint=touchpoint, source="x", external_id="1", nps=12, occurred_at=timezone.now()
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        FeedbackResponse.objects.create(touchpoint=touchpoint, source="x", external_id="2", occurred_at=timezone.now())


def test_an_identity_taken_by_a_concurrent_request_merges_into_its_owner(touchpoint, monkeypatch):
    """Simulates the race: our lookup ran before another request stored the email."""
    from feedback import services

    owner = Customer.objects.create(name="First")
    CustomerIdentity.objects.create(customer=owner, kind="email", value="race@example.com")
    monkeypatch.setattr(services, "_known_identities", lambda wanted: {})
    outcome = feedback_ingest(item=item(customer={"email": "race@example.com", "phone": "+4420794600"}))
    assert outcome.status == CREATED
    assert outcome.response.customer == owner
    assert Customer.objects.count() == 1
    assert set(owner.identities.values_list("kind", flat=True)) == {"email", "phone"}
