"""The demo's promoter loop (issue 19): one opportunity rule and a few
opportunities in different states, seeded again without change."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from cases.choices import CaseKind
from cases.models import Case, RoutingRule

pytestmark = pytest.mark.django_db


def test_the_demo_has_an_opportunity_rule_and_opportunities_in_several_states():
    from cases.audit import verify_all

    call_command("seed_demo", "--history", "240")
    rule = RoutingRule.objects.get(name="Promoters after an install: referral")
    assert (rule.opens, rule.opportunity_kind, rule.nps_at_least, rule.active) == ("opportunity", "referral", 9, True)
    assert [t.slug for t in rule.touchpoints.all()] == ["gc-install-visit"]
    opportunities = Case.objects.filter(kind=CaseKind.OPPORTUNITY)
    assert set(opportunities.values_list("touchpoint__slug", flat=True)) == {"gc-install-visit"}
    assert {"new", "contacted", "won", "lost", "no_answer"} <= set(opportunities.values_list("status", flat=True))
    assert opportunities.filter(status="won", amount__gt=0).exists()
    assert not opportunities.filter(feedback__nps__lt=9).exists()
    assert list(verify_all()) == []
    cases, rules = list(Case.objects.values_list("pk", "status", "amount")), RoutingRule.objects.count()
    call_command("seed_demo", "--history", "240")
    assert list(Case.objects.values_list("pk", "status", "amount")) == cases
    assert RoutingRule.objects.count() == rules
