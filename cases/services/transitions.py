"""The case actions of the state table (cases.policy). Each one: one transaction,
the case row locked, the actor's scope, role and the case's state checked,
the change applied and an audit event appended."""

from __future__ import annotations

from contextlib import contextmanager
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from cases import handling, policy
from cases.choices import CaseOutcome, CaseStatus, ContactChannel, EventKind, Priority
from cases.models import AMOUNT_DIGITS, AMOUNT_PLACES, Case, RootCause
from cases.persistence import lock_case
from cases.services._record import raise_priority, record
from cases.services.follow_up import start_follow_up
from cvx_site.errors import Conflict, InvalidInput, NotFound

NOTE_MAX_CHARS = 10_000


@contextmanager
def acting_on(case_id: int, actor, action: str):
    """Lock the case, if `actor` may see it (cases.selectors.cases_to_act_on),
    and check that they may do `action` to it now: the one way in for every
    service that acts on a case as a person (transitions here, messages in
    cases.messaging)."""
    with transaction.atomic():
        case, member = lock_case(case_id, actor)
        if case is None:
            raise NotFound(f"No case {case_id} that you can see.")
        policy.check(actor, case, action, member=member)
        yield case


def _note(action: str, text: str | None) -> str:
    """The action's note, stripped; refused when the state table requires
    one and it is empty, or when it is too long."""
    param = policy.param(action, "note")
    text = (text or "").strip()
    if param.required and not text:
        raise InvalidInput(param.missing, field="note")
    if len(text) > NOTE_MAX_CHARS:
        raise InvalidInput(f"At most {NOTE_MAX_CHARS} characters.", field="note")
    return text


def case_acknowledge(*, case_id: int, actor, note: str = "") -> Case:
    """new or reopened -> acknowledged."""
    note = _note("acknowledge", note)
    with acting_on(case_id, actor, "acknowledge") as case:
        record(
            case,
            kind=EventKind.ACKNOWLEDGED,
            actor=actor,
            now=timezone.now(),
            note=note,
            status=CaseStatus.ACKNOWLEDGED,
        )
    return case


def case_log_contact(*, case_id: int, actor, channel: str, note: str, handling_minutes=None, opened: str = "") -> Case:
    """Record a contact with the customer (how, and what was agreed) -> contacted.
    The first contact stops the first-contact SLA clock. Its handling time
    (cases.handling) is recorded on the event: `handling_minutes` as
    entered, else measured from the signed `opened` time of the page's form,
    else none. Raises InvalidInput naming the field for a bad value."""
    if channel not in ContactChannel.values:
        raise InvalidInput(policy.param("log_contact", "channel").missing, field="channel")
    note = _note("log_contact", note)
    minutes = handling.parse_minutes(handling_minutes)
    with acting_on(case_id, actor, "log_contact") as case:
        now = timezone.now()
        record(
            case,
            kind=EventKind.CONTACTED,
            actor=actor,
            now=now,
            note=note,
            data={
                "channel": channel,
                **handling.handling_data(minutes=minutes, opened=opened, case_id=case.pk, now=now),
            },
            status=CaseStatus.CONTACTED,
            first_contact_at=case.first_contact_at or now,
            contact_count=case.contact_count + 1,
        )
    return case


def case_note(*, case_id: int, actor, note: str) -> Case:
    """Add a note; the state does not change."""
    note = _note("note", note)
    with acting_on(case_id, actor, "note") as case:
        record(case, kind=EventKind.NOTE, actor=actor, now=timezone.now(), note=note)
    return case


