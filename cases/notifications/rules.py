"""Who is told of which case event, in one table: `RULES` maps an event kind
to the notification kind and the people it reaches. record() queues
delivery for the kinds listed here (NOTIFIED_EVENTS) and nothing else.

Whoever a rule names, delivery then keeps only active people who may see
the case (cases.selectors.cases_visible_to) and never the event's own actor:
nobody is told of what they did themselves."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cases.choices import EventKind, NotificationKind
from cases.models import CaseEvent

# The people a rule may name.
OWNER = "owner"  # the case's owner when the notification goes out
NEW_OWNER = "new_owner"  # the owner the event gave the case
LEAD = "lead"  # the lead of the case's team


def _always(event: CaseEvent) -> bool:
    return True


@dataclass(frozen=True)
class Rule:
    kind: str  # a NotificationKind: what the person's email preference is for
    to: tuple[str, ...]  # OWNER, NEW_OWNER, LEAD
    subject: str  # formatted with `number` (the case number) and `sla`
    lead: str  # the email's first line
    when: Callable[[CaseEvent], bool] = _always  # reads the event (and its case) as delivered


def _not_recovered(event: CaseEvent) -> bool:
    return event.data.get("recovered") is False


def _still_unassigned(event: CaseEvent) -> bool:
    # Routing assigns in the transaction that opens the case, so after
    # commit an owner is there unless the case was left in the team's queue
    # (or someone has taken it meanwhile, when there is nothing to tell).
    return event.case.owner_id is None


RULES: dict[str, Rule] = {
    EventKind.ASSIGNED: Rule(
        NotificationKind.ASSIGNED,
        (NEW_OWNER,),
        "[CVX] {number} is yours",
        "A case has been assigned to you.",
    ),
    EventKind.CUSTOMER_REPLIED: Rule(
        NotificationKind.CUSTOMER_REPLIED,
        (OWNER,),
        "[CVX] {number}: the customer replied",
        "The customer of your case replied by email; the reply is on the case.",
    ),
    # Routing attaches a customer's new feedback that a rule finds negative
    # to their open case (cases.services.routing).
    EventKind.FEEDBACK_ATTACHED: Rule(
        NotificationKind.NEGATIVE_FEEDBACK,
        (OWNER,),
        "[CVX] {number}: the customer gave new negative feedback",
        "The customer of your open case gave new negative feedback; it is on the case.",
    ),
    EventKind.FOLLOW_UP_ANSWERED: Rule(
        NotificationKind.NOT_RECOVERED,
        (OWNER,),
        "[CVX] {number}: the customer was not recovered",
        "The follow-up survey of your case says the customer was not won back.",
        when=_not_recovered,
    ),
    EventKind.SLA_BREACHED: Rule(
        NotificationKind.BREACHED,
        (OWNER, LEAD),
        "[CVX] {number} breached its {sla} SLA",
        "A case is past its due time and has been escalated to the team lead.",
    ),
    EventKind.ESCALATED: Rule(
        NotificationKind.ESCALATED,
        (LEAD,),
        "[CVX] {number} escalated",
        "A case of your team has been escalated to you.",
    ),
    EventKind.OPENED: Rule(
        NotificationKind.TEAM_QUEUE,
        (LEAD,),
        "[CVX] {number} waits in your team's queue",
        "A new case was opened for your team and no one was assigned to it.",
        when=_still_unassigned,
    ),
    EventKind.MESSAGE_FAILED: Rule(
        NotificationKind.MESSAGE_FAILED,
        (OWNER,),
        "[CVX] {number}: an email to the customer was not delivered",
        "An email sent from your case could not be delivered; the error is on the case.",
    ),
}

NOTIFIED_EVENTS = frozenset(RULES)
