"""Routing and case changes stay correct when workers race: row locks and
unique constraints, not luck, keep one case per response and an unbroken
audit chain. Real threads on real connections, so PostgreSQL only."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.db import connection

from cases import services
from cases.audit import verify_case
from cases.choices import EventKind, RoutingOutcome
from cases.models import Case, CaseEvent, RoutedResponse
from cvx_site.errors import Conflict
from feedback.models import FeedbackResponse
from feedback.services import feedback_ingest

pytestmark = [
    pytest.mark.postgres,
    # Serialized rollback restores the roles and permissions that migrations
    # created, which the flush after each test wipes.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("pg_audit_cleanup"),
]


@pytest.fixture
def routing_held():
    """Ingesting does not route on commit, so the test decides who routes when."""
    from cases.apps import queue_routing
    from feedback.signals import responses_ingested

    responses_ingested.disconnect(dispatch_uid="cases.queue_routing")
    yield
    responses_ingested.connect(queue_routing, dispatch_uid="cases.queue_routing")


def ingest(n: int, email: str | None = None) -> FeedbackResponse:
    outcome = feedback_ingest(
        item={
            "touchpoint": "fault-line",
            "source": "survey",
            "external_id": f"race-{n}",
            "nps": 1,
            "comment": "No line for a week",
            "customer": {"email": email or f"race-{n}@example.com"},
        }
    )
    assert outcome.status == "created", outcome.errors
    return outcome.response


def run_together(*calls: Callable[[], object]) -> tuple[list, list]:
    """Start every call at the same moment, each in its own thread with its
    own connection; (results, exceptions), in call order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list = [None] * len(calls)

    def run(i: int, call) -> None:
        try:
            connection.ensure_connection()  # connect first, so the calls themselves overlap
            barrier.wait(timeout=10)
            results[i] = call()
        except Exception as exc:  # reported to the test, not lost in the thread
            errors[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread hung (deadlock?)"
    return results, errors


def test_one_response_routed_by_two_workers_at_once_opens_one_case(routing_held, detractor_rule, touchpoint):
    response = ingest(1)
    results, errors = run_together(*[lambda: services.response_route(response_id=response.pk)] * 2)
    assert errors == [None, None]
    assert sorted(r is None for r in results) == [False, True]  # one routed it, the other saw that
    case = Case.objects.get()
    assert RoutedResponse.objects.get().case == case
    assert case.events.filter(kind=EventKind.OPENED).count() == 1


def test_routing_a_response_again_opens_nothing_and_leaves_nothing_pending(routing_held, detractor_rule, touchpoint):
    response = ingest(1)
    assert services.response_route(response_id=response.pk).outcome == RoutingOutcome.OPENED
    assert services.response_route(response_id=response.pk) is None
    assert services.responses_route_pending() == 0
    assert Case.objects.count() == 1 and RoutedResponse.objects.count() == 1


def test_two_detractors_of_one_customer_routed_at_once_share_one_case(routing_held, detractor_rule, touchpoint):
    first, second = ingest(1, "same@example.com"), ingest(2, "same@example.com")
    _, errors = run_together(
        lambda: services.response_route(response_id=first.pk), lambda: services.response_route(response_id=second.pk)
    )
    assert errors == [None, None]
    case = Case.objects.get()
    assert sorted(RoutedResponse.objects.values_list("outcome", flat=True)) == [
        RoutingOutcome.ATTACHED,
        RoutingOutcome.OPENED,
    ]
    assert set(RoutedResponse.objects.values_list("case", flat=True)) == {case.pk}
    assert case.events.filter(kind=EventKind.FEEDBACK_ATTACHED).count() == 1


def test_simultaneous_notes_all_land_in_one_unbroken_chain(make_case, agent):
    case = make_case()
    writers = 8
    _, errors = run_together(
        *[(lambda n=n: services.case_note(case_id=case.pk, actor=agent, note=f"note {n}")) for n in range(writers)]
    )
    assert errors == [None] * writers
    case.refresh_from_db()
    assert list(CaseEvent.objects.filter(case=case).order_by("seq").values_list("seq", flat=True)) == list(
        range(1, writers + 3)
    )  # opened, assigned, then the notes
    assert case.events.filter(kind=EventKind.NOTE).count() == writers
    assert case.audit_seq == writers + 2
    out = io.StringIO()
    call_command("verify_audit", stdout=out)  # exits 1 on a break
    assert "intact" in out.getvalue()


def test_only_one_of_two_simultaneous_acknowledgements_succeeds(make_case, agent):
    case = make_case()
    results, errors = run_together(*[lambda: services.case_acknowledge(case_id=case.pk, actor=agent)] * 2)
    assert sum(r is not None for r in results) == 1
    assert [type(e) for e in errors if e is not None] == [Conflict]
    assert case.events.filter(kind=EventKind.ACKNOWLEDGED).count() == 1
    assert verify_case(Case.objects.get(pk=case.pk)) == []
