"""CX admins configure journeys, stages and touchpoints in the Django admin."""

from __future__ import annotations

import pytest
from django.urls import reverse

from journeys.choices import JourneyState
from journeys.models import DEFAULT_VES_QUESTION, Journey, Stage, Touchpoint

pytestmark = pytest.mark.django_db


def touchpoint_fields(prefix: str, **values) -> dict:
    base = {
        "id": "",
        "stage": "",
        "position": "0",
        "name": "Store",
        "slug": "store",
        "channel": "store",
        "team": "",
        "default_owner": "",
        "listening_post": "on",
        "ves_question": DEFAULT_VES_QUESTION,  # as the form shows it, prefilled
        "first_contact_sla_hours": "24",
        "resolution_sla_hours": "72",
    }
    base.update(values)
    data = {f"{prefix}-{key}": value for key, value in base.items() if key != "value_dimensions"}
    if "value_dimensions" in values:
        data[f"{prefix}-value_dimensions"] = values["value_dimensions"]
    return data


def journey_post(stages: list[tuple[str, list[dict]]], **journey) -> dict:
    """The POST body of the journey add page: stages, each with touchpoints."""
    data = {
        "name": "Fix a fault",
        "slug": "fix-a-fault",
        "description": "",
        "state": "current",
        "active": "on",
        "position": "0",
        "based_on": "",
        "stages-TOTAL_FORMS": str(len(stages)),
        "stages-INITIAL_FORMS": "0",
        "stages-MIN_NUM_FORMS": "0",
        "stages-MAX_NUM_FORMS": "1000",
    }
    data.update(journey)
    for i, (stage_name, touchpoints) in enumerate(stages):
        data.update(
            {
                f"stages-{i}-id": "",
                f"stages-{i}-journey": "",
                f"stages-{i}-name": stage_name,
                f"stages-{i}-position": str(i),
            }
        )
        tp_prefix = f"stages-{i}-touchpoints"
        data.update(
            {
                f"{tp_prefix}-TOTAL_FORMS": str(len(touchpoints)),
                f"{tp_prefix}-INITIAL_FORMS": "0",
                f"{tp_prefix}-MIN_NUM_FORMS": "0",
                f"{tp_prefix}-MAX_NUM_FORMS": "1000",
            }
        )
        for j, tp in enumerate(touchpoints):
            data.update(touchpoint_fields(f"{tp_prefix}-{j}", position=str(j), **tp))
    return data


@pytest.fixture
def admin_client_for(client, cx_admin):
    client.force_login(cx_admin)
    return client


