"""Routing: feedback a rule matches becomes a case of the kind the rule
opens, a complaint (negative feedback, the loop) or an opportunity (a
promoter to ask for a referral, a review or more business), or joins the
customer's open case of that kind. A response is routed at most once, guaranteed by RoutedResponse's
primary key, however often and wherever the task runs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from cases.choices import OPEN_STATUSES, AssignmentStrategy, CaseKind, CaseStatus, EventKind, RoutingOutcome
from cases.models import Case, RoutedResponse, RoutingRule
from cases.services._record import raise_priority, record
from cases.services.follow_up import follow_up_record_answer
from cvx_site.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from feedback.models import Customer, FeedbackResponse
from journeys.models import Team, Touchpoint


@dataclass(frozen=True)
class LoadedRule:
    """A rule with its many-to-many filters read once per routing run."""

    rule: RoutingRule
    journey_ids: frozenset[int]
    touchpoint_ids: frozenset[int]
    keyword_pattern: re.Pattern | None
    intents: frozenset[str]


def load_rules(*, also: RoutingRule | None = None) -> list[LoadedRule]:
    """The active rules in the order routing tries them. `also` (a rule being
    previewed) is included at its place even when it is inactive."""
    rules = RoutingRule.objects.filter(Q(active=True) | Q(pk=also.pk) if also is not None else Q(active=True))
    loaded = []
    for rule in rules.prefetch_related("journeys", "touchpoints"):
        words = rule.keyword_list()
        pattern = re.compile(r"\b(" + "|".join(map(re.escape, words)) + r")\b", re.I) if words else None
        loaded.append(
            LoadedRule(
                rule,
                frozenset(j.pk for j in rule.journeys.all()),
                frozenset(t.pk for t in rule.touchpoints.all()),
                pattern,
                frozenset(rule.intents_any or ()),
            )
        )
    return loaded


def rule_matches(loaded: LoadedRule, response: FeedbackResponse) -> bool:
    """Filters that are set must include the response; every condition that
    is set must hold (a condition on a score the response lacks does not).
    Live routing and the rule preview both decide with this function."""
    rule, tp = loaded.rule, response.touchpoint
    if loaded.journey_ids and tp.stage.journey_id not in loaded.journey_ids:
        return False
    if loaded.touchpoint_ids and tp.pk not in loaded.touchpoint_ids:
        return False
    if (rule.channels and tp.channel not in rule.channels) or (rule.kinds and response.kind not in rule.kinds):
        return False
    checks = [
        (rule.nps_at_most, lambda: response.nps is not None and response.nps <= rule.nps_at_most),
        (rule.nps_at_least, lambda: response.nps is not None and response.nps >= rule.nps_at_least),
        (rule.csat_at_most, lambda: response.csat is not None and response.csat <= rule.csat_at_most),
        (rule.ces_at_most, lambda: response.ces is not None and response.ces <= rule.ces_at_most),
        (
            rule.sentiment_at_most,
            lambda: response.sentiment is not None and response.sentiment <= rule.sentiment_at_most,
        ),
        (loaded.intents or None, lambda: not loaded.intents.isdisjoint(response.intents or ())),
        (loaded.keyword_pattern, lambda: bool(loaded.keyword_pattern.search(response.comment))),
    ]
    return all(test() for condition, test in checks if condition is not None)


def rule_prefilter(loaded: LoadedRule) -> Q:
    """The part of `rule_matches` that SQL can test, as a filter on
    FeedbackResponse: every response the rule matches passes it, so a reader
    may narrow rows with it and let `rule_matches` decide. Intents and
    keywords are left to `rule_matches` (a JSON list cannot be searched the
    same way on SQLite and PostgreSQL; keywords are whole words)."""
    rule, where = loaded.rule, Q()
    if loaded.journey_ids:
        where &= Q(touchpoint__stage__journey_id__in=loaded.journey_ids)
    if loaded.touchpoint_ids:
        where &= Q(touchpoint_id__in=loaded.touchpoint_ids)
    if rule.channels:
        where &= Q(touchpoint__channel__in=rule.channels)
    if rule.kinds:
        where &= Q(kind__in=rule.kinds)
    for field, bound in (
        ("nps", rule.nps_at_most),
        ("csat", rule.csat_at_most),
        ("ces", rule.ces_at_most),
        ("sentiment", rule.sentiment_at_most),
    ):
        if bound is not None:
            where &= Q(**{f"{field}__lte": bound})
    if rule.nps_at_least is not None:
        where &= Q(nps__gte=rule.nps_at_least)
    return where


def response_route(*, response_id: int, rules: list[LoadedRule] | None = None) -> RoutedResponse | None:
    """Route one response; returns its routing record, or None when another
    worker routed it first. Running it again changes nothing."""
    with transaction.atomic():
        response = FeedbackResponse.objects.select_related("touchpoint__stage", "touchpoint__team").get(pk=response_id)
        if RoutedResponse.objects.filter(response_id=response_id).exists():
            return None
        try:
            with transaction.atomic():
                routed = RoutedResponse.objects.create(response=response, outcome=RoutingOutcome.NO_MATCH)
        except IntegrityError:
            return None  # a concurrent run claimed it and has committed
        if response.invitation_id:
            case = follow_up_record_answer(response=response)
            if case is not None:
                routed.outcome, routed.case = RoutingOutcome.FOLLOW_UP, case
                routed.save()
                return routed
        rules = load_rules() if rules is None else rules
        matched = next((r for r in rules if rule_matches(r, response)), None)
        if matched is None:
            return routed
        routed.rule = matched.rule
        open_case = _open_case_of(response.customer_id, matched.rule.opens)
        if open_case is not None:
            _attach(open_case, response, matched.rule)
            routed.outcome, routed.case = RoutingOutcome.ATTACHED, open_case
        else:
            routed.outcome, routed.case = RoutingOutcome.OPENED, _open(response, matched.rule)
        routed.save()
        return routed


def responses_route_pending(*, batch_size: int = 500) -> int:
    """Route every response that was never routed (a lost task loses nothing)."""
    routed = 0
    rules = load_rules()
    while True:
        ids = list(
            FeedbackResponse.objects.filter(routing__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return routed
        for response_id in ids:
            routed += response_route(response_id=response_id, rules=rules) is not None


def _open_case_of(customer_id: int | None, kind: str) -> Case | None:
    """The customer's oldest open case of `kind` (a promoter's praise never
    joins their complaint, nor a complaint their opportunity)."""
    if customer_id is None:
        return None
    # The customer's row lock serialises routing of one customer's feedback,
    # so two negative responses at once cannot open two cases.
    Customer.objects.select_for_update().filter(pk=customer_id).first()
    case = (
        Case.objects.filter(customer_id=customer_id, kind=kind, status__in=OPEN_STATUSES).order_by("created_at").first()
    )
    return Case.objects.select_for_update(of=("self",)).get(pk=case.pk) if case else None


def _attach(case: Case, response: FeedbackResponse, rule: RoutingRule) -> None:
    record(
        case,
        kind=EventKind.FEEDBACK_ATTACHED,
        actor=None,
        now=timezone.now(),
        data={"response": response.pk, "rule": rule.name, "nps": response.nps, "csat": response.csat},
        priority=raise_priority(case.priority, rule.priority),
    )


def _open(response: FeedbackResponse, rule: RoutingRule) -> Case:
    tp: Touchpoint = response.touchpoint
    team = rule.team or tp.team
    start = response.received_at
    first_hours = rule.first_contact_sla_hours or tp.first_contact_sla_hours
    resolve_hours = rule.resolution_sla_hours or tp.resolution_sla_hours
    now = timezone.now()
    case = Case(
        customer_id=response.customer_id,
        feedback=response,
        touchpoint=tp,
        journey_id=tp.stage.journey_id,
        team=team,
        kind=rule.opens,
        opportunity_kind=rule.opportunity_kind if rule.opens == CaseKind.OPPORTUNITY else "",
        status=CaseStatus.NEW,
        priority=rule.priority,
        rule=rule,
        first_contact_due=start + timedelta(hours=first_hours),
        resolve_due=start + timedelta(hours=resolve_hours),
        created_at=now,
        updated_at=now,
    )
    case.due_at = case.first_contact_due
    case.save(force_insert=True)
    record(
        case,
        kind=EventKind.OPENED,
        actor=None,
        now=now,
        data={
            "response": response.pk,
            "rule": rule.name,
            **({"kind": case.kind, "opportunity_kind": case.opportunity_kind} if case.opportunity_kind else {}),
            "nps": response.nps,
            "csat": response.csat,
            "first_contact_due": case.first_contact_due,
            "resolve_due": case.resolve_due,
        },
    )
    owner = pick_owner(rule, tp, team)
    if owner is not None:
        record(
            case,
            kind=EventKind.ASSIGNED,
            actor=None,
            now=now,
            data={"owner": owner.get_username(), "strategy": rule.strategy},
            owner_id=owner.pk,
        )
    return case


def pick_owner(rule: RoutingRule, touchpoint: Touchpoint, team: Team):
    """The owner the rule's strategy picks among the team's active members
    (or the team's lead, if active); None leaves the case in the team queue."""
    if rule.strategy == AssignmentStrategy.TEAM_LEAD:
        # The lead need not be a member of the team they lead.
        return get_user_model().objects.filter(pk=team.lead_id, is_active=True).first() if team.lead_id else None
    members = get_user_model().objects.filter(teams=team, is_active=True).order_by("pk")
    if rule.strategy == AssignmentStrategy.DEFAULT_OWNER:
        owner_id = touchpoint.default_owner_id
        return members.filter(pk=owner_id).first() if owner_id else None
    if rule.strategy == AssignmentStrategy.LEAST_LOADED:
        return (
            members.annotate(open_cases=Count("owned_cases", filter=Q(owned_cases__status__in=OPEN_STATUSES)))
            .order_by("open_cases", "pk")
            .first()
        )
    # Round-robin: the rule's row lock keeps two workers from picking the same next member.
    locked = RoutingRule.objects.select_for_update().get(pk=rule.pk)
    owner = members.filter(pk__gt=locked.round_robin_cursor_id or 0).first() or members.first()
    if owner is not None:
        RoutingRule.objects.filter(pk=rule.pk).update(round_robin_cursor=owner)
    return owner


MOVES = {"up": -1, "down": 1}


def routing_rule_move(*, actor, rule_id: int, direction: str, seen_position: int) -> RoutingRule:
    """Swap the rule with its neighbour in routing order ("up": tried one
    earlier, "down": one later) and return it. One transaction that locks
    every rule (always in the same order, so two moves wait for each other
    instead of deadlocking) and records the move of both rules in their
    admin history (LogEntry), where every other edit of a rule is recorded.

    `seen_position` is where the caller saw the rule: when someone moved it
    meanwhile, or it has no neighbour that way, Conflict says so and nothing
    changes. NotFound when the rule is gone; PermissionDenied without the
    change permission of routing rules."""
    if direction not in MOVES:
        raise InvalidInput(f"Move “up” or “down”, not “{direction[:20]}”.", field="direction")
    if not actor.has_perm("cases.change_routingrule"):
        raise PermissionDenied("You may not change routing rules.")
    with transaction.atomic():
        rules = sorted(RoutingRule.objects.select_for_update().order_by("pk"), key=lambda r: (r.position, r.pk))
        index = next((i for i, r in enumerate(rules) if r.pk == rule_id), None)
        if index is None:
            raise NotFound("This routing rule no longer exists.")
        rule = rules[index]
        if rule.position != seen_position:
            raise Conflict(
                f"“{rule}” was moved by someone else meanwhile (it is now at position {rule.position}, "
                f"not {seen_position}). Nothing was changed: look at the new order and move it again."
            )
        other = index + MOVES[direction]
        if not 0 <= other < len(rules):
            raise Conflict(f"“{rule}” is already the {'first' if direction == 'up' else 'last'} rule.")
        neighbour = rules[other]
        mine, theirs = rule.position, neighbour.position
        # Positions are unique, checked row by row: park one rule past the end to swap.
        RoutingRule.objects.filter(pk=rule.pk).update(position=rules[-1].position + 1)
        RoutingRule.objects.filter(pk=neighbour.pk).update(position=mine)
        RoutingRule.objects.filter(pk=rule.pk).update(position=theirs)
        rule.position, neighbour.position = theirs, mine
        for moved, before, after, swapped in ((rule, mine, theirs, neighbour), (neighbour, theirs, mine, rule)):
            LogEntry.objects.log_actions(
                user_id=actor.pk,
                queryset=[moved],
                action_flag=CHANGE,
                change_message=f"Moved from position {before} to {after} (swapped with “{swapped}”).",
                single_object=True,
            )
    return rule


def routing_rule_put(*, name: str, position: int, fields: dict) -> RoutingRule:
    """Create or update the rule called `name` with `fields`, at `position`
    (how seed_demo lays out its rules, again on every run). Another rule at
    that position moves past the last one: positions stay unique and the
    others keep their order."""
    with transaction.atomic():
        rules = list(RoutingRule.objects.select_for_update().order_by("pk"))
        holder = next((r for r in rules if r.position == position and r.name != name), None)
        if holder is not None:
            last = max(r.position for r in rules)
            RoutingRule.objects.filter(pk=holder.pk).update(position=last + 1)
        rule, _ = RoutingRule.objects.update_or_create(name=name, defaults={**fields, "position": position})
    return rule
