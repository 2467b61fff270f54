from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.http import HttpRequest

from journeys.choices import Channel
from journeys.models import Journey, Stage, Team, Touchpoint
from journeys.roles import ALL_ROLES

pytestmark = pytest.mark.django_db


def counts():
    return (Journey.objects.count(), Stage.objects.count(), Touchpoint.objects.count(), Team.objects.count(),
            get_user_model().objects.count())


def test_seed_demo_twice_leaves_one_demo_organisation(capsys):
    call_command("seed_demo", "--history", "30")
    first = counts()
    first_out = capsys.readouterr().out
    call_command("seed_demo", "--history", "30")
    assert counts() == first
    assert "agent.phone" in first_out
    assert "Demo logins exist already" in capsys.readouterr().out


def test_demo_has_six_stages_per_journey_touchpoints_on_every_channel_and_three_teams():
    call_command("seed_demo", "--history", "30")
    assert Journey.objects.count() >= 2
    for journey in Journey.objects.all():
        assert journey.stages.count() == 6
    assert set(Touchpoint.objects.values_list("channel", flat=True)) == set(Channel.values)
    for team in Team.objects.all():
        assert team.lead is not None and team.members.count() >= 2
    assert Team.objects.count() == 3


def test_demo_default_owners_are_members_of_their_teams():
    call_command("seed_demo", "--history", "30")
    for tp in Touchpoint.objects.exclude(default_owner=None):
        tp.full_clean()


def test_printed_demo_login_works(client, capsys):
    call_command("seed_demo", "--history", "30")
    line = next(l for l in capsys.readouterr().out.splitlines() if l.strip().startswith("admin "))
    username, password = line.split()
    assert client.login(request=HttpRequest(), username=username, password=password)  # axes needs a request


def test_reset_passwords_prints_new_ones(capsys):
    call_command("seed_demo", "--history", "30")
    capsys.readouterr()
    call_command("seed_demo", "--history", "30", "--reset-passwords")
    assert "agent.phone" in capsys.readouterr().out


def test_roles_exist_after_migrations_with_their_permissions():
    assert set(Group.objects.values_list("name", flat=True)) >= set(ALL_ROLES)
    admin_perms = set(Group.objects.get(name="CX admin").permissions.values_list("codename", flat=True))
    assert {"add_journey", "change_touchpoint", "delete_team"} <= admin_perms
    frontline = set(Group.objects.get(name="Frontline").permissions.values_list("codename", flat=True))
    assert "view_touchpoint" in frontline and "change_touchpoint" not in frontline


def test_demo_prints_a_working_integration_token_once(client, capsys):
    call_command("seed_demo", "--history", "30")
    out = capsys.readouterr().out
    token = next(l.split(": ", 1)[1] for l in out.splitlines() if l.startswith("API token of demo.integration"))
    response = client.get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200 and response.json()["results"]
    call_command("seed_demo", "--history", "30")
    assert "API token" not in capsys.readouterr().out


def test_demo_history_opens_assigned_cases_some_of_them_worked():
    from cases.models import Case

    call_command("seed_demo", "--history", "60")
    cases = Case.objects.all()
    assert cases.exists() and not cases.filter(owner__isnull=True).exists()
    assert cases.exclude(status="new").exists()
    from cases.audit import verify_all

    assert list(verify_all()) == []
