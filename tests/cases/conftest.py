"""Fixtures for the cases tests: a root cause, the detractor rule, cases made
the way production makes them (ingest, then route), and the teardown that
lets transactional tests on PostgreSQL flush an append-only audit table."""

from __future__ import annotations

import itertools

import pytest
from django.db import connections

# Marks "the touchpoint's default owner" in make_case; None means unassigned.
_TOUCHPOINT_DEFAULT = object()


@pytest.fixture
def root_cause(db):
    from cases.models import RootCause

    network = RootCause.objects.create(name="Network")
    return RootCause.objects.create(name="Line fault", parent=network)


@pytest.fixture
def detractor_rule(db):
    from cases.choices import AssignmentStrategy
    from cases.models import RoutingRule

    return RoutingRule.objects.create(name="Detractors", position=10, nps_at_most=6,
                                      strategy=AssignmentStrategy.DEFAULT_OWNER)


@pytest.fixture
def make_case(detractor_rule, touchpoint):
    """make_case(owner=..., **item) -> Case: ingest a detractor response at
    "fault-line" from a new customer and route it. The owner is the
    touchpoint's default owner (`agent`) unless `owner` says otherwise (None:
    unassigned); `item` overrides fields of the ingested item.

    The case arrives settled: the after-commit work of its making (the
    routing task, the assignment email) is not left queued for a test that
    captures on-commit callbacks around a later action. In a transactional
    test that work has already run at commit."""
    from cases.models import RoutedResponse
    from cases.services import response_route
    from feedback.services import feedback_ingest
    from journeys.models import Touchpoint

    numbers = itertools.count(1)

    def make(*, owner=_TOUCHPOINT_DEFAULT, **item):
        n = next(numbers)
        item = {"touchpoint": "fault-line", "source": "survey", "external_id": f"make-case-{n}", "nps": 2,
                "comment": "The line dropped again", "customer": {"email": f"make-case-{n}@example.com"},
                **item}
        default_owner_id = touchpoint.default_owner_id
        connection = connections["default"]
        queued_before = len(connection.run_on_commit)
        if owner is not _TOUCHPOINT_DEFAULT:
            Touchpoint.objects.filter(pk=touchpoint.pk).update(default_owner=owner)
        try:
            outcome = feedback_ingest(item=item)
            assert outcome.status == "created", outcome.errors
            # In a transactional test the ingest's own routing task has already
            # run after commit; routing again is then a no-op.
            response_route(response_id=outcome.response.pk)
        finally:
            Touchpoint.objects.filter(pk=touchpoint.pk).update(default_owner=default_owner_id)
        del connection.run_on_commit[queued_before:]
        case = RoutedResponse.objects.select_related("case").get(response=outcome.response).case
        assert case is not None, "the detractor rule did not route the response to a case"
        return case

    return make


# Tables named here are flushed with the trigger off, inside the flush's transaction.
_DISABLE = "ALTER TABLE cases_caseevent DISABLE TRIGGER USER"
_ENABLE = "ALTER TABLE cases_caseevent ENABLE TRIGGER USER"


@pytest.fixture
def pg_audit_cleanup(transactional_db):
    """For transactional tests on PostgreSQL. Django's flush after such a test
    TRUNCATEs every table, which the append-only trigger refuses even when
    cases_caseevent is empty (it is a statement trigger). Requesting
    `transactional_db` makes this teardown run before that flush.

    At teardown: empty cases_caseevent (and, by CASCADE, cases_notification)
    with the user triggers off, and arrange for the flush that follows to run
    with them off too, in the flush's own transaction, so the trigger is
    back on when it commits or rolls back."""
    yield
    connection = connections["default"]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(_DISABLE)
        cursor.execute("TRUNCATE cases_caseevent CASCADE")
        cursor.execute(_ENABLE)
    ops = connection.ops

    def flush_with_trigger_off(sql_list):
        del ops.execute_sql_flush  # once only: back to the class's method
        ops.execute_sql_flush([_DISABLE, *sql_list, _ENABLE])

    ops.execute_sql_flush = flush_with_trigger_off
