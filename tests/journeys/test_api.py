"""/api/v1/journeys/ and /api/v1/touchpoints/: read for callers, write for CX admins."""

from __future__ import annotations

import pytest

from journeys.models import Stage, Touchpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def web_touchpoint(journey, other_team):
    stage = Stage.objects.create(journey=journey, name="Discover", position=0)
    return Touchpoint.objects.create(stage=stage, name="Website", slug="website", channel="web", team=other_team)


@pytest.mark.parametrize("url", ["/api/v1/journeys/", "/api/v1/touchpoints/", "/api/v1/journeys/get-connected/"])
def test_anonymous_callers_are_refused(api, touchpoint, url):
    response = api().get(url)
    assert response.status_code == 401


def test_bad_token_is_refused(api, touchpoint):
    assert api(token="not-a-real-token").get("/api/v1/touchpoints/").status_code == 401


def test_token_reads_journeys_with_nested_stages_and_touchpoints_in_order(api, integration, touchpoint, web_touchpoint):
    response = api(token=integration).get("/api/v1/journeys/")
    assert response.status_code == 200
    [journey] = response.json()["results"]
    assert journey["slug"] == "get-connected"
    assert [s["name"] for s in journey["stages"]] == ["Discover", "Get help"]
    assert journey["stages"][1]["touchpoints"][0]["slug"] == "fault-line"
    assert journey["stages"][1]["touchpoints"][0]["team"] == "care"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"channel": "web"}, ["website"]),
        ({"channel": "call_center"}, ["fault-line"]),
        ({"team": "care"}, ["fault-line"]),
        ({"team": "stores"}, ["website"]),
        ({"journey": "get-connected"}, ["website", "fault-line"]),
        ({"journey": "no-such-journey"}, []),
    ],
)
def test_touchpoints_filter_by_channel_team_and_journey(api, integration, touchpoint, web_touchpoint, query, expected):
    response = api(token=integration).get("/api/v1/touchpoints/", query)
    assert response.status_code == 200
    assert [t["slug"] for t in response.json()["results"]] == expected


def test_unknown_channel_filter_is_a_400_naming_the_field(api, integration, touchpoint):
    response = api(token=integration).get("/api/v1/touchpoints/", {"channel": "pigeon"})
    assert response.status_code == 400
    assert "channel" in response.json()


def test_frontline_user_cannot_write(api, agent, touchpoint):
    response = api(agent).patch("/api/v1/touchpoints/fault-line/", {"name": "Renamed"}, format="json")
    assert response.status_code == 403
    touchpoint.refresh_from_db()
    assert touchpoint.name == "Fault line"


def test_token_cannot_write(api, integration, touchpoint):
    response = api(token=integration).delete("/api/v1/touchpoints/fault-line/")
    assert response.status_code == 403
    assert Touchpoint.objects.filter(slug="fault-line").exists()


def test_cx_admin_creates_a_touchpoint(api, cx_admin, stage, team, agent):
    response = api(cx_admin).post(
        "/api/v1/touchpoints/",
        {
            "slug": "chat",
            "name": "Chat",
            "stage": stage.pk,
            "channel": "chat",
            "team": "care",
            "default_owner": agent.username,
            "value_dimensions": ["functional"],
            "first_contact_sla_hours": 2,
            "resolution_sla_hours": 8,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert Touchpoint.objects.get(slug="chat").default_owner == agent


def test_api_write_with_owner_outside_team_names_the_field(api, cx_admin, stage, team, other_agent):
    response = api(cx_admin).post(
        "/api/v1/touchpoints/",
        {
            "slug": "chat",
            "name": "Chat",
            "stage": stage.pk,
            "channel": "chat",
            "team": "care",
            "default_owner": other_agent.username,
        },
        format="json",
    )
    assert response.status_code == 400
    assert "is not a member of the team" in response.json()["default_owner"][0]


def test_api_write_with_negative_sla_names_the_field(api, cx_admin, stage, team):
    response = api(cx_admin).post(
        "/api/v1/touchpoints/",
        {
            "slug": "chat",
            "name": "Chat",
            "stage": stage.pk,
            "channel": "chat",
            "team": "care",
            "first_contact_sla_hours": -1,
        },
        format="json",
    )
    assert response.status_code == 400
    assert "first_contact_sla_hours" in response.json()
