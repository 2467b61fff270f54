"""The state table: every change a case goes through, by people and by the
system, with who may do it and from which states. Nothing else decides.

- People's actions (`ACTIONS`): the case services check them with `check`
  before they change anything; pages and the API offer only what
  `allowed_actions` gives, with the labels and parameters written here.
- The system's transitions (routing, the SLA sweep, the follow-up and its
  expiry) have no permission check, but like people's actions they are
  recorded only through `cases.services._record.record`, which refuses with
  `check_recorded` any event the table does not allow in the case's state
  and any change of status it does not lead to."""

from __future__ import annotations

from dataclasses import dataclass

from cases.choices import OPEN_STATUSES, CaseKind, CaseStatus, ContactChannel, EventKind
from cases.models import Case
from cvx_site.errors import Conflict, PermissionDenied

ACT_ON_ALL = "cases.act_on_all_cases"
S = CaseStatus
ANY_STATUS = frozenset(S.values)
OPEN = frozenset(OPEN_STATUSES)
# The status "before" a case's first event: there was no case yet.
NO_CASE = None
# Who takes a transition: a person (the event's actor) or the system (no actor).
PERSON, SYSTEM = "person", "system"
# Which kinds of case a transition applies to: the complaint loop's
# (escalation, resolution, follow-up, SLA breach) are for complaints only; an
# opportunity is won, lost or not answered.
COMPLAINTS = frozenset({CaseKind.COMPLAINT})
OPPORTUNITIES = frozenset({CaseKind.OPPORTUNITY})
EVERY_KIND = COMPLAINTS | OPPORTUNITIES


@dataclass(frozen=True)
class Param:
    """A parameter of a person's action: a field of the API's transition
    body and of the action's form on the case page."""

    name: str
    label: str
    # The message when it is missing (or, for a choice, not one of them); None: optional.
    missing: str | None = None

    @property
    def required(self) -> bool:
        return self.missing is not None


@dataclass(frozen=True)
class Transition:
    kind: str  # the event that records it
    sources: frozenset  # the statuses it may start from (NO_CASE: the case is being opened)
    target: str | None  # None: the status does not change
    by: str = PERSON
    # People's actions, for frontline staff: "own": the owner;
    # "team": any member of the case's team; "take": an unassigned case of their team, themselves; "no".
    frontline: str = "no"
    label: str = ""  # people's actions: how pages name it
    done: str = ""  # people's actions: "it cannot be <done> in that state"
    params: tuple[Param, ...] = ()
    # People's actions that need the customer reached first (a contact event
    # on the case: a logged contact or a sent message) unless the `unreachable`
    # parameter says the customer could not be reached: the reason otherwise.
    needs_contact: str = ""
    kinds: frozenset = COMPLAINTS  # the kinds of case it applies to


# A contact's handling time (cases.handling): the minutes entered, or the
# signed time the page's form was opened, from which the server measures them.
HANDLING_PARAMS = (Param("handling_minutes", "Handling time (minutes)"), Param("opened", "Form opened"))


def _note(label: str = "Note", missing: str | None = None) -> Param:
    return Param("note", label, missing)