def case_reassign(*, case_id: int, actor, owner, note: str = "") -> Case:
    """Give the case to `owner` (a user or user id), an active member of the
    case's team. Frontline staff may only take unassigned cases themselves."""
    owner, note = _user(owner), _note("reassign", note)
    with acting_on(case_id, actor, "reassign") as case:
        if not policy.may_assign_anyone(actor, case) and owner.pk != actor.pk:
            raise InvalidInput("You can only take the case yourself.", field="owner")
        if owner.pk == case.owner_id:
            raise Conflict(f"{owner.get_username()} already owns case {case.number}.")
        if not policy.assignable_owners(actor, case).filter(pk=owner.pk).exists():
            raise InvalidInput(f"{owner.get_username()} is not an active member of {case.team}.", field="owner")
        record(
            case,
            kind=EventKind.ASSIGNED,
            actor=actor,
            now=timezone.now(),
            note=note,
            data={"owner": owner.get_username()},
            owner_id=owner.pk,
        )
    return case


def case_escalate(*, case_id: int, actor, note: str = "") -> Case:
    """Escalate to the team lead: status escalated, priority at least high."""
    note = _note("escalate", note)
    with acting_on(case_id, actor, "escalate") as case:
        record(
            case,
            kind=EventKind.ESCALATED,
            actor=actor,
            now=timezone.now(),
            note=note,
            status=CaseStatus.ESCALATED,
            priority=raise_priority(case.priority, Priority.HIGH),
        )
    return case


def case_resolve(*, case_id: int, actor, root_cause, note: str, unreachable: bool = False) -> Case:
    """-> resolved, with a root cause and a summary of what was done (both
    required); then the follow-up survey goes out (-> awaiting_follow_up)
    unless the contact rules forbid it, which is recorded.

    Raises Conflict unless the case has a contact event (a logged contact or
    a sent message) or `unreachable` says the customer could not be reached;
    an unreachable resolution is recorded on the event and the case."""
    note = _note("resolve", note)
    cause = _root_cause(root_cause)
    unreachable = bool(unreachable)
    with acting_on(case_id, actor, "resolve") as case:
        contacted = case.events.filter(kind=EventKind.CONTACTED).exists()
        policy.check_contact(case, "resolve", contacted=contacted, unreachable=unreachable)
        now = timezone.now()
        record(
            case,
            kind=EventKind.RESOLVED,
            actor=actor,
            now=now,
            note=note,
            data={"root_cause": str(cause), **({"unreachable": True} if unreachable else {})},
            status=CaseStatus.RESOLVED,
            root_cause_id=cause.pk,
            resolution_summary=note,
            resolved_at=now,
            unreachable=unreachable,
        )
        start_follow_up(case, now=now)
    return case


def case_reopen(*, case_id: int, actor, note: str) -> Case:
    """resolved, awaiting follow-up or closed -> reopened (reason required)."""
    note = _note("reopen", note)
    with acting_on(case_id, actor, "reopen") as case:
        record(
            case,
            kind=EventKind.REOPENED,
            actor=actor,
            now=timezone.now(),
            note=note,
            status=CaseStatus.REOPENED,
            outcome=None,
            resolved_at=None,
            closed_at=None,
        )
    return case


def case_cancel(*, case_id: int, actor, note: str) -> Case:
    """Any open state -> cancelled, outcome cancelled (reason required)."""
    note = _note("cancel", note)
    with acting_on(case_id, actor, "cancel") as case:
        record(
            case,
            kind=EventKind.CANCELLED,
            actor=actor,
            now=timezone.now(),
            note=note,
            status=CaseStatus.CANCELLED,
            outcome=CaseOutcome.CANCELLED,
            closed_at=timezone.now(),
        )
    return case


