"""Pages show only the viewer's scope (issue 14, point 7): the case page's
customer history lists only the feedback and cases the viewer's selectors
give them, as the API does; the managers' pages show no other team's data."""

from __future__ import annotations

import pytest

from tests.admin.conftest import MARKERS, ingest

pytestmark = pytest.mark.django_db

SHARED = {"email": "shared@example.com", "name": "Shared Person"}
CARE, STORES = MARKERS["care"], MARKERS["stores"]


@pytest.fixture
def shared_customer_case(negative_rule, touchpoint, stores_touchpoint, other_lead):
    """One customer of both teams: a stores case (cancelled) and stores
    praise, then earlier care feedback and the care case being looked at."""
    from cases.models import RoutedResponse
    from cases.services import case_transition

    praise = ingest(touchpoint=stores_touchpoint, marker=STORES, n=1, nps=9, customer=SHARED)
    complaint = ingest(touchpoint=stores_touchpoint, marker=STORES, n=2, nps=2, customer=SHARED)
    stores_case = RoutedResponse.objects.get(response=complaint).case
    case_transition(case_id=stores_case.pk, actor=other_lead, action="cancel", note="Sorted in the store.")
    earlier = ingest(touchpoint=touchpoint, marker=CARE, n=1, nps=8, customer=SHARED)
    care_case = RoutedResponse.objects.get(
        response=ingest(touchpoint=touchpoint, marker=CARE, n=2, nps=1, customer=SHARED)
    ).case
    assert care_case.customer_id == stores_case.customer_id is not None
    return {"case": care_case, "stores_case": stores_case, "praise": praise, "earlier": earlier}


def _history(client, case) -> dict:
    response = client.get(f"/cases/{case.pk}/")
    assert response.status_code == 200
    return {
        "feedback": {r.pk for r in response.context["earlier_feedback"]},
        "cases": {c.pk for c in response.context["other_cases"]},
        "body": response.content.decode(),
    }


def test_case_page_lists_only_the_customers_feedback_and_cases_the_viewer_may_see(
    shared_customer_case, agent, client, api
):
    world = shared_customer_case
    client.force_login(agent)
    seen = _history(client, world["case"])
    assert seen["feedback"] == {world["earlier"].pk}
    assert seen["cases"] == set()
    assert f"{CARE} feedback number 1" in seen["body"]
    assert STORES not in seen["body"] and world["stores_case"].number not in seen["body"]
    # The page and the API agree: what the page leaves out, the API answers 404 for.
    assert api(agent).get(f"/api/v1/feedback/{world['praise'].pk}/").status_code == 404
    assert api(agent).get(f"/api/v1/cases/{world['stores_case'].pk}/").status_code == 404


def test_case_page_shows_a_cx_admin_the_customers_whole_history(shared_customer_case, cx_admin, client):
    world = shared_customer_case
    client.force_login(cx_admin)
    seen = _history(client, world["case"])
    assert seen["feedback"] == {world["earlier"].pk, world["praise"].pk, world["stores_case"].feedback_id}
    assert seen["cases"] == {world["stores_case"].pk}
    assert f"{STORES} feedback number 1" in seen["body"]


def _body(response) -> str:
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    return raw.decode()


MANAGER_PAGES = [
    "/cases/queue/all/",
    "/cases/audit/",
    "/cases/audit/export.csv",
    "/cases/audit/verify/",
    "/cases/metrics/?group_by=touchpoint",
    "/cases/insights/",
    "/cases/insights/journeys/{journey}/",
    "/cases/insights/journeys/{journey}/map/",
    "/cases/insights/touchpoints/fault-line/",
    "/cases/insights/root-causes/",
]


@pytest.mark.parametrize("path", MANAGER_PAGES)
def test_manager_pages_show_a_lead_nothing_of_another_team(path, shared_customer_case, journey, lead, cx_admin, client):
    """The stores marker is in the cancelled case's note and the stores
    comments; a CX admin's audit page shows it, a care lead's pages never."""
    from cases.services import case_transition

    world = shared_customer_case
    case_transition(case_id=world["stores_case"].pk, actor=cx_admin, action="note", note=f"{STORES} note")
    client.force_login(cx_admin)
    assert STORES in _body(client.get("/cases/audit/"))
    client.force_login(lead)
    response = client.get(path.format(journey=journey.slug))
    assert response.status_code == 200
    assert STORES not in _body(response).lower()
