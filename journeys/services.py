"""Writes to journeys that are more than a single admin form save."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Model

from cvx_site.errors import Conflict, InvalidInput
from journeys.choices import JourneyState
from journeys.models import Journey, Stage, Team, Touchpoint
from journeys.roles import ALL_ROLES, CX_ADMIN, FRONTLINE, TEAM_LEAD

# The roles a person is given in the admin; Integration is a service account's.
PERSON_ROLES = (FRONTLINE, TEAM_LEAD, CX_ADMIN)
# Roles that work in the Django admin (is_staff follows the role).
ADMIN_ROLES = frozenset({TEAM_LEAD, CX_ADMIN})


def unique_slug(model: type[Model], base: str, *, max_length: int = 80) -> str:
    """`base`, or `base-2`, `base-3`... whichever `model` does not use yet."""
    candidate, n = base[:max_length], 1
    while model.objects.filter(slug=candidate).exists():
        n += 1
        suffix = f"-{n}"
        candidate = base[: max_length - len(suffix)] + suffix
    return candidate


FUTURE_SUFFIX = " — future state"


def future_draft_name(journey: Journey) -> str:
    """The draft's name: the journey's name with the label added once
    ("Fix a fault — future state"), numbered from the second copy on
    ("… — future state 2") so each copy is told apart."""
    max_length = Journey._meta.get_field("name").max_length
    n = 1
    while True:
        suffix = FUTURE_SUFFIX if n == 1 else f"{FUTURE_SUFFIX} {n}"
        candidate = journey.name[: max_length - len(suffix)] + suffix
        if not Journey.objects.filter(name=candidate).exists():
            return candidate
        n += 1


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
        name=name or future_draft_name(journey),
        slug=unique_slug(Journey, f"{journey.slug}-future"),
        description=journey.description,
        state=JourneyState.FUTURE,
        based_on=journey,
        active=False,
        position=journey.position,
    )
    for stage in journey.stages.prefetch_related("touchpoints").order_by("position", "id"):
        new_stage = Stage.objects.create(
            journey=draft,
            name=stage.name,
            position=stage.position,
            pain_points=stage.pain_points,
            moments_of_truth=stage.moments_of_truth,
        )
        for tp in stage.touchpoints.order_by("position", "id"):
            Touchpoint.objects.create(
                stage=new_stage,
                name=tp.name,
                slug=unique_slug(Touchpoint, f"{tp.slug}-future"),
                position=tp.position,
                channel=tp.channel,
                side=tp.side,
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


@transaction.atomic
def person_set_teams_and_role(*, person, teams: Iterable[Team], role: str | None) -> None:
    """Make `person` a member of exactly `teams` and give them `role` (one of
    PERSON_ROLES, or None for no role): any other role group is removed,
    groups that are not roles are kept. Whether they may use the admin
    (is_staff) follows the role, except for superusers, who keep it.
    Refuses (InvalidInput on `role`) a role that is not a person's."""
    if role is not None and role not in PERSON_ROLES:
        raise InvalidInput(
            f"“{role}” is not a role for a person; choose one of {', '.join(PERSON_ROLES)}.", field="role"
        )
    person.teams.set(list(teams))
    person.groups.remove(*Group.objects.filter(name__in=ALL_ROLES).exclude(name=role))
    if role is not None:
        person.groups.add(Group.objects.get(name=role))
    staff = person.is_superuser or role in ADMIN_ROLES
    if person.is_staff != staff:
        person.is_staff = staff
        person.save(update_fields=["is_staff"])