def parse_amount(value) -> Decimal | None:
    """An opportunity's amount won: empty is None; otherwise a number, at
    least 0, with at most AMOUNT_PLACES decimals and AMOUNT_DIGITS digits in
    all. Raises InvalidInput naming `amount` with the reason."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise InvalidInput("Enter the amount as a number, e.g. 1250.00.", field="amount")
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise InvalidInput("Enter the amount as a number, e.g. 1250.00.", field="amount") from None
    if not amount.is_finite():
        raise InvalidInput("Enter the amount as a number, e.g. 1250.00.", field="amount")
    if amount < 0:
        raise InvalidInput("The amount cannot be negative.", field="amount")
    whole_digits = AMOUNT_DIGITS - AMOUNT_PLACES
    if amount >= Decimal(10) ** whole_digits:
        raise InvalidInput(f"At most {whole_digits} digits before the decimal point.", field="amount")
    if amount != amount.quantize(Decimal(1).scaleb(-AMOUNT_PLACES), rounding="ROUND_DOWN"):
        raise InvalidInput(f"At most {AMOUNT_PLACES} decimal places.", field="amount")
    return amount.quantize(Decimal(1).scaleb(-AMOUNT_PLACES))


def _end_opportunity(case_id: int, actor, action: str, kind: str, status: str, note: str, **changes) -> Case:
    note = _note(action, note)
    with acting_on(case_id, actor, action) as case:
        now = timezone.now()
        data = {"amount": str(changes["amount"])} if changes.get("amount") is not None else None
        record(case, kind=kind, actor=actor, now=now, note=note, data=data, status=status, closed_at=now, **changes)
    return case


def case_win(*, case_id: int, actor, amount=None, note: str = "") -> Case:
    """An opportunity, contacted -> won, with the amount it brought in
    (optional; InvalidInput naming `amount` when it is not a number of at
    most 10 + 2 digits, at least 0). The amount is on the case and the event."""
    return _end_opportunity(case_id, actor, "win", EventKind.WON, CaseStatus.WON, note, amount=parse_amount(amount))


def case_lose(*, case_id: int, actor, note: str = "") -> Case:
    """An opportunity, contacted -> lost."""
    return _end_opportunity(case_id, actor, "lose", EventKind.LOST, CaseStatus.LOST, note)


def case_no_answer(*, case_id: int, actor, note: str = "") -> Case:
    """An opportunity, open or contacted -> no answer (the customer could not be reached)."""
    return _end_opportunity(case_id, actor, "no_answer", EventKind.NO_ANSWER, CaseStatus.NO_ANSWER, note)


# The service of each of people's actions; what each takes is in the state table.
_SERVICES = {
    "acknowledge": case_acknowledge,
    "log_contact": case_log_contact,
    "note": case_note,
    "reassign": case_reassign,
    "escalate": case_escalate,
    "resolve": case_resolve,
    "reopen": case_reopen,
    "cancel": case_cancel,
    "win": case_win,
    "lose": case_lose,
    "no_answer": case_no_answer,
}


def case_transition(*, case_id: int, actor, action: str, **params) -> Case:
    """Run `action` (one of policy.ACTIONS) with the parameters the state
    table gives it; missing parameters count as empty."""
    if action not in _SERVICES:
        raise InvalidInput(f"Choose one of: {', '.join(policy.ACTIONS)}.", field="action")
    names = (p.name for p in policy.TRANSITIONS[action].params)
    # Only a missing value is empty: a given 0 is the service's to judge.
    given = {n: "" if params.get(n) is None else params[n] for n in names}
    return _SERVICES[action](case_id=case_id, actor=actor, **given)


def _user(value):
    User = get_user_model()
    if isinstance(value, User):
        return value
    try:
        return User.objects.get(pk=int(value))
    except (TypeError, ValueError, User.DoesNotExist):
        raise InvalidInput(policy.param("reassign", "owner").missing, field="owner") from None


def _root_cause(value) -> RootCause:
    if isinstance(value, RootCause):
        cause = value
    else:
        try:
            cause = RootCause.objects.get(pk=int(value))
        except (TypeError, ValueError, RootCause.DoesNotExist):
            raise InvalidInput(policy.param("resolve", "root_cause").missing, field="root_cause") from None
    if not cause.active:
        raise InvalidInput(f"{cause} is no longer in use.", field="root_cause")
    return cause
