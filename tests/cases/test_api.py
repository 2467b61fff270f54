"""/api/v1/cases/: the caller's scope, filters, cursor paging, events, transitions."""

from __future__ import annotations

import pytest

from cases.models import Case

pytestmark = pytest.mark.django_db
URL = "/api/v1/cases/"


def test_list_shows_only_the_callers_scope(api, make_case, agent, other_agent, outsider, cx_admin):
    case = make_case()
    assert [c["id"] for c in api(agent).get(URL).json()["results"]] == [case.pk]
    assert api(other_agent).get(URL).json()["results"] == []
    assert api(outsider).get(URL).json()["results"] == []
    assert [c["number"] for c in api(cx_admin).get(URL).json()["results"]] == [case.number]


def test_anonymous_is_refused(api, make_case):
    assert api().get(URL).status_code == 401


def test_a_case_outside_the_scope_is_404_for_detail_events_and_transitions(api, make_case, other_agent):
    case = make_case()
    client = api(other_agent)
    assert client.get(f"{URL}{case.pk}/").status_code == 404
    assert client.get(f"{URL}{case.pk}/events/").status_code == 404
    assert (
        client.post(f"{URL}{case.pk}/transitions/", {"action": "note", "note": "hi"}, format="json").status_code == 404
    )
    assert case.events.count() == 2


def test_detail_has_the_contract_fields_and_the_callers_actions(api, make_case, agent):
    case = make_case()
    data = api(agent).get(f"{URL}{case.pk}/").json()
    assert {
        "id",
        "number",
        "status",
        "outcome",
        "priority",
        "owner",
        "team",
        "customer",
        "touchpoint",
        "feedback",
        "first_contact_due",
        "resolve_due",
    } <= data.keys()
    assert data["owner"] == "agent" and data["team"] == "care" and data["feedback"] == case.feedback_id
    assert set(data["actions"]) == {"acknowledge", "log_contact", "note", "escalate", "resolve"}


def test_transition_returns_the_updated_case_and_writes_its_event(api, make_case, agent):
    case = make_case()
    response = api(agent).post(
        f"{URL}{case.pk}/transitions/",
        {"action": "log_contact", "channel": "phone", "note": "Agreed a callback"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["status"] == "contacted"
    events = api(agent).get(f"{URL}{case.pk}/events/").json()
    assert [e["kind"] for e in events] == ["case.opened", "case.assigned", "case.contacted"]
    assert events[-1]["actor"] == "agent" and events[0]["actor"] == "system"
    assert events[-1]["prev_hash"] == events[-2]["hash"]


def test_forbidden_transition_is_409_with_the_reason(api, make_case, lead):
    case = make_case()
    response = api(lead).post(f"{URL}{case.pk}/transitions/", {"action": "reopen", "note": "why"}, format="json")
    assert response.status_code == 409
    assert "cannot be reopened" in response.json()["detail"]


def test_role_forbidden_transition_is_403(api, make_case, agent):
    case = make_case()
    response = api(agent).post(f"{URL}{case.pk}/transitions/", {"action": "cancel", "note": "x"}, format="json")
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "fly"}, "action"),
        ({"action": "resolve", "note": "done"}, "root_cause"),
        ({"action": "cancel"}, "note"),
        ({"action": "log_contact", "channel": "pigeon", "note": "x"}, "channel"),
        ({"action": "reassign", "owner": "bob"}, "owner"),
        ({}, "action"),
    ],
)
def test_bad_transition_input_is_400_naming_the_field(api, make_case, lead, body, field):
    case = make_case()
    response = api(lead).post(f"{URL}{case.pk}/transitions/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_filters(api, make_case, agent, lead):
    mine, unassigned = make_case(), make_case(owner=None)
    client = api(lead)

    def ids(**query):
        return sorted(c["id"] for c in client.get(URL, query).json()["results"])

    assert ids(owner="none") == [unassigned.pk]
    assert api(agent).get(URL, {"owner": "me"}).json()["results"][0]["id"] == mine.pk
    assert ids(status="new") == sorted([mine.pk, unassigned.pk])
    assert ids(status="resolved") == []
    assert ids(team="care", touchpoint="fault-line", journey="get-connected") == sorted([mine.pk, unassigned.pk])
    assert ids(priority="urgent") == []
    assert ids(breached="true") == []
    assert client.get(URL, {"owner": "bob"}).status_code == 400


def test_breached_filter_finds_overdue_cases(api, make_case, lead):
    from datetime import timedelta

    from django.utils import timezone

    from cases.services import sla_sweep

    case = make_case()
    sla_sweep(now=timezone.now() + timedelta(days=3))
    assert [c["id"] for c in api(lead).get(URL, {"breached": "true"}).json()["results"]] == [case.pk]


def test_cursor_pages_follow_due_time(api, make_case, cx_admin):
    cases = [make_case() for _ in range(5)]
    client = api(cx_admin)
    page = client.get(URL, {"page_size": 2}).json()
    seen = [c["id"] for c in page["results"]]
    while page["next"]:
        page = client.get(page["next"]).json()
        seen += [c["id"] for c in page["results"]]
    expected = list(Case.objects.order_by("due_at", "id").values_list("pk", flat=True))
    assert seen == expected and len(seen) == len(cases)


def test_json_nested_beyond_the_decoder_is_400_on_every_endpoint(api, make_case, lead):
    """The bounded parser is the API's default, not only the feedback endpoints'."""
    case = make_case()
    deep = '{"action": ' + "[" * 5000 + "]" * 5000 + "}"
    response = api(lead).post(f"{URL}{case.pk}/transitions/", deep, content_type="application/json")
    assert response.status_code == 400
    assert case.events.count() == 2  # opened and assigned: nothing was recorded
