from __future__ import annotations

import pytest

from cvx_site.errors import Conflict
from journeys.choices import JourneyState
from journeys.models import Journey, Stage, Touchpoint
from journeys.services import journey_copy_as_future, unique_slug

pytestmark = pytest.mark.django_db


def test_copy_keeps_order_and_settings_of_every_touchpoint(touchpoint, team):
    journey = touchpoint.stage.journey
    later = Touchpoint.objects.create(
        stage=touchpoint.stage,
        name="Chat",
        slug="chat",
        channel="chat",
        team=team,
        position=1,
        value_dimensions=["functional"],
        first_contact_sla_hours=2,
        resolution_sla_hours=8,
    )
    draft = journey_copy_as_future(journey=journey)
    copies = list(Touchpoint.objects.filter(stage__journey=draft).order_by("position"))
    assert [
        (t.name, t.position, t.value_dimensions, t.first_contact_sla_hours, t.resolution_sla_hours) for t in copies
    ] == [
        (touchpoint.name, 0, [], 4, 24),
        (later.name, 1, ["functional"], 2, 8),
    ]
    assert draft.active is False and draft.based_on == journey
    assert Touchpoint.objects.filter(stage__journey=journey).count() == 2


def test_copying_twice_gives_two_drafts_with_distinct_slugs(touchpoint):
    journey = touchpoint.stage.journey
    first = journey_copy_as_future(journey=journey)
    second = journey_copy_as_future(journey=journey)
    assert first.slug == "get-connected-future"
    assert second.slug == "get-connected-future-2"
    assert set(Touchpoint.objects.values_list("slug", flat=True)) == {
        "fault-line",
        "fault-line-future",
        "fault-line-future-2",
    }


def test_a_future_state_journey_is_not_copied_again(journey):
    journey.state = JourneyState.FUTURE
    journey.save()
    with pytest.raises(Conflict, match="not a current-state journey"):
        journey_copy_as_future(journey=journey)
    assert Journey.objects.count() == 1


def test_unique_slug_respects_the_length_limit(db):
    Journey.objects.create(name="x", slug="a" * 80)
    slug = unique_slug(Journey, "a" * 80)
    assert len(slug) == 80 and slug.endswith("-2")


def test_stage_names_are_unique_within_a_journey(stage):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Stage.objects.create(journey=stage.journey, name=stage.name)
