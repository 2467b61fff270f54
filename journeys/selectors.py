from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from journeys.choices import JourneyState
from journeys.models import Journey, Team, Touchpoint

# What makes a journey live: it takes feedback and counts in insights. Each
# condition with what a journey failing it is called (by the value it has
# instead). A future-state design or a journey switched off is a draft: it is
# modelled, not lived; an archived journey was replaced by a promoted design.
_LIVE = (
    (
        "state",
        JourneyState.CURRENT,
        {JourneyState.FUTURE: "the future-state draft journey", JourneyState.ARCHIVED: "the archived journey"},
    ),
    ("active", True, {False: "the inactive journey"}),
)


def teams_of(user) -> QuerySet[Team]:
    """Teams the user belongs to or leads."""
    if not user.is_authenticated:
        return Team.objects.none()
    return Team.objects.filter(Q(members=user) | Q(lead=user)).distinct()


def teams_led_by(user) -> QuerySet[Team]:
    if not user.is_authenticated:
        return Team.objects.none()
    return Team.objects.filter(lead=user)


def live_condition(journey: str = "") -> Q:
    """The condition on rows whose journey is live, `journey` being the
    lookup path from the rows to it: "" for journeys, "stage__journey" for
    touchpoints, "touchpoint__stage__journey" for feedback and cases."""
    prefix = f"{journey}__" if journey else ""
    return Q(**{f"{prefix}{name}": value for name, value, _called in _LIVE})


def live_journeys() -> QuerySet[Journey]:
    """Journeys that take feedback: active and in the current state."""
    return Journey.objects.filter(live_condition())


def live_touchpoints() -> QuerySet[Touchpoint]:
    """Touchpoints of `live_journeys()`."""
    return Touchpoint.objects.filter(live_condition("stage__journey"))


def journey_is_live(journey: Journey) -> bool:
    """Whether `journey` is one of `live_journeys()`."""
    return all(getattr(journey, name) == value for name, value, _called in _LIVE)


def touchpoint_not_live_reason(touchpoint: Touchpoint) -> str | None:
    """Why `touchpoint` takes no feedback, naming it and its journey; None
    when its journey is live. Agrees with `live_touchpoints()`."""
    journey = touchpoint.stage.journey
    for name, value, called in _LIVE:
        if (actual := getattr(journey, name)) != value:
            what = called.get(actual, "the draft journey")
            return (
                f"Touchpoint {touchpoint.slug!r} belongs to {what} {journey.name!r}; "
                "feedback is accepted only for touchpoints of active current-state journeys."
            )
    return None


# --- a current state beside its future-state design ----------------------------------

# The copy gives each touchpoint of a draft the current one's slug with this
# suffix (journeys.services.journey_copy_as_future via unique_slug).
_DRAFT_SLUG_SUFFIX = re.compile(r"-future(?:-\d+)?$")
# What a design may change about a touchpoint it keeps, as the diff names it.
# The stage is compared by name: the draft's stages are copies.
COMPARED_FIELDS = (
    ("stage", "stage"),
    ("name", "name"),
    ("channel", "channel"),
    ("side", "front or back stage"),
    ("team", "team"),
)


# Higher apps add what they know of touchpoints, to be shown beside them on
# the side-by-side page (feedback: recent scores and negative topics; this
# app knows nothing of feedback). Each takes the user (whose selectors scope
# it) and a list of touchpoints and returns {touchpoint id: {name: value}}.
touchpoint_figures: list[Callable[..., dict[int, dict]]] = []


def touchpoint_figures_for(user, touchpoints: list[Touchpoint]) -> dict[int, dict]:
    """What every `touchpoint_figures` source says of `touchpoints`, merged
    per touchpoint id (an empty dict for a touchpoint none speaks of)."""
    merged: dict[int, dict] = {tp.pk: {} for tp in touchpoints}
    for source in touchpoint_figures:
        for pk, figures in source(user, touchpoints).items():
            merged.setdefault(pk, {}).update(figures)
    return merged


