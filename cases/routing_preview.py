"""The rule preview, a dry run: what one routing rule would have done to the
feedback of the last N days, decided by the function live routing uses
(`rule_matches`) and read without writing anything.

The dry run replays the responses as live routing would meet them now, in
arrival order, with the active rules in their order and the previewed rule
at its place (even when it is inactive). As routing does, it skips answers
to follow-up surveys, lets the first matching rule take a response, and
attaches a response to its customer's open case instead of opening another.
A customer has an open case when one of their cases that is open now was
opened by a response from before the replayed span, or when an earlier
response of the replay opened one: cases opened in the replay are taken to
stay open to its end.

Bounded time on a large table: the conditions SQL can test are pushed into
the query (`rule_prefilter`, for every rule that takes part), and only the
latest `max_rows` responses of the window are replayed; the result says how
many were and of how many.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import reduce
from operator import or_

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from cases.choices import OPEN_STATUSES
from cases.models import Case, FollowUp, RoutingRule
from cases.services.routing import LoadedRule, load_rules, rule_matches, rule_prefilter
from feedback.models import FeedbackResponse
from journeys.models import Touchpoint

PREVIEW_MAX_ROWS = 20_000
PREVIEW_MAX_DAYS = 365
EXAMPLES = 20
# What rule_matches reads of a response; the comment only when a rule has keywords.
_FIELDS = ("id", "touchpoint_id", "customer_id", "kind", "nps", "csat", "ces", "sentiment", "intents", "received_at")

OPENS, ATTACHES, TAKEN = "opens", "attaches", "taken"


@dataclass(frozen=True)
class PreviewExample:
    response: FeedbackResponse
    outcome: str  # OPENS, ATTACHES or TAKEN (an earlier rule routes it)
    taken_by: str = ""


@dataclass
class RulePreview:
    """`received` responses arrived in the window; the latest `scanned` of
    them were replayed (all of them unless `sampled`). Of those, the rule
    matches `matched` on its own; it would route the ones no earlier rule
    takes, opening a case for `opened` (response ids) and attaching
    `attached` to their customer's open case; `taken` are the ones it
    matches that an earlier rule routes."""

    rule: RoutingRule
    days: int
    since: datetime
    received: int = 0
    scanned: int = 0
    matched: int = 0
    opened: list[int] = field(default_factory=list)
    attached: list[int] = field(default_factory=list)
    taken: dict[int, str] = field(default_factory=dict)  # response id: the earlier rule that routes it
    examples: list[PreviewExample] = field(default_factory=list)

    @property
    def sampled(self) -> bool:
        return self.scanned < self.received

    @property
    def routed(self) -> int:
        return len(self.opened) + len(self.attached)


def routing_rule_preview(
    *,
    rule: RoutingRule,
    days: int = 30,
    max_rows: int = PREVIEW_MAX_ROWS,
    examples_from: QuerySet[FeedbackResponse] | None = None,
    now: datetime | None = None,
) -> RulePreview:
    """What `rule` would have done to the responses received in the last
    `days` days (module docstring). Examples, newest first, come from
    `examples_from` (the caller's visible feedback; none when None); counts
    cover every response, as the rule does. Writes nothing: the reads run
    in a transaction that is rolled back, read-only on PostgreSQL."""
    if not 1 <= days <= PREVIEW_MAX_DAYS:
        raise ValueError(f"days must be between 1 and {PREVIEW_MAX_DAYS}")
    now = now or timezone.now()
    preview = RulePreview(rule=rule, days=days, since=now - timedelta(days=days))
    connection = transaction.get_connection()
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION READ ONLY")
        try:
            _replay(preview, now=now, max_rows=max_rows)
            if examples_from is not None:
                preview.examples = _examples(preview, examples_from)
        finally:
            transaction.set_rollback(True)
    return preview


def _replay(preview: RulePreview, *, now: datetime, max_rows: int) -> None:
    rules = load_rules(also=preview.rule)
    index = next(i for i, loaded in enumerate(rules) if loaded.rule.pk == preview.rule.pk)
    window = FeedbackResponse.objects.filter(received_at__gte=preview.since, received_at__lte=now)
    preview.received = window.count()
    start = preview.since
    if preview.received > max_rows:
        start, edge_pk = window.order_by("-received_at", "-pk").values_list("received_at", "pk")[max_rows - 1]
        window = window.filter(Q(received_at__gt=start) | Q(received_at=start, pk__gte=edge_pk))
    preview.scanned = min(preview.received, max_rows)
    rows = _candidates(window, rules)
    open_customers = _customers_with_open_cases_before(start, rows)
    for response in rows:
        first = next((i for i, loaded in enumerate(rules) if rule_matches(loaded, response)), None)
        if first is None:
            continue
        opens = response.customer_id is None or response.customer_id not in open_customers
        if response.customer_id is not None:
            open_customers.add(response.customer_id)
        if first < index:
            if rule_matches(rules[index], response):
                preview.matched += 1
                preview.taken[response.pk] = rules[first].rule.name
        elif first == index:
            preview.matched += 1
            (preview.opened if opens else preview.attached).append(response.pk)


def _candidates(window: QuerySet, rules: list[LoadedRule]) -> list[FeedbackResponse]:
    """The window's responses that some rule may match, in routing order,
    with their touchpoints; follow-up answers are left out (routing records
    them on their case)."""
    prefilters = [rule_prefilter(loaded) for loaded in rules]
    if all(prefilters):  # an empty Q is "any response": then nothing narrows
        window = window.filter(reduce(or_, prefilters))
    fields = _FIELDS + (("comment",) if any(loaded.keyword_pattern for loaded in rules) else ())
    answers = FollowUp.objects.filter(invitation_id=OuterRef("invitation_id"))
    rows = list(window.exclude(Exists(answers)).only(*fields).order_by("pk"))
    touchpoints = Touchpoint.objects.select_related("stage").in_bulk({r.touchpoint_id for r in rows})
    for response in rows:
        response.touchpoint = touchpoints[response.touchpoint_id]
    return rows


def _customers_with_open_cases_before(start: datetime, rows: list[FeedbackResponse]) -> set[int]:
    customers = sorted({r.customer_id for r in rows if r.customer_id is not None})
    found: set[int] = set()
    for chunk in range(0, len(customers), 500):
        found.update(
            Case.objects.filter(
                status__in=OPEN_STATUSES,
                feedback__received_at__lt=start,
                customer_id__in=customers[chunk : chunk + 500],
            ).values_list("customer_id", flat=True)
        )
    return found


def _examples(preview: RulePreview, visible: QuerySet[FeedbackResponse]) -> list[PreviewExample]:
    """Up to EXAMPLES the caller may see: the responses the rule would route,
    newest first, then those an earlier rule takes."""
    outcomes = {pk: PreviewExample(None, OPENS) for pk in preview.opened}
    outcomes.update({pk: PreviewExample(None, ATTACHES) for pk in preview.attached})
    ordered = sorted(outcomes, reverse=True) + sorted(preview.taken, reverse=True)
    found: dict[int, FeedbackResponse] = {}
    for chunk in range(0, len(ordered), 500):
        ids = ordered[chunk : chunk + 500]
        found.update(visible.filter(pk__in=ids).select_related("touchpoint").in_bulk(ids))
        if len(found) >= EXAMPLES:
            break
    shown = [pk for pk in ordered if pk in found][:EXAMPLES]
    return [
        PreviewExample(found[pk], outcomes[pk].outcome)
        if pk in outcomes
        else PreviewExample(found[pk], TAKEN, preview.taken[pk])
        for pk in shown
    ]
