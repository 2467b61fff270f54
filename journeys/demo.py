"""The demo organisation's journeys, teams and people: a broadband provider.

`seed_journeys()` is safe to run again: rows are found by slug or username
and updated in place, never duplicated.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from journeys import roles
from journeys.choices import Channel, JourneyState, ValueDimension
from journeys.models import DEFAULT_VES_QUESTION, Journey, Stage, Team, Touchpoint

F, E, X, S = ValueDimension.FUNCTIONAL, ValueDimension.ECONOMIC, ValueDimension.EXPERIENTIAL, ValueDimension.SYMBOLIC
STAGES = ["Discover", "Research / compare", "Purchase", "Use", "Get help", "Evangelize"]

# username: (first name, last name, role, team slugs led, team slugs joined)
PEOPLE = {
    "admin": ("Ada", "Admin", roles.CX_ADMIN, [], []),
    "lead.digital": ("Dee", "Lead", roles.TEAM_LEAD, ["digital"], []),
    "lead.care": ("Cal", "Lead", roles.TEAM_LEAD, ["care"], []),
    "lead.stores": ("Sam", "Lead", roles.TEAM_LEAD, ["stores"], []),
    "agent.web": ("Wren", "Webb", roles.FRONTLINE, [], ["digital"]),
    "agent.social": ("Sol", "Reyes", roles.FRONTLINE, [], ["digital"]),
    "agent.phone": ("Pat", "Okafor", roles.FRONTLINE, [], ["care"]),
    "agent.chat": ("Chen", "Liu", roles.FRONTLINE, [], ["care"]),
    "agent.store": ("Stella", "Moore", roles.FRONTLINE, [], ["stores"]),
    "agent.field": ("Finn", "Walsh", roles.FRONTLINE, [], ["stores"]),
    "demo.integration": ("Demo", "Integration", roles.INTEGRATION, [], []),
}
TEAMS = {"digital": "Digital channels", "care": "Customer care", "stores": "Stores & field"}

# journey slug: (name, description, {stage: [(slug, name, channel, team, owner, dims, fc, res)]})
JOURNEYS = {
    "get-connected": (
        "Get connected",
        "From first hearing of us to a working connection at home.",
        {
            "Discover": [
                ("gc-social-ads", "Social media ads", Channel.SOCIAL, "digital", "agent.social", [S], 48, 120)
            ],
            "Research / compare": [
                ("gc-website", "Plans & coverage pages", Channel.WEB, "digital", "agent.web", [F, E], 24, 72),
                ("gc-chat-presales", "Pre-sales chat", Channel.CHAT, "care", "agent.chat", [F, X], 4, 24),
            ],
            "Purchase": [
                ("gc-checkout", "Online checkout", Channel.WEB, "digital", "agent.web", [F, E], 8, 48),
                ("gc-store-signup", "Store sign-up", Channel.STORE, "stores", "agent.store", [X], 24, 72),
            ],
            "Use": [
                (
                    "gc-install-visit",
                    "Engineer install visit",
                    Channel.FIELD_VISIT,
                    "stores",
                    "agent.field",
                    [F, X],
                    8,
                    48,
                ),
                ("gc-welcome-email", "Welcome email", Channel.EMAIL, "digital", None, [X], 48, 120),
            ],
            "Get help": [("gc-setup-line", "Set-up help line", Channel.CALL_CENTER, "care", "agent.phone", [F], 4, 24)],
            "Evangelize": [("gc-onboarding-survey", "30-day survey", Channel.SURVEY, "digital", None, [S], 72, 168)],
        },
    ),
    "fix-a-fault": (
        "Fix a fault",
        "When the connection drops: reporting, diagnosing and fixing it.",
        {
            "Discover": [("ff-status-page", "Service status page", Channel.WEB, "digital", "agent.web", [F], 24, 72)],
            "Research / compare": [
                ("ff-app-diagnostics", "App line test", Channel.MOBILE_APP, "digital", None, [F], 24, 72)
            ],
            "Purchase": [
                ("ff-kiosk-swap", "Router swap kiosk", Channel.KIOSK, "stores", "agent.store", [F, E], 24, 72)
            ],
            "Use": [("ff-ivr", "Fault line IVR", Channel.IVR, "care", None, [F], 8, 48)],
            "Get help": [
                ("ff-call-center", "Fault call center", Channel.CALL_CENTER, "care", "agent.phone", [F, X], 4, 24),
                (
                    "ff-engineer-visit",
                    "Repair engineer visit",
                    Channel.FIELD_VISIT,
                    "stores",
                    "agent.field",
                    [F],
                    8,
                    48,
                ),
            ],
            "Evangelize": [
                ("ff-social-mentions", "Outage mentions", Channel.SOCIAL, "digital", "agent.social", [S], 2, 24)
            ],
        },
    ),
    "move-home": (
        "Move home",
        "Taking the service to a new address.",
        {
            "Discover": [("mh-email-reminder", "Moving reminder email", Channel.EMAIL, "digital", None, [X], 48, 120)],
            "Research / compare": [
                ("mh-web-checker", "New address checker", Channel.WEB, "digital", "agent.web", [F], 24, 72)
            ],
            "Purchase": [
                ("mh-app-order", "Move order in the app", Channel.MOBILE_APP, "digital", None, [F, E], 24, 72)
            ],
            "Use": [
                ("mh-store-pickup", "Store equipment pick-up", Channel.STORE, "stores", "agent.store", [F], 24, 72)
            ],
            "Get help": [("mh-chat", "Moving help chat", Channel.CHAT, "care", "agent.chat", [F, X], 4, 24)],
            "Evangelize": [("mh-survey", "After-move survey", Channel.SURVEY, "care", None, [S, X], 72, 168)],
        },
    ),
}
# Touchpoints whose own surveys ask the Value Enhancement Score, in their words.
VES_QUESTIONS = {
    "gc-install-visit": "After the visit, I am better able to get the most out of my connection at home.",
    "gc-setup-line": "After this call, I am better able to set up and use my service.",
    "ff-call-center": "After this call, I am better able to sort out problems with my connection myself.",
    "mh-chat": "After this chat, I am better able to plan my move.",
}


@dataclass
class SeedResult:
    new_logins: dict[str, str] = field(default_factory=dict)
    new_token: str | None = None
    users: dict = field(default_factory=dict)
    teams: dict = field(default_factory=dict)
    touchpoints: dict = field(default_factory=dict)


@transaction.atomic
def seed_journeys(*, reset_passwords: bool = False) -> SeedResult:
    result = SeedResult()
    _seed_people(result, reset_passwords=reset_passwords)
    _seed_token(result, reset=reset_passwords)
    _seed_teams(result)
    for position, (slug, (name, description, stages)) in enumerate(JOURNEYS.items()):
        journey, _ = Journey.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "description": description,
                "state": JourneyState.CURRENT,
                "active": True,
                "position": position,
            },
        )
        for stage_pos, stage_name in enumerate(STAGES):
            stage, _ = Stage.objects.update_or_create(
                journey=journey, name=stage_name, defaults={"position": stage_pos}
            )
            for tp_pos, (tp_slug, tp_name, channel, team, owner, dims, fc, res) in enumerate(
                stages.get(stage_name, [])
            ):
                result.touchpoints[tp_slug], _ = Touchpoint.objects.update_or_create(
                    slug=tp_slug,
                    defaults={
                        "stage": stage,
                        "name": tp_name,
                        "position": tp_pos,
                        "channel": channel,
                        "team": result.teams[team],
                        "default_owner": result.users.get(owner),
                        "value_dimensions": sorted(dims),
                        "listening_post": True,
                        "asks_ves": tp_slug in VES_QUESTIONS,
                        "ves_question": VES_QUESTIONS.get(tp_slug, DEFAULT_VES_QUESTION),
                        "first_contact_sla_hours": fc,
                        "resolution_sla_hours": res,
                    },
                )
    return result


def _seed_people(result: SeedResult, *, reset_passwords: bool) -> None:
    User = get_user_model()
    for username, (first, last, role, _led, _joined) in PEOPLE.items():
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "email": f"{username}@demo.cvx.invalid"},
        )
        user.is_staff = role in (roles.CX_ADMIN, roles.TEAM_LEAD)
        user.is_superuser = username == "admin"
        if role == roles.INTEGRATION:
            user.set_unusable_password()  # a service account: it uses its API token
        elif created or reset_passwords:
            password = secrets.token_urlsafe(9)
            user.set_password(password)
            result.new_logins[username] = password
        user.save()
        user.groups.add(Group.objects.get(name=role))
        result.users[username] = user


def _seed_token(result: SeedResult, *, reset: bool) -> None:
    """An API token for the demo's integration, printed once like the logins."""
    from rest_framework.authtoken.models import Token

    user = result.users["demo.integration"]
    if reset:
        Token.objects.filter(user=user).delete()
    token, created = Token.objects.get_or_create(user=user)
    if created:
        result.new_token = token.key


def _seed_teams(result: SeedResult) -> None:
    for slug, name in TEAMS.items():
        team, _ = Team.objects.update_or_create(slug=slug, defaults={"name": name, "active": True})
        result.teams[slug] = team
    for username, (_first, _last, _role, led, joined) in PEOPLE.items():
        user = result.users[username]
        for slug in led:
            Team.objects.filter(pk=result.teams[slug].pk).update(lead=user)
        for slug in joined:
            result.teams[slug].members.add(user)
