"""Writes to journeys that are more than a single admin form save."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Model

from cvx_site.errors import Conflict
from journeys.choices import JourneyState
from journeys.models import Journey, Stage, Touchpoint


def unique_slug(model: type[Model], base: str, *, max_length: int = 80) -> str:
    """`base`, or `base-2`, `base-3`... whichever `model` does not use yet."""
    candidate, n = base[:max_length], 1
    while model.objects.filter(slug=candidate).exists():
        n += 1
        suffix = f"-{n}"
        candidate = base[: max_length - len(suffix)] + suffix
    return candidate


@transaction.atomic
def journey_copy_as_future(*, journey: Journey, name: str | None = None) -> Journey:
    """Copy a current-state journey into a new, inactive future-state draft.

    The copy owns new rows for every stage and touchpoint (same order, team,
    owner, channel and SLAs, new unique slugs): editing it never touches the
    original. The draft records the journey it was based on.
    """
    if journey.state != JourneyState.CURRENT:
        raise Conflict(f"{journey} is not a current-state journey; only those are copied to a future state.")
    draft = Journey.objects.create(
        name=name or f"{journey.name} (future state)",
        slug=unique_slug(Journey, f"{journey.slug}-future"),
        description=journey.description,
        state=JourneyState.FUTURE,
        based_on=journey,
        active=False,
        position=journey.position,
    )
    for stage in journey.stages.prefetch_related("touchpoints").order_by("position", "id"):
        new_stage = Stage.objects.create(journey=draft, name=stage.name, position=stage.position)
        for tp in stage.touchpoints.order_by("position", "id"):
            Touchpoint.objects.create(
                stage=new_stage,
                name=tp.name,
                slug=unique_slug(Touchpoint, f"{tp.slug}-future"),
                position=tp.position,
                channel=tp.channel,
                team_id=tp.team_id,
                default_owner_id=tp.default_owner_id,
                value_dimensions=list(tp.value_dimensions),
                listening_post=tp.listening_post,
                asks_ves=tp.asks_ves,
                ves_question=tp.ves_question,
                first_contact_sla_hours=tp.first_contact_sla_hours,
                resolution_sla_hours=tp.resolution_sla_hours,
            )
    return draft
