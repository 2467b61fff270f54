"""cvx_site.db.bulk_insert: binary COPY on PostgreSQL, bulk_create elsewhere,
with the same result either way."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, transaction

from cvx_site.db import bulk_insert
from feedback.models import Customer, CustomerIdentity, DailyScore, FeedbackResponse

pytestmark = pytest.mark.django_db

AT = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)


def _response(touchpoint, n: int, **extra) -> FeedbackResponse:
    return FeedbackResponse(
        touchpoint=touchpoint,
        source="test",
        external_id=f"e{n}",
        occurred_at=AT,
        nps=n % 11,
        comment=f"comment {n} – naïve ✓",
        metadata={"n": n, "tags": ["a", None]},
        content_hash="h",
        **extra,
    )


def test_rows_are_stored_with_their_ids_and_values(touchpoint):
    customer = Customer(name="Ada")  # assigned before it is saved, as the service does
    rows = [_response(touchpoint, 1), _response(touchpoint, 2, sentiment=-0.5)]
    rows[1].customer = customer
    bulk_insert([customer])
    returned = bulk_insert(rows)

    assert [r.pk for r in returned] == [r.pk for r in rows] and all(r.pk for r in rows)
    assert not rows[0]._state.adding
    stored = {r.pk: r for r in FeedbackResponse.objects.filter(pk__in=[r.pk for r in rows])}
    assert stored[rows[0].pk].customer_id is None
    assert stored[rows[1].pk].customer_id == customer.pk
    assert stored[rows[1].pk].metadata == {"n": 2, "tags": ["a", None]}
    assert stored[rows[1].pk].comment == "comment 2 – naïve ✓"
    assert stored[rows[1].pk].occurred_at == AT
    assert stored[rows[1].pk].sentiment == -0.5
    assert stored[rows[0].pk].sentiment is None
    assert stored[rows[0].pk].received_at == rows[0].received_at


def test_the_next_ordinary_insert_gets_a_fresh_id(touchpoint):
    rows = bulk_insert([_response(touchpoint, n) for n in range(3)])
    later = FeedbackResponse.objects.create(
        touchpoint=touchpoint, source="test", external_id="later", occurred_at=AT, nps=1
    )
    assert later.pk > max(r.pk for r in rows)


def test_a_constraint_violation_raises_integrity_error_and_writes_nothing(touchpoint):
    bulk_insert([_response(touchpoint, 1)])
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk_insert([_response(touchpoint, 2), _response(touchpoint, 1)])  # e1 again
    assert list(FeedbackResponse.objects.values_list("external_id", flat=True)) == ["e1"]


def test_unique_identities_are_enforced(db):
    customer = bulk_insert([Customer(name="Bo")])[0]
    bulk_insert([CustomerIdentity(customer=customer, kind="email", value="bo@example.com")])
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk_insert([CustomerIdentity(customer=customer, kind="email", value="bo@example.com")])


def test_an_unsaved_related_object_is_refused(touchpoint):
    row = _response(touchpoint, 1)
    row.customer = Customer(name="never saved")
    with pytest.raises(ValueError):
        bulk_insert([row])


def test_nothing_to_insert_is_nothing_written(db):
    assert bulk_insert([]) == []


@pytest.mark.postgres
def test_a_model_with_a_field_copy_cannot_take_is_refused_on_postgresql(touchpoint):
    # DailyScore.day is a DateField, which bulk_insert does not COPY: refused up front.
    with pytest.raises(TypeError, match=r"bulk_insert cannot COPY DailyScore fields \['day'\]"):
        bulk_insert([DailyScore(touchpoint=touchpoint, day=AT.date())])
    assert not DailyScore.objects.exists()
