"""Who may do what to a case, in which state. Used by the services (which
enforce it) and by pages and the API (which offer only what is allowed)."""

from __future__ import annotations

from dataclasses import dataclass

from cases.choices import OPEN_STATUSES, CaseStatus
from cases.models import Case
from cvx_site.errors import Conflict, PermissionDenied

ACT_ON_ALL = "cases.act_on_all_cases"
S = CaseStatus
ANY_STATUS = frozenset(S.values)
OPEN = frozenset(OPEN_STATUSES)


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str | None  # None: the status does not change
    frontline: str  # "own": the owner; "take": an unassigned case of their team; "no"


TRANSITIONS: dict[str, Transition] = {
    "acknowledge": Transition(frozenset({S.NEW, S.REOPENED}), S.ACKNOWLEDGED, "own"),
    "log_contact": Transition(OPEN, S.CONTACTED, "own"),
    "note": Transition(ANY_STATUS, None, "own"),
    "reassign": Transition(OPEN, None, "take"),
    "escalate": Transition(OPEN - {S.ESCALATED}, S.ESCALATED, "own"),
    "resolve": Transition(OPEN, S.RESOLVED, "own"),
    "reopen": Transition(frozenset({S.RESOLVED, S.AWAITING_FOLLOW_UP, S.CLOSED}), S.REOPENED, "no"),
    "cancel": Transition(OPEN, S.CANCELLED, "no"),
}
ACTIONS = tuple(TRANSITIONS)
ACTION_LABELS = {"acknowledge": "Acknowledge", "log_contact": "Log contact", "note": "Add note",
                 "reassign": "Reassign", "escalate": "Escalate", "resolve": "Resolve", "reopen": "Reopen",
                 "cancel": "Cancel case"}


def is_case_admin(user) -> bool:
    return user.is_authenticated and user.has_perm(ACT_ON_ALL)


def leads_team_of(user, case: Case) -> bool:
    return case.team.lead_id == user.pk


def role_allows(user, case: Case, action: str, *, member: bool) -> bool:
    """Whether the user's role lets them do `action` to this case (not the state)."""
    # Cheapest test first: the permission check loads the user's permissions
    # (two queries, once per user object), which the common case, a team
    # member acting on their own case, does not need.
    return (member and _frontline_allows(user, case, action)) or leads_team_of(user, case) or is_case_admin(user)


def _frontline_allows(user, case: Case, action: str) -> bool:
    rule = TRANSITIONS[action].frontline
    if rule == "own" or action == "note":
        return case.owner_id == user.pk or (action == "note" and case.owner_id is None)
    if rule == "take":
        return case.owner_id is None
    return False


def state_allows(case: Case, action: str) -> bool:
    return case.status in TRANSITIONS[action].sources


def check(user, case: Case, action: str, *, member: bool) -> None:
    """Raise PermissionDenied (role) or Conflict (state) unless allowed."""
    if action not in TRANSITIONS:
        raise Conflict(f"Unknown action {action!r}.")
    if not role_allows(user, case, action, member=member):
        raise PermissionDenied(f"You may not {action.replace('_', ' ')} case {case.number}.")
    if not state_allows(case, action):
        raise Conflict(
            f"Case {case.number} is {case.get_status_display().lower()}; it cannot be "
            f"{_past(action)} in that state."
        )


def allowed_actions(user, case: Case, *, member: bool) -> list[str]:
    return [a for a in ACTIONS if state_allows(case, a) and role_allows(user, case, a, member=member)]


def _past(action: str) -> str:
    return {"acknowledge": "acknowledged", "log_contact": "contacted", "note": "noted", "reassign": "reassigned",
            "escalate": "escalated", "resolve": "resolved", "reopen": "reopened", "cancel": "cancelled"}[action]
