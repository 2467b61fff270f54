"""One rule decides what feedback a user sees (feedback.selectors): every
scope of feedback data — responses, touchpoints, journeys, the score
summary's touchpoints — gives, for every role, what that rule gives."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from feedback.models import FeedbackResponse
from feedback.selectors import (
    feedback_visible_to,
    journeys_visible_to,
    scored_touchpoints_of,
    sees_all_feedback,
    touchpoints_visible_to,
)
from feedback.services import feedback_ingest
from journeys.models import Journey, Touchpoint

pytestmark = pytest.mark.django_db

ROLES = ["agent", "other_agent", "lead", "cx_admin", "outsider", "integration", "anonymous"]
# The touchpoints each role may see the feedback of: by team, or all.
EXPECTED = {
    "agent": {"fault-line"},
    "other_agent": {"store"},
    "lead": {"fault-line"},
    "cx_admin": {"fault-line", "store", "bills"},
    "outsider": set(),
    "integration": {"fault-line", "store", "bills"},
    "anonymous": set(),
}


@pytest.fixture
def world(touchpoint, stage, other_team, other_agent):
    """fault-line (care), store (stores) in one journey; bills, of a team
    nobody here is in, in a second journey; an empty third journey; feedback
    at each touchpoint."""
    from journeys.models import Stage, Team

    Touchpoint.objects.create(
        stage=stage, name="Store", slug="store", channel="store", team=other_team, default_owner=other_agent, position=1
    )
    elsewhere = Stage.objects.create(journey=Journey.objects.create(name="Pay", slug="pay"), name="Bill")
    Touchpoint.objects.create(
        stage=elsewhere,
        name="Bills",
        slug="bills",
        channel="web",
        team=Team.objects.create(name="Billing", slug="billing"),
    )
    Journey.objects.create(name="Leave", slug="leave")
    for n, slug in enumerate(["fault-line", "store", "bills", "store"]):
        outcome = feedback_ingest(item={"touchpoint": slug, "source": "test", "external_id": f"v{n}", "nps": n})
        assert outcome.status == "created", outcome.errors


@pytest.fixture(params=ROLES)
def role(request, world):
    """(role name, user) for each role of tests/conftest.py, and anonymous."""
    from rest_framework.authtoken.models import Token

    name = request.param
    if name == "anonymous":
        return name, AnonymousUser()
    if name == "integration":
        return name, Token.objects.get(key=request.getfixturevalue("integration")).user
    return name, request.getfixturevalue(name)


def test_touchpoints_visible_follow_the_teams_or_view_all(role):
    name, user = role
    assert set(touchpoints_visible_to(user).values_list("slug", flat=True)) == EXPECTED[name]
    assert sees_all_feedback(user) == (name in {"cx_admin", "integration"})


def test_feedback_visible_is_the_feedback_at_the_visible_touchpoints(role):
    name, user = role
    seen = set(feedback_visible_to(user).values_list("pk", flat=True))
    assert seen == set(
        FeedbackResponse.objects.filter(touchpoint__slug__in=EXPECTED[name]).values_list("pk", flat=True)
    )


def test_journeys_visible_hold_a_visible_touchpoint_or_are_all_for_view_all(role):
    name, user = role
    journeys = set(journeys_visible_to(user).values_list("slug", flat=True))
    if sees_all_feedback(user):
        assert journeys == {"get-connected", "pay", "leave"}
    else:
        assert journeys == set(
            Journey.objects.filter(stages__touchpoints__slug__in=EXPECTED[name]).values_list("slug", flat=True)
        )


def test_scored_touchpoints_are_the_visible_ones_or_none_for_all(role):
    name, user = role
    scored = scored_touchpoints_of(user)
    if sees_all_feedback(user):
        assert scored is None
    else:
        assert set(scored.values_list("slug", flat=True)) == EXPECTED[name]
