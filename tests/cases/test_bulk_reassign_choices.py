"""Bulk reassignment on All cases offers only people the manager may give cases to."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model

from cases.choices import EventKind

pytestmark = pytest.mark.django_db


def offered(client) -> list[str]:
    html = client.get("/cases/queue/all/").content.decode()
    select = re.search(r'<select name="owner"[^>]*>(.*?)</select>', html, re.S)
    assert select, "no bulk reassign select on All cases"
    return re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', select.group(1))


@pytest.fixture
def people(team, other_agent, outsider, integration, cx_admin):
    """A colleague in care, and a former one (inactive)."""
    users = get_user_model().objects
    colleague, former = users.create_user("colleague"), users.create_user("former", is_active=False)
    team.members.add(colleague, former)


def test_a_lead_is_offered_the_active_members_of_the_teams_they_lead(client, make_case, lead, people):
    make_case()
    client.force_login(lead)
    assert offered(client) == ["agent", "colleague", "lead"]


def test_a_cx_admin_is_offered_the_active_members_of_every_team(client, make_case, cx_admin, people):
    make_case()
    client.force_login(cx_admin)
    assert offered(client) == ["agent", "colleague", "other_agent"]


def test_an_owner_outside_the_choices_is_refused_and_nothing_moves(client, make_case, lead, other_agent, people):
    case = make_case()
    client.force_login(lead)
    response = client.post("/cases/bulk-reassign/", {"case": [case.pk], "owner": other_agent.pk}, follow=True)
    assert "Reassign selected to: Select a valid choice" in response.content.decode()
    case.refresh_from_db()
    assert case.owner.username == "agent"
    assert not case.events.filter(kind=EventKind.ASSIGNED, actor=lead).exists()