def carried_slug(draft_slug: str) -> str:
    """The slug of the current-state touchpoint a draft touchpoint stands
    for: its own without the suffix the copy added ("fault-line-future-2"
    stands for "fault-line"). A touchpoint is carried over by slug."""
    return _DRAFT_SLUG_SUFFIX.sub("", draft_slug)


@dataclass(frozen=True)
class Change:
    field: str
    label: str
    before: str
    after: str


@dataclass
class TouchpointPair:
    """One touchpoint in both maps: `current` None when the design adds it,
    `draft` None when the design removes it, else what the design changes."""

    current: Touchpoint | None
    draft: Touchpoint | None
    changes: list[Change] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.current is None:
            return "added"
        if self.draft is None:
            return "removed"
        return "changed" if self.changes else "same"

    @property
    def moved(self) -> Change | None:
        return next((c for c in self.changes if c.field == "stage"), None)


@dataclass
class StageRow:
    """A stage (by name) with its touchpoints in each map, each as its pair."""

    name: str
    current: list[TouchpointPair] = field(default_factory=list)
    draft: list[TouchpointPair] = field(default_factory=list)
    in_current: bool = False
    in_draft: bool = False


@dataclass
class JourneyDiff:
    current: Journey
    draft: Journey
    stages: list[StageRow]
    pairs: list[TouchpointPair]

    @property
    def changed(self) -> list[TouchpointPair]:
        """Pairs the design changes, adds or removes."""
        return [p for p in self.pairs if p.status != "same"]

    @property
    def carried(self) -> list[TouchpointPair]:
        """Pairs in both maps: their current touchpoint carries on."""
        return [p for p in self.pairs if p.current is not None and p.draft is not None]


def _touchpoints_of(journey: Journey) -> list[Touchpoint]:
    return list(
        Touchpoint.objects.filter(stage__journey=journey)
        .select_related("stage", "team")
        .order_by("stage__position", "stage_id", "position", "id")
    )


def _shown(touchpoint: Touchpoint, name: str) -> str:
    value = getattr(touchpoint, name)
    if name in ("stage", "team"):
        return value.name
    display = getattr(touchpoint, f"get_{name}_display", None)
    return str(display()) if display else str(value)


def journey_diff(draft: Journey) -> JourneyDiff:
    """`draft` (a future-state design) beside the journey it was copied
    from, stage by stage: each touchpoint paired with the current one it is
    carried over from by slug (`carried_slug`), with what the design changes
    (`COMPARED_FIELDS`: moved to another stage, renamed, channel, front or
    back stage, team), and those it adds or removes. Stages keep the
    current map's order; stages only the design has follow in its order.
    Raises ValueError when `draft` has no journey it was based on."""
    if draft.based_on is None:
        raise ValueError(f"{draft} was not copied from a current-state journey.")
    current = draft.based_on
    now = {tp.slug: tp for tp in _touchpoints_of(current)}
    pairs, seen = [], set()
    for tp in _touchpoints_of(draft):
        origin = now.get(tp.slug) or now.get(carried_slug(tp.slug))
        if origin is not None and origin.slug in seen:
            origin = None  # two design touchpoints for one: the second is new
        changes = []
        if origin is not None:
            seen.add(origin.slug)
            for name, label in COMPARED_FIELDS:
                before, after = _shown(origin, name), _shown(tp, name)
                if before != after:
                    changes.append(Change(name, label, before, after))
        pairs.append(TouchpointPair(origin, tp, changes))
    pairs += [TouchpointPair(tp, None) for slug, tp in now.items() if slug not in seen]
    rows: dict[str, StageRow] = {}
    for stage in list(current.stages.order_by("position", "id")) + list(draft.stages.order_by("position", "id")):
        row = rows.setdefault(stage.name, StageRow(stage.name))
        if stage.journey_id == current.pk:
            row.in_current = True
        else:
            row.in_draft = True
    by_current = {pair.current.pk: pair for pair in pairs if pair.current is not None}
    for tp in now.values():  # in the current map's order
        rows[tp.stage.name].current.append(by_current[tp.pk])
    for pair in pairs:
        if pair.draft is not None:
            rows[pair.draft.stage.name].draft.append(pair)
    return JourneyDiff(current, draft, list(rows.values()), pairs)
