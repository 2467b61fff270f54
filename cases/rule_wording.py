"""Routing rules in words, and the rules that can never fire.

Every condition field of `RoutingRule` is described once here (`CONDITIONS`):
how it reads and when an earlier rule's condition admits everything a later
rule's does. The changelist's wording and the overlap check both walk that
table, and `tests/admin/test_routing_rules_admin.py` fails when the model
gains a field that is neither a condition here nor listed in `OTHER_FIELDS`.

The overlap check is exact per field and conservative across fields: a rule
is flagged only when an earlier active rule admits, field by field, every
response the rule admits (so it is never wrongly flagged; a rule narrowed by
a journey on one side and by that journey's touchpoints on the other is not
flagged). The meaning of each field is `cases.services.routing.rule_matches`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from cases.choices import AssignmentStrategy, CaseKind, OpportunityKind, Priority
from cases.models import RoutingRule
from feedback.choices import FeedbackKind, Intent
from journeys.choices import Channel

# Fields that are not conditions on a response: what the rule does, and bookkeeping.
OTHER_FIELDS = frozenset(
    {
        "id",
        "name",
        "position",
        "active",
        "notes",
        "priority",
        "team",
        "strategy",
        "first_contact_sla_hours",
        "resolution_sla_hours",
        "round_robin_cursor",
        "opens",
        "opportunity_kind",
    }
)

_STRATEGY_WORDS = {
    AssignmentStrategy.DEFAULT_OWNER: "touchpoint's owner",
    AssignmentStrategy.ROUND_ROBIN: "round-robin",
    AssignmentStrategy.LEAST_LOADED: "least loaded",
    AssignmentStrategy.TEAM_LEAD: "team lead",
}


def _or(words: Iterable[str]) -> str:
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _related(rule: RoutingRule, field: str) -> list:
    # .all() reads the prefetch cache when the caller prefetched (the changelist does).
    return sorted(getattr(rule, field).all(), key=lambda row: (row.name, row.pk))


def _set_of(field: str) -> Callable[[RoutingRule], frozenset]:
    """The values a set-like condition admits; empty: no condition."""
    if field == "keywords":
        return lambda rule: frozenset(rule.keyword_list())
    if RoutingRule._meta.get_field(field).many_to_many:
        return lambda rule: frozenset(row.pk for row in getattr(rule, field).all())
    return lambda rule: frozenset(getattr(rule, field) or ())


def _subset_covers(values: Callable[[RoutingRule], frozenset]) -> Callable[[RoutingRule, RoutingRule], bool]:
    # "Any of these": the earlier admits all the later does when it has no
    # condition, or the later has one and each value it accepts the earlier accepts.
    def covers(earlier: RoutingRule, later: RoutingRule) -> bool:
        wide, narrow = values(earlier), values(later)
        return not wide or (bool(narrow) and narrow <= wide)

    return covers


def _bound_covers(field: str) -> Callable[[RoutingRule, RoutingRule], bool]:
    # "At most N": a bound is never met by a response without the score, so a
    # later rule without the bound admits responses the earlier refuses.
    def covers(earlier: RoutingRule, later: RoutingRule) -> bool:
        wide, narrow = getattr(earlier, field), getattr(later, field)
        return wide is None or (narrow is not None and narrow <= wide)

    return covers


def _bound_words(label: str, field: str) -> Callable[[RoutingRule], str | None]:
    def words(rule: RoutingRule) -> str | None:
        bound = getattr(rule, field)
        return None if bound is None else f"{label} ≤ {bound:g}"

    return words


def _floor_covers(field: str) -> Callable[[RoutingRule, RoutingRule], bool]:
    # "At least N": the mirror of _bound_covers.
    def covers(earlier: RoutingRule, later: RoutingRule) -> bool:
        wide, narrow = getattr(earlier, field), getattr(later, field)
        return wide is None or (narrow is not None and narrow >= wide)

    return covers


def _floor_words(label: str, field: str) -> Callable[[RoutingRule], str | None]:
    def words(rule: RoutingRule) -> str | None:
        floor = getattr(rule, field)
        return None if floor is None else f"{label} ≥ {floor:g}"

    return words


def _labels(choices, field: str, template: str) -> Callable[[RoutingRule], str | None]:
    def words(rule: RoutingRule) -> str | None:
        values = getattr(rule, field) or []
        labels = dict(choices.choices)
        return template.format(_or(labels.get(v, v) for v in values)) if values else None

    return words


def _names(field: str, template: str) -> Callable[[RoutingRule], str | None]:
    def words(rule: RoutingRule) -> str | None:
        rows = _related(rule, field)
        return template.format(_or(row.name for row in rows)) if rows else None

    return words


def _keyword_words(rule: RoutingRule) -> str | None:
    words = rule.keyword_list()
    return f"comment says {_or(f'“{w}”' for w in words)}" if words else None


@dataclass(frozen=True)
class Condition:
    """One condition field: `part` says where its words go (`what` the
    response says, `where` it came from, `channel`, `kind`)."""

    field: str
    part: str
    words: Callable[[RoutingRule], str | None]  # None: the condition is not set
    covers: Callable[[RoutingRule, RoutingRule], bool]


def _set_condition(field: str, part: str, words) -> Condition:
    return Condition(field, part, words, _subset_covers(_set_of(field)))


def _bound_condition(field: str, label: str) -> Condition:
    return Condition(field, "what", _bound_words(label, field), _bound_covers(field))


CONDITIONS: tuple[Condition, ...] = (
    _bound_condition("nps_at_most", "NPS"),
    Condition("nps_at_least", "what", _floor_words("NPS", "nps_at_least"), _floor_covers("nps_at_least")),
    _bound_condition("csat_at_most", "CSAT"),
    _bound_condition("ces_at_most", "CES"),
    _bound_condition("sentiment_at_most", "sentiment"),
    _set_condition("intents_any", "what", _labels(Intent, "intents_any", "intent {}")),
    _set_condition("keywords", "what", _keyword_words),
    _set_condition("journeys", "where", _names("journeys", "on {}")),
    _set_condition("touchpoints", "where", _names("touchpoints", "at {}")),
    _set_condition("channels", "channel", _labels(Channel, "channels", "by {}")),
    _set_condition("kinds", "kind", _labels(FeedbackKind, "kinds", "{} only")),
)


def rule_in_words(rule: RoutingRule) -> str:
    """“NPS ≤ 6 on Fix a fault, any channel → High, round-robin”: the rule's
    conditions, then what it does. Prefetch journeys and touchpoints when
    wording many rules."""
    parts: dict[str, list[str]] = {"what": [], "where": [], "channel": [], "kind": []}
    for condition in CONDITIONS:
        words = condition.words(rule)
        if words:
            parts[condition.part].append(words)
    text = " and ".join(parts["what"]) or "Any response"
    text += " " + (" ".join(parts["where"]) or "on any journey")
    text += ", " + (" ".join(parts["channel"]) or "any channel")
    if parts["kind"]:
        text += ", " + " ".join(parts["kind"])
    action = [Priority(rule.priority).label, _STRATEGY_WORDS.get(rule.strategy, rule.get_strategy_display())]
    if rule.opens == CaseKind.OPPORTUNITY:
        kind = dict(OpportunityKind.choices).get(rule.opportunity_kind, rule.opportunity_kind or "?")
        action.insert(0, f"{kind} opportunity")
    if rule.team_id:
        action.append(f"team {rule.team}")
    return f"{text} → {', '.join(action)}"


def rule_covers(earlier: RoutingRule, later: RoutingRule) -> bool:
    """Whether `earlier` matches every response `later` matches (field by
    field, module docstring): then `later` never fires behind it."""
    return all(condition.covers(earlier, later) for condition in CONDITIONS)


def rules_never_firing(rules: Iterable[RoutingRule]) -> dict[int, RoutingRule]:
    """For each rule that can never fire, the first earlier active rule that
    always matches before it. `rules` in routing order (position, id), with
    journeys and touchpoints prefetched; an inactive rule is checked as if
    it were switched on, and never shadows another."""
    shadowed: dict[int, RoutingRule] = {}
    earlier: list[RoutingRule] = []
    for rule in rules:
        first = next((e for e in earlier if rule_covers(e, rule)), None)
        if first is not None:
            shadowed[rule.pk] = first
        if rule.active:
            earlier.append(rule)
    return shadowed
