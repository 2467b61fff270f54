"""Writes to journeys that are more than a single admin form save."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from cvx_site.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from journeys.choices import JourneyState
from journeys.models import Journey, Stage, Team, Touchpoint
from journeys.roles import ALL_ROLES, CX_ADMIN, FRONTLINE, TEAM_LEAD
from journeys.selectors import journey_diff

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


# What a touchpoint carried over takes from the design; its id and slug (by
# which feedback, cases, scores and integrations know it) stay its own.
CARRIED_FIELDS = (
    "stage",
    "name",
    "position",
    "channel",
    "side",
    "team",
    "default_owner",
    "value_dimensions",
    "listening_post",
    "asks_ves",
    "ves_question",
    "first_contact_sla_hours",
    "resolution_sla_hours",
)


# How the promotion's records on both journeys begin (insights finds the
# archiving by it).
PROMOTED_NOTE = "Promoted to the current state"
ARCHIVED_NOTE = "Archived: replaced by the promoted design"

# Higher apps carry what they hold of a journey over to the design promoted
# in its place (cases: routing rules filtered by the journey, the journey of
# the carried touchpoints' cases); this app knows nothing of them. Each is
# called inside the promotion's transaction, after the touchpoints are
# carried over and both journeys renamed, with keyword arguments `actor`,
# `archived` and `promoted`; it records its own changes and returns what it
# did as a sentence for the promotion's record ("" when nothing). An error
# it raises undoes the whole promotion.
promotion_hooks: list[Callable[..., str]] = []


def journey_promote(*, actor, draft_id: int) -> Journey:
    """Make the future-state draft `draft_id` the current state of its
    journey and archive the journey it was copied from; return the promoted
    journey. One transaction, both journeys locked (in id order, so two
    promotions wait for each other): a second attempt, by the same admin or
    another at the same moment, finds the draft no longer a draft and
    changes nothing.

    How history is kept. Feedback, cases, survey invitations and the score
    summary point at touchpoint ids, and integrations name touchpoints by
    slug. So each current touchpoint the design carries over
    (`journeys.selectors.journey_diff`: matched by slug) keeps its row, id
    and slug and is moved into the design's stage, taking the design's
    name, channel, team, owner and settings (`CARRIED_FIELDS`); the
    design's copy of it is deleted. Its whole history so goes on under the
    promoted journey, read by touchpoint, journey or team as one series. A
    touchpoint the design removes stays, with its history, in the archived
    journey (state `archived`, inactive: not live, so it takes no feedback
    and insights leave it out unless drafts are asked for). The promoted
    journey takes the old one's name, slug and position (links and API
    filters by journey slug keep working); the archived one is renamed
    "… — archived <date>" with a new slug, and the promoted one's
    `based_on` still points at it.

    What higher apps hold of the old journey follows it to the promoted
    one in the same transaction (`promotion_hooks`: routing rules filtered
    by journey, so the loop goes on opening cases as before), each change
    recorded by the app that holds it.

    Both journeys' admin histories (LogEntry) record the promotion.
    Refuses: PermissionDenied without journeys' change permission;
    NotFound when the draft is gone; Conflict when it is not a future-state
    draft (already promoted, or a current or archived journey), when the
    journey it was copied from is gone or no longer current, or when a
    design touchpoint to be replaced has records of its own."""
    if not actor.has_perm("journeys.change_journey"):
        raise PermissionDenied("You may not change journeys.")
    with transaction.atomic():
        origin_id = Journey.objects.filter(pk=draft_id).values_list("based_on_id", flat=True).first()
        locked = {
            j.pk: j for j in Journey.objects.select_for_update().filter(pk__in=[draft_id, origin_id]).order_by("pk")
        }
        draft = locked.get(draft_id)
        if draft is None:
            raise NotFound("This journey no longer exists.")
        if draft.based_on_id != origin_id:
            raise Conflict(f"“{draft}” was changed by someone else meanwhile. Nothing was changed: try again.")
        if draft.state != JourneyState.FUTURE:
            raise Conflict(
                f"“{draft}” is not a future-state draft (it is {draft.get_state_display().lower()}): "
                "it may have been promoted already. Nothing was changed."
            )
        origin = locked.get(draft.based_on_id)
        if origin is None:
            raise Conflict(
                f"“{draft}” has no current-state journey to replace: the journey it was copied from was deleted. "
                "Nothing was changed."
            )
        if origin.state != JourneyState.CURRENT:
            raise Conflict(
                f"“{origin}”, which “{draft}” was copied from, is no longer the current state "
                f"({origin.get_state_display().lower()}): another design replaced it. Nothing was changed."
            )
        diff = journey_diff(draft)
        for pair in diff.carried:
            _carry_over(pair.current, pair.draft)
        _archive_and_promote(origin, draft)
        followed = [said for hook in promotion_hooks if (said := hook(actor=actor, archived=origin, promoted=draft))]
        added = sum(1 for p in diff.pairs if p.status == "added")
        removed = sum(1 for p in diff.pairs if p.status == "removed")
        _log(
            actor,
            draft,
            f"{PROMOTED_NOTE}, replacing “{origin}” (archived): {len(diff.carried)} touchpoint(s) "
            f"carried over with their history, {added} added, {removed} left in the archived journey."
            + "".join(f" {said}" for said in followed),
        )
        _log(actor, origin, f"{ARCHIVED_NOTE} “{draft}”.")
    return draft


def _carry_over(kept: Touchpoint, design: Touchpoint) -> None:
    """`kept` (current, with history) takes `design`'s place and settings;
    `design` goes. Links other tables hold to `design` (many-to-many: e.g.
    a routing rule scoped to it) move to `kept`; any other record of
    `design` would be lost with it, so it is refused."""
    for rel in Touchpoint._meta.related_objects:
        holders = rel.related_model._base_manager.filter(**{rel.field.name: design})
        if rel.many_to_many:
            for holder in holders:
                getattr(holder, rel.field.name).add(kept)
        elif holders.exists():
            raise Conflict(
                f"The design's touchpoint “{design}” has {rel.related_model._meta.verbose_name_plural} of its own, "
                f"which would be lost when “{kept}” takes its place. Move or delete them first. Nothing was changed."
            )
    values = {name: getattr(design, name) for name in CARRIED_FIELDS}
    design.delete()
    for name, value in values.items():
        setattr(kept, name, value)
    kept.save(update_fields=list(CARRIED_FIELDS))


def _archive_and_promote(origin: Journey, draft: Journey) -> None:
    name, slug, position, active = origin.name, origin.slug, origin.position, origin.active
    max_length = Journey._meta.get_field("name").max_length
    suffix = f" — archived {timezone.localdate():%Y-%m-%d}"
    origin.name = name[: max_length - len(suffix)] + suffix
    origin.slug = unique_slug(Journey, f"{slug}-archived")
    origin.state, origin.active = JourneyState.ARCHIVED, False
    origin.save(update_fields=["name", "slug", "state", "active"])
    draft.name, draft.slug, draft.position, draft.active = name, slug, position, active
    draft.state = JourneyState.CURRENT
    draft.save(update_fields=["name", "slug", "position", "active", "state"])


def _log(actor, journey: Journey, message: str) -> None:
    LogEntry.objects.log_actions(
        user_id=actor.pk, queryset=[journey], action_flag=CHANGE, change_message=message, single_object=True
    )
