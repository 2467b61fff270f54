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
    return (
        Journey.objects.count(),
        Stage.objects.count(),
        Touchpoint.objects.count(),
        Team.objects.count(),
        get_user_model().objects.count(),
    )


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
    line = next(row for row in capsys.readouterr().out.splitlines() if row.strip().startswith("admin "))
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


def test_demo_prints_a_working_integration_token_once(client, capsys, settings):
    settings.CVX_BASE_URL = "http://cvx.test:8123/"
    call_command("seed_demo", "--history", "30")
    out = capsys.readouterr().out
    token = next(row.split(": ", 1)[1] for row in out.splitlines() if row.startswith("API token of demo.integration"))
    assert "http://cvx.test:8123/api/v1/cases/" in out  # the example points at this install
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


# --- the demo's routing rules read text --------------------------------------------

TEXT_ONLY_COMPLAINTS = [
    "Never again. Cancel my contract.",
    "I waited 3 weeks for an engineer who never showed up",
    "Great service but the app keeps crashing",
    "Your agent hung up on me",
    "Charged twice this month and still no refund",
    "Broadband has been cutting out every night for a fortnight",
    "Had to call five times and explain the whole thing again each time",
    "Promised a call back on Monday, never happened",
    "Transferred between departments for an hour, nobody could help",
    "Speeds are nowhere near what you advertised",
    "I'm porting my number to another network",
    "Reporting this to the ombudsman",
    "My elderly mother is a vulnerable customer and you cut her off",
    "The bill went up again without any warning",
    "Router arrived broken 😡",
    "No signal at home since the upgrade",
]
TEXT_ONLY_PRAISE_OR_NEUTRAL = [
    "Thanks, the engineer was brilliant",
    "Quick and easy to set up",
    "Really happy with the new package 😊",
    "Not bad at all, the install went fine",
    "I don't want to cancel, I love the service",
    "Moved house last week",
    "Ordered the router on Tuesday",
    "Okay",
    "The technician sorted the fault within an hour, great job",
]


def route_text_only(comments: list[str]) -> list:
    """Each comment as social listening from its own customer (no score), routed by the demo's rules."""
    from cases.services import response_route
    from feedback.services import feedback_ingest

    routed = []
    for n, comment in enumerate(comments):
        outcome = feedback_ingest(
            item={
                "touchpoint": "gc-setup-line",
                "source": "social",
                "kind": "indirect",
                "external_id": f"text-{n}",
                "comment": comment,
                "customer": {"email": f"text-{n}@example.com"},
            }
        )
        assert outcome.status == "created", outcome.errors
        routed.append(response_route(response_id=outcome.response.pk))
    return routed


def test_the_demo_rules_open_cases_for_text_only_complaints():
    call_command("seed_demo", "--history", "0")
    routed = route_text_only(TEXT_ONLY_COMPLAINTS)
    missed = [c for c, r in zip(TEXT_ONLY_COMPLAINTS, routed) if r is None or r.case is None]
    assert missed == []


def test_the_demo_rules_open_no_case_for_text_only_praise_or_neutral_comments():
    call_command("seed_demo", "--history", "0")
    routed = route_text_only(TEXT_ONLY_PRAISE_OR_NEUTRAL)
    opened = [c for c, r in zip(TEXT_ONLY_PRAISE_OR_NEUTRAL, routed) if r.case is not None]
    assert opened == []


def test_the_demo_sends_compliance_risk_to_the_lead_and_churn_risk_as_urgent():
    from cases.choices import Priority

    call_command("seed_demo", "--history", "0")
    compliance, churn = route_text_only(["I'm taking this to the regulator", "I'm switching provider"])
    assert (compliance.rule.name, compliance.case.owner, compliance.case.priority) == (
        "Compliance risk",
        compliance.case.team.lead,
        Priority.HIGH,
    )
    assert (churn.rule.name, churn.case.priority) == ("Churn risk", Priority.URGENT)


def test_seeding_again_switches_off_the_keyword_rules_of_earlier_demos():
    from cases.models import RoutingRule

    RoutingRule.objects.create(name="Risk of leaving", keywords="cancel, leave")
    call_command("seed_demo", "--history", "0")
    assert not RoutingRule.objects.get(name="Risk of leaving").active
    assert not RoutingRule.objects.filter(active=True).exclude(keywords="").exists()


def test_the_demo_rules_meet_the_targets_on_the_held_out_labelled_comments():
    """bench/data/cx_comments.csv's holdout half, each comment alone with no
    score, through ingestion and the demo's rules: at least 90% of the
    complaints open a case, at most 5% of praise and neutral comments do."""
    import csv
    from pathlib import Path

    from feedback.text import is_complaint

    call_command("seed_demo", "--history", "0")
    with (Path(__file__).resolve().parents[2] / "bench" / "data" / "cx_comments.csv").open() as f:
        rows = [row for row in csv.DictReader(f) if row["split"] == "holdout"]
    routed = route_text_only([row["text"] for row in rows])
    complaint = [is_complaint(row["polarity"], row["intents"].split()) for row in rows]
    opened = [r.case is not None for r in routed]
    caught = sum(o for o, c in zip(opened, complaint) if c) / sum(complaint)
    false_cases = sum(o for o, c, row in zip(opened, complaint, rows) if not c) / sum(not c for c in complaint)
    assert caught >= 0.9 and false_cases <= 0.05, (caught, false_cases)
