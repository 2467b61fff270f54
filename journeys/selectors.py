from __future__ import annotations

from django.db.models import Q, QuerySet

from journeys.choices import JourneyState
from journeys.models import Journey, Team, Touchpoint

# What makes a journey live: it takes feedback and counts in insights. Each
# condition with what a journey failing it is called. A future-state design
# or a journey switched off is a draft: it is modelled, not lived.
_LIVE = (
    ("state", JourneyState.CURRENT, "the future-state draft journey"),
    ("active", True, "the inactive journey"),
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
        if getattr(journey, name) != value:
            return (
                f"Touchpoint {touchpoint.slug!r} belongs to {called} {journey.name!r}; "
                "feedback is accepted only for touchpoints of active current-state journeys."
            )
    return None