def test_admin_builds_a_journey_with_stages_and_touchpoints_on_one_page(admin_client_for, team, agent):
    data = journey_post(
        [
            (
                "Report",
                [
                    {
                        "name": "Fault line",
                        "slug": "ff-phone",
                        "channel": "call_center",
                        "team": team.pk,
                        "default_owner": agent.pk,
                        "value_dimensions": ["functional", "experiential"],
                    },
                    {"name": "Status page", "slug": "ff-status", "channel": "web", "team": team.pk},
                ],
            ),
            ("Repair", [{"name": "Engineer", "slug": "ff-visit", "channel": "field_visit", "team": team.pk}]),
        ]
    )
    response = admin_client_for.post(reverse("admin:journeys_journey_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    journey = Journey.objects.get(slug="fix-a-fault")
    stages = list(journey.stages.order_by("position"))
    assert [s.name for s in stages] == ["Report", "Repair"]
    assert [t.slug for t in stages[0].touchpoints.order_by("position")] == ["ff-phone", "ff-status"]
    phone = Touchpoint.objects.get(slug="ff-phone")
    assert phone.default_owner == agent
    assert phone.value_dimensions == ["experiential", "functional"]


def test_default_owner_outside_the_team_is_refused_on_the_field(admin_client_for, team, other_agent):
    data = journey_post(
        [
            (
                "Report",
                [
                    {
                        "name": "Fault line",
                        "slug": "ff-phone",
                        "channel": "call_center",
                        "team": team.pk,
                        "default_owner": other_agent.pk,
                    }
                ],
            )
        ]
    )
    response = admin_client_for.post(reverse("admin:journeys_journey_add"), data)
    assert response.status_code == 200
    assert "is not a member of the team" in response.content.decode()
    assert not Journey.objects.filter(slug="fix-a-fault").exists()


def test_duplicate_touchpoint_slug_across_stages_is_refused_not_a_500(admin_client_for, team):
    data = journey_post(
        [
            ("Report", [{"name": "A", "slug": "same", "channel": "web", "team": team.pk}]),
            ("Repair", [{"name": "B", "slug": "same", "channel": "web", "team": team.pk}]),
        ]
    )
    response = admin_client_for.post(reverse("admin:journeys_journey_add"), data)
    assert response.status_code == 200
    assert "is used by another touchpoint on this page" in response.content.decode()
    assert not Touchpoint.objects.exists()


def test_slug_already_used_by_another_touchpoint_is_refused(admin_client_for, team, touchpoint):
    data = journey_post([("Report", [{"name": "A", "slug": touchpoint.slug, "channel": "web", "team": team.pk}])])
    response = admin_client_for.post(reverse("admin:journeys_journey_add"), data)
    assert response.status_code == 200
    assert "Touchpoint with this Slug already exists" in response.content.decode()


def test_negative_sla_hours_are_refused_on_the_field(admin_client_for, team, stage):
    response = admin_client_for.post(
        reverse("admin:journeys_touchpoint_add"),
        {
            "stage": stage.pk,
            "name": "Chat",
            "slug": "chat",
            "position": "0",
            "channel": "chat",
            "team": team.pk,
            "first_contact_sla_hours": "-4",
            "resolution_sla_hours": "24",
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "first_contact_sla_hours" in errors
    assert not Touchpoint.objects.filter(slug="chat").exists()


def test_resolution_due_before_first_contact_is_refused(admin_client_for, team, stage):
    response = admin_client_for.post(
        reverse("admin:journeys_touchpoint_add"),
        {
            "stage": stage.pk,
            "name": "Chat",
            "slug": "chat",
            "position": "0",
            "channel": "chat",
            "team": team.pk,
            "first_contact_sla_hours": "48",
            "resolution_sla_hours": "24",
        },
    )
    assert response.status_code == 200
    assert "resolution_sla_hours" in response.context["adminform"].form.errors


def test_copy_action_makes_a_full_independent_future_state_copy(admin_client_for, touchpoint):
    original = touchpoint.stage.journey
    Stage.objects.create(journey=original, name="Discover", position=0)
    response = admin_client_for.post(
        reverse("admin:journeys_journey_changelist"),
        {"action": "copy_as_future_state", "_selected_action": [original.pk]},
    )
    assert response.status_code == 302
    copy = Journey.objects.get(based_on=original)
    assert copy.state == JourneyState.FUTURE
    assert [s.name for s in copy.stages.order_by("position")] == ["Discover", "Get help"]
    copied_tp = Touchpoint.objects.get(stage__journey=copy)
    assert (copied_tp.name, copied_tp.channel, copied_tp.team, copied_tp.default_owner) == (
        touchpoint.name,
        touchpoint.channel,
        touchpoint.team,
        touchpoint.default_owner,
    )
    assert copied_tp.slug != touchpoint.slug
    # Independent: changing the copy leaves the original as it was.
    copied_tp.name = "Redesigned fault line"
    copied_tp.save()
    copy.stages.filter(name="Discover").delete()
    touchpoint.refresh_from_db()
    assert touchpoint.name == "Fault line"
    assert original.stages.count() == 2


def test_frontline_user_cannot_reach_the_admin(client, agent):
    client.force_login(agent)
    response = client.get(reverse("admin:journeys_journey_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_admin_lists_filter_and_search(admin_client_for, touchpoint):
    url = reverse("admin:journeys_touchpoint_changelist")
    assert touchpoint.name in admin_client_for.get(url, {"channel__exact": "call_center"}).content.decode()
    assert touchpoint.name not in admin_client_for.get(url, {"channel__exact": "web"}).content.decode()
    assert touchpoint.name in admin_client_for.get(url, {"q": "fault"}).content.decode()
