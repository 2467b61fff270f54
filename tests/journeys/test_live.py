"""Which journeys are live (take feedback, count in insights): the query
and the per-touchpoint reason are two readings of one rule and must agree."""

from __future__ import annotations

import itertools

import pytest

from journeys.choices import JourneyState
from journeys.models import Journey, Stage, Touchpoint
from journeys.selectors import journey_is_live, live_journeys, live_touchpoints, touchpoint_not_live_reason

pytestmark = pytest.mark.django_db


def test_only_active_current_state_journeys_are_live_and_the_reason_agrees_with_the_query(team):
    touchpoints = {}
    for n, (state, active) in enumerate(itertools.product(JourneyState.values, (True, False))):
        journey = Journey.objects.create(name=f"Journey {n}", slug=f"j{n}", state=state, active=active)
        stage = Stage.objects.create(journey=journey, name="Buy")
        touchpoints[(state, active)] = Touchpoint.objects.create(
            stage=stage, name=f"Shop {n}", slug=f"shop-{n}", channel="web", team=team
        )
    live = {(JourneyState.CURRENT, True)}
    assert {(j.state, j.active) for j in live_journeys()} == live
    assert set(live_touchpoints()) == {touchpoints[key] for key in live}
    for key, touchpoint in touchpoints.items():
        touchpoint = Touchpoint.objects.select_related("stage__journey").get(pk=touchpoint.pk)
        reason = touchpoint_not_live_reason(touchpoint)
        assert (reason is None) == (key in live), key
        if reason is not None:
            assert f"Touchpoint {touchpoint.slug!r} belongs to the " in reason
            assert repr(touchpoint.stage.journey.name) in reason
    assert {j.slug for j in Journey.objects.all() if journey_is_live(j)} == {j.slug for j in live_journeys()}
