"""Draft journeys are not live, seen from cases: their feedback never opens
a case, while a case already open at a journey switched off since still
closes its loop (the follow-up belongs to the case)."""

from __future__ import annotations

import re

import pytest

from cases import services
from cases.choices import CaseOutcome, CaseStatus
from cases.models import Case
from journeys.choices import JourneyState
from journeys.models import Journey

pytestmark = pytest.mark.django_db
LINK = re.compile(r"http://[^/\s]+(/s/[^/\s]+/)")


@pytest.mark.parametrize("fields", [{"state": JourneyState.FUTURE}, {"active": False}], ids=["future", "inactive"])
def test_a_detractor_at_a_draft_touchpoint_opens_no_case(
    api, integration, touchpoint, detractor_rule, django_capture_on_commit_callbacks, fields
):
    detractor = {"touchpoint": "fault-line", "source": "survey", "nps": 0, "comment": "Awful"}
    Journey.objects.filter(pk=touchpoint.stage.journey_id).update(**fields)
    with django_capture_on_commit_callbacks(execute=True):
        refused = api(token=integration).post("/api/v1/feedback/", {**detractor, "external_id": "x1"}, format="json")
    assert refused.status_code == 400
    assert not Case.objects.exists()
    # The same feedback once the journey is live again opens its case: the rule matches.
    Journey.objects.filter(pk=touchpoint.stage.journey_id).update(state=JourneyState.CURRENT, active=True)
    with django_capture_on_commit_callbacks(execute=True):
        taken = api(token=integration).post("/api/v1/feedback/", {**detractor, "external_id": "x2"}, format="json")
    assert taken.status_code == 201
    assert Case.objects.get().feedback_id == taken.json()["id"]


def test_the_follow_up_of_a_case_at_a_journey_switched_off_since_closes_the_case(
    make_case, agent, root_cause, touchpoint, client, mailoutbox, django_capture_on_commit_callbacks
):
    case = make_case(nps=3)
    Journey.objects.filter(pk=touchpoint.stage.journey_id).update(active=False)
    with django_capture_on_commit_callbacks(execute=True):
        services.case_log_contact(case_id=case.pk, actor=agent, channel="phone", note="Called the customer")
        services.case_resolve(case_id=case.pk, actor=agent, root_cause=root_cause, note="Replaced the router")
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_FOLLOW_UP
    path = LINK.search(mailoutbox[-1].body).group(1)
    assert client.get(path).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        thanks = client.post(path, {"nps": "9", "csat": "5"})
    assert thanks.status_code == 200
    case.refresh_from_db()
    assert (case.status, case.outcome) == (CaseStatus.CLOSED, CaseOutcome.RECOVERED)
