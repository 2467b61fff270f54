"""What cases hold of a journey, carried over when a future-state design is
promoted in its place (`journeys.services.promotion_hooks`, filled in
`CasesConfig.ready`): `journeys` knows nothing of cases, so it calls this
inside the promotion's transaction."""

from __future__ import annotations

from django.contrib.admin.models import CHANGE, LogEntry

from cases.models import Case, RoutingRule
from journeys.models import Journey


def journey_promoted(*, actor, archived: Journey, promoted: Journey) -> str:
    """Routing rules filtered by `archived` filter by `promoted` instead, so
    a response on a carried touchpoint (same id, now in `promoted`) matches
    the rules it matched before; each rule's admin history (LogEntry, where
    every edit of a rule is recorded) says so, by `actor`. Cases of the
    carried touchpoints count under the journey their touchpoint is in now,
    as their feedback does; those of touchpoints left in `archived` stay.
    Returns what changed, in words for the promotion's record."""
    ids = list(archived.routing_rules.values_list("pk", flat=True))
    # Locked in id order, as every write of several rules locks them.
    rules = list(RoutingRule.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    for rule in rules:
        rule.journeys.remove(archived)
        rule.journeys.add(promoted)
        LogEntry.objects.log_actions(
            user_id=actor.pk,
            queryset=[rule],
            action_flag=CHANGE,
            change_message=f"Journey condition carried from “{archived}” to “{promoted}”, "
            "promoted in its place, so the rule goes on matching its touchpoints.",
            single_object=True,
        )
    cases = Case.objects.filter(journey=archived, touchpoint__stage__journey=promoted).update(journey=promoted)
    said = []
    if rules:
        said.append(f"{len(rules)} routing rule(s) filtered by the archived journey now filter by this one.")
    if cases:
        said.append(f"{cases} case(s) of the carried touchpoints now count under this journey.")
    return " ".join(said)
