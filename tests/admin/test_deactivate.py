"""Deactivating a person who owns open cases (issue 21): the admin asks who
takes them per team, reassigns each through the case services (one audit
event per case) and only then deactivates; all or nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from cases.choices import EventKind
from cases.models import Case, CaseEvent
from cases.services.people import person_deactivate
from cvx_site.errors import InvalidInput
from journeys.models import Touchpoint
from journeys.roles import FRONTLINE
from tests.cases import conftest as cases_fixtures
from tests.conftest import _make_user

pytestmark = pytest.mark.django_db

# Cases made the way production makes them (tests/cases/conftest.py).
detractor_rule = cases_fixtures.detractor_rule
make_case = cases_fixtures.make_case


@pytest.fixture
def care_mate(team):
    user = _make_user("care_mate", FRONTLINE)
    team.members.add(user)
    return user


@pytest.fixture
def stores_case(make_case, touchpoint, other_team, agent):
    """A case of `stores` owned by `agent`, who works in both teams."""
    other_team.members.add(agent)
    Touchpoint.objects.create(
        stage=touchpoint.stage,
        name="Store desk",
        slug="store-desk",
        channel="store",
        team=other_team,
        default_owner=agent,
    )
    case = make_case(touchpoint="store-desk")
    assert (case.team, case.owner) == (other_team, agent)
    return case


def _assigned_events(case: Case):
    return CaseEvent.objects.filter(case=case, kind=EventKind.ASSIGNED)


def test_deactivation_page_lists_open_cases_and_offers_team_members(client, cx_admin, agent, care_mate, make_case):
    case = make_case()
    client.force_login(cx_admin)
    page = client.get(reverse("admin:auth_user_deactivate", args=[agent.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert case.number in html
    choices = page.context["form"].fields[f"team_{case.team_id}"].queryset
    assert list(choices) == [care_mate]  # the person themselves is not offered


def test_deactivation_reassigns_every_open_case_with_an_event_each(
    client, cx_admin, agent, care_mate, other_team, make_case, stores_case
):
    stores_mate = _make_user("stores_mate", FRONTLINE)
    other_team.members.add(stores_mate)
    care_cases = [make_case(), make_case()]
    before = {c.pk: _assigned_events(c).count() for c in [*care_cases, stores_case]}
    client.force_login(cx_admin)
    response = client.post(
        reverse("admin:auth_user_deactivate", args=[agent.pk]),
        {f"team_{care_cases[0].team_id}": care_mate.pk, f"team_{other_team.pk}": stores_mate.pk, "note": "Left us"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    agent.refresh_from_db()
    assert agent.is_active is False
    for case, owner in [(care_cases[0], care_mate), (care_cases[1], care_mate), (stores_case, stores_mate)]:
        case.refresh_from_db()
        assert case.owner == owner
        events = _assigned_events(case)
        assert events.count() == before[case.pk] + 1
        event = events.order_by("-pk").first()
        assert (event.actor, event.data["owner"], event.note) == (cx_admin, owner.username, "Left us")
    assert not Case.objects.filter(owner=agent).exists()


def test_a_refused_reassignment_changes_nothing_and_names_the_case(
    cx_admin, agent, care_mate, team, other_team, make_case, stores_case
):
    care_case = make_case()
    events_before = CaseEvent.objects.count()
    # care_mate is not in stores: the second case's reassignment is refused.
    with pytest.raises(InvalidInput) as refused:
        person_deactivate(actor=cx_admin, person=agent, owners_by_team={team.pk: care_mate, other_team.pk: care_mate})
    assert stores_case.number in refused.value.message and "Nothing was changed" in refused.value.message
    assert CaseEvent.objects.count() == events_before
    care_case.refresh_from_db()
    stores_case.refresh_from_db()
    assert care_case.owner == agent and stores_case.owner == agent
    agent.refresh_from_db()
    assert agent.is_active is True


def test_a_team_without_a_chosen_owner_is_refused_on_the_page(client, cx_admin, agent, make_case):
    case = make_case()
    client.force_login(cx_admin)
    response = client.post(reverse("admin:auth_user_deactivate", args=[agent.pk]), {"note": ""})
    assert response.status_code == 200
    assert f"Choose who takes the cases of {case.team}" in response.content.decode()
    agent.refresh_from_db()
    assert agent.is_active is True


def test_unticking_active_on_the_form_is_refused_while_cases_are_open(client, cx_admin, agent, make_case):
    make_case()
    client.force_login(cx_admin)
    response = client.post(
        reverse("admin:auth_user_change", args=[agent.pk]),
        {"username": agent.username, "email": agent.email, "first_name": "", "last_name": "", "role": FRONTLINE},
    )
    assert response.status_code == 200
    assert "is_active" in response.context["adminform"].form.errors
    agent.refresh_from_db()
    assert agent.is_active is True


def test_a_person_without_open_cases_is_simply_deactivated(client, cx_admin, care_mate):
    client.force_login(cx_admin)
    response = client.post(reverse("admin:auth_user_deactivate", args=[care_mate.pk]), {"note": ""})
    assert response.status_code == 302
    assert get_user_model().objects.get(pk=care_mate.pk).is_active is False


def test_the_changelist_action_leads_to_the_deactivation_page(client, cx_admin, care_mate):
    client.force_login(cx_admin)
    response = client.post(
        reverse("admin:auth_user_changelist"), {"action": "deactivate_person", "_selected_action": [care_mate.pk]}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:auth_user_deactivate", args=[care_mate.pk])


def test_people_without_the_user_permission_cannot_deactivate(client, lead, care_mate):
    client.force_login(lead)
    response = client.post(reverse("admin:auth_user_deactivate", args=[care_mate.pk]), {"note": ""})
    assert response.status_code in (403, 404)
    care_mate.refresh_from_db()
    assert care_mate.is_active is True
