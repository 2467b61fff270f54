"""Survey requests under racing workers: the interaction's unique key keeps
one request, and the customer's row lock keeps the contact cap. Real
threads on real connections, so PostgreSQL only."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from feedback.choices import SurveyRequestStatus
from feedback.models import ContactRule, SurveyDefinition, SurveyInvitation, SurveyRequest, SurveyWording
from feedback.surveys.requests import survey_request_create

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("pg_audit_cleanup"),
]


@pytest.fixture
def definition(touchpoint):
    definition = SurveyDefinition.objects.create(touchpoint=touchpoint, ask_nps=True, ask_comment=False)
    SurveyWording.objects.create(definition=definition, language="en", title="How was it?", nps_question="Recommend?")
    return definition


def run_together(*calls):
    barrier = threading.Barrier(len(calls))
    results, errors = [None] * len(calls), [None] * len(calls)

    def run(i, call):
        try:
            connection.ensure_connection()
            barrier.wait(timeout=10)
            results[i] = call()
        except Exception as exc:  # reported to the test
            errors[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return results, errors


def _request(interaction_id: str):
    data = {"touchpoint": "fault-line", "customer": {"email": "race@example.com"}, "interaction_id": interaction_id}
    return lambda: survey_request_create(data=data)


def test_the_same_interaction_at_once_is_one_request(definition, mailoutbox):
    results, errors = run_together(_request("race-1"), _request("race-1"), _request("race-1"))
    assert errors == [None, None, None]
    assert SurveyRequest.objects.count() == 1 and SurveyInvitation.objects.count() == 1
    assert {r.request.pk for r in results} == {SurveyRequest.objects.get().pk}
    assert sorted(r.replay for r in results) == [False, True, True]
    assert len(mailoutbox) == 1


def test_the_contact_cap_holds_for_requests_at_once(definition):
    ContactRule.objects.update(active=False)
    ContactRule.objects.create(name="Once", max_surveys=1, period_days=30)
    results, errors = run_together(_request("race-a"), _request("race-b"), _request("race-c"))
    assert errors == [None, None, None]
    statuses = sorted(r.request.status for r in results)
    assert statuses == [SurveyRequestStatus.QUEUED, SurveyRequestStatus.SUPPRESSED, SurveyRequestStatus.SUPPRESSED]
    assert SurveyInvitation.objects.count() == 1
    assert {r.request.rule for r in results if r.request.status == SurveyRequestStatus.SUPPRESSED} == {"frequency_cap"}