TRANSITIONS: dict[str, Transition] = {
    # What people do: one service each in cases.services.transitions.
    "acknowledge": Transition(
        EventKind.ACKNOWLEDGED,
        frozenset({S.NEW, S.REOPENED}),
        S.ACKNOWLEDGED,
        frontline="own",
        label="Acknowledge",
        done="acknowledged",
        params=(_note(),),
    ),
    "log_contact": Transition(
        EventKind.CONTACTED,
        OPEN,
        S.CONTACTED,
        frontline="own",
        label="Log contact",
        done="contacted",
        params=(
            Param("channel", "Channel", f"Choose one of: {', '.join(ContactChannel.values)}."),
            _note("What was agreed", "Say what was agreed with the customer."),
            *HANDLING_PARAMS,
        ),
        kinds=EVERY_KIND,
    ),
    "note": Transition(
        EventKind.NOTE,
        ANY_STATUS,
        None,
        frontline="team",
        label="Add note",
        done="noted",
        params=(_note(missing="A note cannot be empty."),),
        kinds=EVERY_KIND,
    ),
    "reassign": Transition(
        EventKind.ASSIGNED,
        OPEN,
        None,
        frontline="take",
        label="Reassign",
        done="reassigned",
        params=(Param("owner", "New owner", "Choose an existing user."), _note()),
        kinds=EVERY_KIND,
    ),
    "escalate": Transition(
        EventKind.ESCALATED,
        OPEN - {S.ESCALATED},
        S.ESCALATED,
        frontline="own",
        label="Escalate",
        done="escalated",
        params=(_note(),),
    ),
    "resolve": Transition(
        EventKind.RESOLVED,
        OPEN,
        S.RESOLVED,
        frontline="own",
        label="Resolve",
        done="resolved",
        params=(
            Param("root_cause", "Root cause", "Choose the root cause."),
            _note("Resolution summary", "Summarise what was done for the customer."),
            Param("unreachable", "Customer unreachable (resolve without a contact)"),
        ),
        needs_contact="no contact with the customer is recorded: log a contact (or send a message) first, "
        "or mark the customer unreachable.",
    ),
    "reopen": Transition(
        EventKind.REOPENED,
        frozenset({S.RESOLVED, S.AWAITING_FOLLOW_UP, S.CLOSED}),
        S.REOPENED,
        label="Reopen",
        done="reopened",
        params=(_note("Reason", "Say why the case is reopened."),),
    ),
    "cancel": Transition(
        EventKind.CANCELLED,
        OPEN,
        S.CANCELLED,
        label="Cancel case",
        done="cancelled",
        params=(_note("Reason", "Say why the case is cancelled."),),
    ),
    # An opportunity (a promoter to ask for a referral, a review, more
    # business): open (new) -> contacted (log_contact) -> won / lost, or no
    # answer when the customer could not be reached.
    "win": Transition(
        EventKind.WON,
        frozenset({S.CONTACTED}),
        S.WON,
        frontline="own",
        label="Won",
        done="won",
        params=(Param("amount", "Amount won (optional)"), _note()),
        kinds=OPPORTUNITIES,
    ),
    "lose": Transition(
        EventKind.LOST,
        frozenset({S.CONTACTED}),
        S.LOST,
        frontline="own",
        label="Lost",
        done="lost",
        params=(_note("Reason"),),
        kinds=OPPORTUNITIES,
    ),
    "no_answer": Transition(
        EventKind.NO_ANSWER,
        frozenset({S.NEW, S.CONTACTED}),
        S.NO_ANSWER,
        frontline="own",
        label="No answer",
        done="closed as not answered",
        params=(_note(),),
        kinds=OPPORTUNITIES,
    ),
    # What the system does: routing (cases.services.routing), the SLA sweep
    # (.sla), the follow-up survey, its answer and its expiry (.follow_up).
    "open": Transition(EventKind.OPENED, frozenset({NO_CASE}), S.NEW, by=SYSTEM, kinds=EVERY_KIND),
    "assign": Transition(EventKind.ASSIGNED, OPEN, None, by=SYSTEM, kinds=EVERY_KIND),
    "attach_feedback": Transition(EventKind.FEEDBACK_ATTACHED, OPEN, None, by=SYSTEM, kinds=EVERY_KIND),
    # An escalated case stays escalated.
    "breach_sla": Transition(EventKind.SLA_BREACHED, OPEN, S.ESCALATED, by=SYSTEM),
    "send_follow_up": Transition(EventKind.FOLLOW_UP_SENT, frozenset({S.RESOLVED}), S.AWAITING_FOLLOW_UP, by=SYSTEM),
    "skip_follow_up": Transition(EventKind.FOLLOW_UP_SKIPPED, frozenset({S.RESOLVED}), None, by=SYSTEM),
    # Recorded in whatever state the case has reached meanwhile.
    "record_follow_up_answer": Transition(EventKind.FOLLOW_UP_ANSWERED, ANY_STATUS, None, by=SYSTEM),
    # Recovered, not recovered, or the survey expired unanswered.
    "close": Transition(EventKind.CLOSED, frozenset({S.AWAITING_FOLLOW_UP}), S.CLOSED, by=SYSTEM),
    "reopen_not_recovered": Transition(EventKind.REOPENED, frozenset({S.AWAITING_FOLLOW_UP}), S.REOPENED, by=SYSTEM),
    "escalate_not_recovered": Transition(EventKind.ESCALATED, frozenset({S.REOPENED}), S.ESCALATED, by=SYSTEM),
    # Case messaging (cases.messaging): an email that could not be delivered,
    # a customer's reply, and the reopening a reply brings when CVX_REOPEN_ON_REPLY says so.
    "fail_message": Transition(EventKind.MESSAGE_FAILED, ANY_STATUS, None, by=SYSTEM, kinds=EVERY_KIND),
    "receive_reply": Transition(EventKind.CUSTOMER_REPLIED, ANY_STATUS, None, by=SYSTEM, kinds=EVERY_KIND),
    "reopen_on_reply": Transition(
        EventKind.REOPENED, frozenset({S.RESOLVED, S.AWAITING_FOLLOW_UP, S.CLOSED}), S.REOPENED, by=SYSTEM
    ),
}
ACTIONS = tuple(name for name, t in TRANSITIONS.items() if t.by == PERSON)
# The transitions by (event kind, who): what record() looks up.
_RECORDED: dict[tuple[str, str], tuple[Transition, ...]] = {
    key: tuple(t for t in TRANSITIONS.values() if (t.kind, t.by) == key)
    for key in {(t.kind, t.by) for t in TRANSITIONS.values()}
}


