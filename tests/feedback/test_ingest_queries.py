"""What one ingest reads: the customer is found through the (kind, value)
identity index, never by reading every customer's identities."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from feedback.models import Customer, CustomerIdentity
from feedback.services import CREATED, feedback_ingest, feedback_ingest_many

pytestmark = pytest.mark.django_db

CUSTOMERS = 4000


def item(n: int, customer: dict) -> dict:
    return {"touchpoint": "fault-line", "source": "survey", "external_id": f"q{n}", "nps": 3, "customer": customer}


def test_an_identity_matches_only_its_own_kind_and_value(touchpoint):
    """Kinds and values are looked up together: an email equal to another
    item's external id, or to a phone-kind value, is not that customer."""
    bob = Customer.objects.create(name="Bob")
    CustomerIdentity.objects.create(customer=bob, kind="email", value="bob@example.com")
    CustomerIdentity.objects.create(customer=bob, kind="external_id", value="crm-7")
    outcomes = feedback_ingest_many(
        items=[
            item(1, {"external_id": "bob@example.com", "name": "Not Bob"}),
            item(2, {"email": "carol@example.com", "name": "Carol"}),
            item(3, {"external_id": "crm-7"}),
        ]
    )
    assert [o.status for o in outcomes] == [CREATED] * 3
    not_bob, carol, also_bob = (o.response.customer for o in outcomes)
    assert not_bob.pk != bob.pk and not_bob.name == "Not Bob"
    assert carol.pk not in (bob.pk, not_bob.pk)
    assert also_bob.pk == bob.pk
    assert set(not_bob.identities.values_list("kind", "value")) == {("external_id", "bob@example.com")}


def fill_identities() -> list[Customer]:
    """CUSTOMERS customers with an email and a phone each, analysed."""
    customers = Customer.objects.bulk_create(Customer(name=f"Customer {i}") for i in range(CUSTOMERS))
    CustomerIdentity.objects.bulk_create(
        CustomerIdentity(customer=c, kind=kind, value=value)
        for i, c in enumerate(customers)
        for kind, value in (("email", f"c{i}@example.com"), ("phone", f"+4420{i:08d}"))
    )
    with connection.cursor() as cursor:  # ANALYZE, as the table's owner (tests/conftest.py)
        cursor.execute("SELECT cvx_test_analyze('feedback_customeridentity')")
        cursor.execute("SELECT cvx_test_analyze('feedback_customer')")
    return customers


def identity_plans(captured) -> list[str]:
    lookups = [q["sql"] for q in captured if 'FROM "feedback_customeridentity"' in q["sql"]]
    assert lookups, "the ingest looked no identity up"
    plans = []
    with connection.cursor() as cursor:
        for sql in lookups:
            cursor.execute(f"EXPLAIN {sql}")
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return plans


@pytest.mark.postgres
def test_a_returning_customer_is_found_through_the_identity_index(touchpoint):
    customers = fill_identities()
    with CaptureQueriesContext(connection) as ctx:
        outcome = feedback_ingest(item=item(1, {"email": "c1234@example.com"}))
    assert outcome.status == CREATED and outcome.response.customer_id == customers[1234].pk
    for plan in identity_plans(ctx.captured_queries):
        assert "Seq Scan on feedback_customeridentity" not in plan, plan
        assert "identity_unique" in plan, plan


@pytest.mark.postgres
def test_a_batch_finds_its_customers_through_the_identity_index_kind_by_kind(touchpoint):
    """Each kind's values are one range of the index: a batch mixing kinds
    probes each pair once, not every kind for every value."""
    customers = fill_identities()
    items = [
        item(n, {"email": f"c{n * 7}@example.com"} if n % 2 else {"phone": f"+4420{n * 7:08d}", "external_id": f"N{n}"})
        for n in range(40)
    ]
    with CaptureQueriesContext(connection) as ctx:
        outcomes = feedback_ingest_many(items=items)
    assert [o.response.customer_id for o in outcomes] == [customers[n * 7].pk for n in range(40)]
    for plan in identity_plans(ctx.captured_queries):
        assert "Seq Scan on feedback_customeridentity" not in plan, plan
        assert plan.count("Index Cond: (((kind)::text = ") == 3, plan
