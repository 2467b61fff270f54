"""Fixtures for the admin tests: the staff roles beside those of
tests/conftest.py, and a world of customer data in two teams."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tests.conftest import _make_user

# One word per team, written into every text of its customer data (name,
# email, comment, note, external id): a page that shows it shows that team's data.
MARKERS = {"care": "carezeta", "stores": "storezeta"}


@pytest.fixture
def superuser(db):
    user = _make_user("root", None, staff=True)
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    return user


@pytest.fixture
def other_lead(other_team):
    """The lead of `stores`, staff like every lead."""
    from journeys.roles import TEAM_LEAD

    user = _make_user("other_lead", TEAM_LEAD, staff=True)
    other_team.lead = user
    other_team.save(update_fields=["lead"])
    return user


@pytest.fixture
def care_viewer(team):
    """Staff in `care` with the view permission of every model (Django's
    own view_<model>, not view_all_cases or view_all_feedback): permissions
    say what kind of record a user may read, never whose."""
    from django.apps import apps
    from django.contrib.auth.models import Permission

    from journeys.roles import FRONTLINE

    user = _make_user("care_viewer", FRONTLINE, staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=[f"view_{model._meta.model_name}" for model in apps.get_models()])
    )
    team.members.add(user)
    return user


@pytest.fixture
def teamless_staff(db):
    """A team lead by role who leads and belongs to no team yet."""
    from journeys.roles import TEAM_LEAD

    return _make_user("teamless", TEAM_LEAD, staff=True)


@pytest.fixture
def negative_rule(db):
    """Detractors open a case for the touchpoint's team."""
    from cases.choices import AssignmentStrategy
    from cases.models import RoutingRule

    return RoutingRule.objects.create(
        name="Detractors", position=10, nps_at_most=6, strategy=AssignmentStrategy.DEFAULT_OWNER
    )


def ingest(*, touchpoint, marker: str, n: int, nps: int, customer: dict | None = None, route: bool = True):
    """Ingest one response carrying `marker` (and route it); returns the response."""
    from cases.services import response_route
    from feedback.services import feedback_ingest

    item = {
        "touchpoint": touchpoint.slug,
        "source": "survey",
        "external_id": f"{marker}-{n}",
        "nps": nps,
        "comment": f"{marker} feedback number {n}",
        "customer": customer or {"email": f"{marker}@example.com", "name": f"{marker.capitalize()} Person"},
    }
    outcome = feedback_ingest(item=item)
    assert outcome.status == "created", outcome.errors
    if route:
        response_route(response_id=outcome.response.pk)
    return outcome.response


@dataclass
class World:
    """The rows each team's customer data made, by model label and team."""

    rows: dict[str, dict[str, set[int]]] = field(default_factory=dict)

    def of(self, label: str, teams) -> set[int]:
        return set().union(*(self.rows.get(label, {}).get(t, set()) for t in teams))


def _snapshot(labels) -> dict[str, set[int]]:
    from django.apps import apps

    return {label: set(apps.get_model(label)._default_manager.values_list("pk", flat=True)) for label in labels}


@pytest.fixture
def world_of(negative_rule, touchpoint, stores_touchpoint, agent, other_agent):
    """world_of(labels) -> World: in each team, a customer's detractor response
    opens a case; its owner adds a note; a follow-up invitation is made.
    Every row each team's part creates is recorded under that team."""
    from cases.models import RoutedResponse
    from cases.services import case_transition
    from feedback.choices import SurveyPurpose
    from feedback.surveys import invitation_create

    parts = {"care": (touchpoint, agent), "stores": (stores_touchpoint, other_agent)}

    def make(labels) -> World:
        world = World()
        for team, (tp, owner) in parts.items():
            marker = MARKERS[team]
            before = _snapshot(labels)
            response = ingest(touchpoint=tp, marker=marker, n=1, nps=2)
            case = RoutedResponse.objects.get(response=response).case
            case_transition(case_id=case.pk, actor=owner, action="note", note=f"{marker} asked for a call back")
            invitation_create(customer=case.customer, touchpoint=tp, purpose=SurveyPurpose.FOLLOW_UP)
            after = _snapshot(labels)
            for label in labels:
                world.rows.setdefault(label, {})[team] = after[label] - before[label]
                assert world.rows[label][team], f"the world makes no {label} row: extend world_of for it"
        return world

    return make