def param(action: str, name: str) -> Param:
    """The parameter `name` of a person's action."""
    return next(p for p in TRANSITIONS[action].params if p.name == name)


def recorded_allows(kind: str, by: str, before: str | None, after: str, case_kind: str = CaseKind.COMPLAINT) -> bool:
    """Whether the table lets `by` (PERSON or SYSTEM) record an event of
    `kind` on a case of `case_kind` in status `before` (NO_CASE for its
    first event), leaving it in status `after`."""
    return any(
        case_kind in t.kinds and before in t.sources and after in (before, t.target)
        for t in _RECORDED.get((kind, by), ())
    )


def check_recorded(case: Case, kind: str, by: str, before: str | None, after: str) -> None:
    """Raise Conflict unless recorded_allows(...) for the case's kind: record()'s gate."""
    if not recorded_allows(kind, by, before, after, case.kind):
        shown = dict(S.choices)
        what = (
            f"move it from {shown.get(before, 'no case')} to {shown.get(after, after)}"
            if before != after
            else f"record it while it is {shown.get(before, 'no case')}"
        )
        on = _a(case.get_kind_display().lower())
        raise Conflict(f"Case {case.number}: the state table lets no {by} event {kind} {what} on {on}.")


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
    if rule == "team":
        return True
    if rule == "own":
        return case.owner_id == user.pk
    if rule == "take":
        return case.owner_id is None
    return False


def kind_allows(case: Case, action: str) -> bool:
    return case.kind in TRANSITIONS[action].kinds


def state_allows(case: Case, action: str) -> bool:
    return kind_allows(case, action) and case.status in TRANSITIONS[action].sources


def check(user, case: Case, action: str, *, member: bool) -> None:
    """Raise PermissionDenied (role) or Conflict (state) unless allowed."""
    if action not in ACTIONS:
        raise Conflict(f"Unknown action {action!r}.")
    if not role_allows(user, case, action, member=member):
        raise PermissionDenied(f"You may not {action.replace('_', ' ')} case {case.number}.")
    if not kind_allows(case, action):
        raise Conflict(
            f"Case {case.number} is {_a(case.get_kind_display().lower())}; "
            f"{_a(case.get_kind_display().lower())} cannot be {TRANSITIONS[action].done}."
        )
    if not state_allows(case, action):
        raise Conflict(
            f"Case {case.number} is {case.get_status_display().lower()}; it cannot be "
            f"{TRANSITIONS[action].done} in that state."
        )


def _a(noun: str) -> str:
    return f"an {noun}" if noun[:1] in "aeiou" else f"a {noun}"


def check_contact(case: Case, action: str, *, contacted: bool, unreachable: bool) -> None:
    """Raise Conflict, with the reason, when `action` needs the customer
    reached first and the case has no contact event (`contacted`) and the
    actor did not say the customer was unreachable."""
    reason = TRANSITIONS[action].needs_contact
    if reason and not contacted and not unreachable:
        raise Conflict(f"Case {case.number} cannot be {TRANSITIONS[action].done}: {reason}")


def may_assign_anyone(user, case: Case) -> bool:
    """Leads of the case's team and case admins may give a case to any
    active member of its team; frontline staff may only take it themselves."""
    return is_case_admin(user) or leads_team_of(user, case)


def assignable_owners(user, case: Case):
    """The people `user` may give the case to: active members of the case's
    team but its owner, and only `user` themselves unless may_assign_anyone."""
    members = case.team.members.filter(is_active=True).exclude(pk=case.owner_id)
    if not may_assign_anyone(user, case):
        members = members.filter(pk=user.pk)
    return members.order_by("username")


def bulk_assignable_owners(user):
    """The people `user` may give cases to in bulk: active members of the
    teams whose cases they may give to anyone (may_assign_anyone: every team
    for case admins, the teams they lead for leads). Each case is still
    checked against its own team by the service (assignable_owners)."""
    from django.contrib.auth import get_user_model

    from journeys.models import Team
    from journeys.selectors import teams_led_by

    teams = Team.objects.all() if is_case_admin(user) else teams_led_by(user)
    members = Team.members.through.objects.filter(team__in=teams).values("user_id")
    return get_user_model().objects.filter(is_active=True, pk__in=members).order_by("username")


def allowed_actions(user, case: Case, *, member: bool) -> list[str]:
    return [a for a in ACTIONS if state_allows(case, a) and role_allows(user, case, a, member=member)]
