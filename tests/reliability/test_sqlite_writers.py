"""The embedded default holds up under concurrent writers: on the SQLite file
database (WAL, IMMEDIATE transactions, a busy timeout) eight threads
ingesting at once queue for the write lock instead of failing with
"database is locked", and every item is stored exactly once, including items
and customers that several threads send at the same moment."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection

from feedback.models import CustomerIdentity, FeedbackResponse
from feedback.services import CREATED, DUPLICATE, feedback_ingest_many

pytestmark = [
    pytest.mark.sqlite,
    # Real threads need real commits; serialized rollback restores the roles
    # and permissions that migrations created, which the flush wipes.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

THREADS, BATCHES, OWN_PER_BATCH, SHARED_PER_BATCH, SHARED_KEYS = 8, 5, 30, 10, 40


def own_item(thread: int, batch: int, n: int) -> dict:
    return {
        "touchpoint": "fault-line",
        "source": "chat",
        "external_id": f"t{thread}-b{batch}-{n}",
        "nps": (thread + n) % 11,
        "comment": "Waited far too long on hold" if n % 3 else "",
        # Customers are shared across threads too: identities race.
        "customer": {"email": f"customer-{n % 12}@example.com"},
    }


def shared_item(key: int) -> dict:
    """The same content whichever thread sends it: a replay, not a conflict."""
    return {
        "touchpoint": "fault-line",
        "source": "chat",
        "external_id": f"shared-{key}",
        "nps": key % 11,
        "comment": "The engineer fixed it quickly",
        "customer": {"phone": f"+4420794600{key:02d}"},
    }


def batches_of(thread: int) -> list[list[dict]]:
    batches = []
    for batch in range(BATCHES):
        shared = [
            shared_item((thread * 7 + batch * SHARED_PER_BATCH + k) % SHARED_KEYS) for k in range(SHARED_PER_BATCH)
        ]
        batches.append([own_item(thread, batch, n) for n in range(OWN_PER_BATCH)] + shared)
    return batches


def test_sqlite_uses_wal_and_immediate_transactions(db):
    assert connection.vendor == "sqlite"
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"


def test_eight_concurrent_writers_store_every_item_exactly_once(touchpoint):
    barrier = threading.Barrier(THREADS)
    statuses: list[Counter] = [Counter() for _ in range(THREADS)]
    created_keys: list[list[str]] = [[] for _ in range(THREADS)]
    errors: list[BaseException | None] = [None] * THREADS

    def write(thread: int) -> None:
        try:
            connection.ensure_connection()
            barrier.wait(timeout=30)
            for batch in batches_of(thread):
                for item, outcome in zip(batch, feedback_ingest_many(items=batch)):
                    statuses[thread][outcome.status] += 1
                    if outcome.status == CREATED:
                        created_keys[thread].append(item["external_id"])
        except BaseException as exc:  # reported to the test, not lost in the thread
            errors[thread] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a writer hung"
    assert errors == [None] * THREADS, [repr(e) for e in errors if e]

    total = sum(statuses, Counter())
    assert set(total) <= {CREATED, DUPLICATE}, total  # no error, no conflict
    sent_keys = {item["external_id"] for t in range(THREADS) for b in batches_of(t) for item in b}
    own_keys = THREADS * BATCHES * OWN_PER_BATCH
    assert len(sent_keys) == own_keys + SHARED_KEYS
    # Each key was created by exactly one writer, once...
    created = Counter(key for keys in created_keys for key in keys)
    assert set(created) == sent_keys and set(created.values()) == {1}
    # ...and is one row in the database.
    stored = Counter(FeedbackResponse.objects.values_list("external_id", flat=True))
    assert set(stored) == sent_keys and set(stored.values()) == {1}
    # A shared customer is one customer, however many writers met them at once.
    identities = CustomerIdentity.objects.values_list("value", flat=True)
    assert len(identities) == len(set(identities)) == 12 + SHARED_KEYS
    per_customer = Counter(
        FeedbackResponse.objects.filter(customer__identities__value="customer-0@example.com").values_list(
            "customer_id", flat=True
        )
    )
    assert len(per_customer) == 1
