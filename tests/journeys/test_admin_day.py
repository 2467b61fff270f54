"""The CX admin's day with journeys (issue 21): slugs prefilled and checked,
a compact journey form, drafts named once, and the service blueprint
(pain points, moments of truth, front and back stage) stored and shown."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.urls import reverse

from cvx_site.errors import InvalidInput
from journeys.choices import StageSide
from journeys.models import Journey, Stage, Team, Touchpoint
from journeys.roles import FRONTLINE, INTEGRATION, TEAM_LEAD
from journeys.services import journey_copy_as_future, person_set_teams_and_role
from tests.journeys.test_admin import journey_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_for(client, cx_admin):
    client.force_login(cx_admin)
    return client


def test_journey_page_prefills_slugs_from_names(admin_client_for):
    response = admin_client_for.get(reverse("admin:journeys_journey_add"))
    assert response.status_code == 200
    prepopulated = response.context["prepopulated_fields_json"]
    # The journey's own slug and each touchpoint's slug follow their name fields.
    assert '"id": "#id_slug"' in prepopulated and '"#id_name"' in prepopulated
    assert "touchpoints-__prefix__-slug" in prepopulated and "touchpoints-__prefix__-name" in prepopulated


def test_touchpoint_details_are_collapsed_and_the_line_is_short(admin_client_for, touchpoint):
    page = admin_client_for.get(reverse("admin:journeys_journey_change", args=[touchpoint.stage.journey.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    # SLAs, owner and VES are behind a collapsed "Details" section, stage notes too.
    assert html.count('class="module collapse') >= 2 or html.count("<details") >= 2
    assert "Pain points and moments of truth" in html


def test_journey_slug_clash_is_refused_on_the_field_with_the_owner_named(admin_client_for, journey):
    data = journey_post([], name="Another", slug=journey.slug)
    response = admin_client_for.post(reverse("admin:journeys_journey_add"), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "slug" in errors
    assert f"“{journey}” uses “{journey.slug}”" in errors["slug"][0]
    assert Journey.objects.count() == 1


def test_touchpoint_slug_clash_names_the_touchpoint_using_it(admin_client_for, team, touchpoint):
    data = journey_post([("Report", [{"name": "A", "slug": touchpoint.slug, "channel": "web", "team": team.pk}])])
    response = admin_client_for.post(reverse("admin:journeys_journey_add"), data)
    assert response.status_code == 200
    assert f"“{touchpoint}” uses “{touchpoint.slug}”" in response.content.decode()
    assert not Journey.objects.filter(slug="fix-a-fault").exists()


def test_team_slug_clash_is_refused_on_the_field(admin_client_for, team):
    response = admin_client_for.post(
        reverse("admin:journeys_team_add"),
        {"name": "Care two", "slug": team.slug, "active": "on"},
    )
    assert response.status_code == 200
    assert "slug" in response.context["adminform"].form.errors
    assert Team.objects.count() == 1


def test_copy_names_the_draft_once_and_numbers_the_second_copy(admin_client_for, touchpoint):
    original = touchpoint.stage.journey
    original.name = "Fix a fault"
    original.save()
    url = reverse("admin:journeys_journey_changelist")
    for _ in range(2):
        response = admin_client_for.post(url, {"action": "copy_as_future_state", "_selected_action": [original.pk]})
        assert response.status_code == 302
    names = list(Journey.objects.filter(based_on=original).order_by("pk").values_list("name", flat=True))
    assert names == ["Fix a fault — future state", "Fix a fault — future state 2"]
    listing = admin_client_for.get(url).content.decode()
    assert "(future state)" not in listing.replace("Fix a fault (current state)", "")
    assert str(Journey.objects.get(name="Fix a fault — future state")) == "Fix a fault — future state"


def test_stage_notes_and_touchpoint_side_are_stored_from_the_journey_page(admin_client_for, team):
    data = journey_post(
        [
            ("Report", [{"name": "Fault line", "slug": "ff-phone", "channel": "call_center", "team": team.pk}]),
            (
                "Repair",
                [{"name": "Parts policy", "slug": "ff-parts", "channel": "web", "team": team.pk, "side": "back"}],
            ),
        ]
    )
    data["stages-0-pain_points"] = "Long wait on hold"
    data["stages-0-moments_of_truth"] = "The first call is answered"
    data["stages-0-touchpoints-0-side"] = "front"
    response = admin_client_for.post(reverse("admin:journeys_journey_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    report = Stage.objects.get(journey__slug="fix-a-fault", name="Report")
    assert (report.pain_points, report.moments_of_truth) == ("Long wait on hold", "The first call is answered")
    assert Touchpoint.objects.get(slug="ff-phone").side == StageSide.FRONT
    assert Touchpoint.objects.get(slug="ff-parts").side == StageSide.BACK


def test_an_unknown_side_is_refused_on_the_field(admin_client_for, team):
    data = journey_post(
        [("Report", [{"name": "A", "slug": "a", "channel": "web", "team": team.pk, "side": "sideways"}])]
    )
    response = admin_client_for.post(reverse("admin:journeys_journey_add"), data)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Touchpoint.objects.exists()


def test_the_copy_keeps_the_blueprint(touchpoint):
    stage = touchpoint.stage
    stage.pain_points, stage.moments_of_truth = "Hold music", "Engineer arrives"
    stage.save()
    touchpoint.side = StageSide.BACK
    touchpoint.save()
    draft = journey_copy_as_future(journey=stage.journey)
    copied = Stage.objects.get(journey=draft)
    assert (copied.pain_points, copied.moments_of_truth) == ("Hold music", "Engineer arrives")
    assert Touchpoint.objects.get(stage=copied).side == StageSide.BACK


def test_journey_map_marks_back_stage_touchpoints_and_shows_stage_notes(client, lead, touchpoint, team):
    stage = touchpoint.stage
    stage.pain_points, stage.moments_of_truth = "Long wait on hold", "The first call is answered"
    stage.save()
    Touchpoint.objects.create(stage=stage, name="Parts policy", slug="parts", channel="web", team=team, side="back")
    client.force_login(lead)
    html = client.get(reverse("cases:insights-journey-map", args=[stage.journey.slug])).content.decode()
    assert 'class="tp-side tp-side-back"' in html and "Back stage" in html
    assert 'class="tp-side tp-side-front"' in html and "Front stage" in html
    assert "Long wait on hold" in html and "The first call is answered" in html


# --- people: team and role on one form ----------------------------------------


def test_adding_a_person_puts_them_in_teams_with_a_role_on_one_form(admin_client_for, team, other_team):
    response = admin_client_for.post(
        reverse("admin:auth_user_add"),
        {
            "username": "newlead",
            "usable_password": "true",
            "password1": "a-Long-test-passw0rd",
            "password2": "a-Long-test-passw0rd",
            "teams": [team.pk, other_team.pk],
            "role": TEAM_LEAD,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    person = get_user_model().objects.get(username="newlead")
    assert set(person.teams.all()) == {team, other_team}
    assert list(person.groups.values_list("name", flat=True)) == [TEAM_LEAD]
    assert person.is_staff is True  # leads use the admin
    assert LogEntry.objects.filter(object_id=str(person.pk)).exists()


def test_changing_the_role_replaces_the_old_one_and_staff_follows(admin_client_for, lead, team, other_team):
    response = admin_client_for.post(
        reverse("admin:auth_user_change", args=[lead.pk]),
        {
            "username": lead.username,
            "email": lead.email,
            "first_name": "",
            "last_name": "",
            "is_active": "on",
            "teams": [other_team.pk],
            "role": FRONTLINE,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    lead.refresh_from_db()
    assert list(lead.teams.all()) == [other_team]
    assert list(lead.groups.values_list("name", flat=True)) == [FRONTLINE]
    assert lead.is_staff is False


def test_a_cx_admin_cannot_grant_superuser_or_raw_permissions(admin_client_for, agent, team):
    response = admin_client_for.post(
        reverse("admin:auth_user_change", args=[agent.pk]),
        {
            "username": agent.username,
            "email": agent.email,
            "is_active": "on",
            "is_superuser": "on",
            "is_staff": "on",
            "teams": [team.pk],
            "role": FRONTLINE,
        },
    )
    assert response.status_code == 302
    agent.refresh_from_db()
    assert (agent.is_superuser, agent.is_staff) == (False, False)
    form = admin_client_for.get(reverse("admin:auth_user_change", args=[agent.pk])).context["adminform"].form
    assert not {"is_superuser", "user_permissions", "groups", "is_staff"} & set(form.fields)


def test_a_cx_admin_does_not_see_superuser_accounts(admin_client_for):
    root = get_user_model().objects.create_superuser("rootzeta", "rootzeta@example.com", "a-Long-test-passw0rd")
    response = admin_client_for.get(reverse("admin:auth_user_change", args=[root.pk]))
    assert response.status_code == 302  # "does not exist", back to the list
    listed = admin_client_for.get(reverse("admin:auth_user_changelist")).context["cl"].result_list
    assert root not in listed and len(listed) >= 1


def test_an_unknown_role_is_refused_by_the_service(agent):
    with pytest.raises(InvalidInput) as refused:
        person_set_teams_and_role(person=agent, teams=[], role=INTEGRATION)
    assert refused.value.field == "role"
    assert list(agent.groups.values_list("name", flat=True)) == [FRONTLINE]
