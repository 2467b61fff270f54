"""Routing opens opportunities (issue 19, the promoter loop): a rule says what
it opens; a promoter's response matching an opportunity rule opens an
opportunity in its team's queue, once; the rule's admin form and wording."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.choices import CaseKind, CaseStatus, OpportunityKind, RoutingOutcome
from cases.models import Case, RoutedResponse, RoutingRule
from cases.rule_wording import rule_in_words
from cases.services import response_route, sla_sweep
from feedback.services import feedback_ingest

pytestmark = pytest.mark.django_db


def ingest_and_route(n: int, *, nps: int, email: str | None = None, comment: str = "") -> RoutedResponse:
    outcome = feedback_ingest(
        item={
            "touchpoint": "fault-line",
            "source": "survey",
            "external_id": f"opp-{n}",
            "nps": nps,
            "comment": comment,
            "customer": {"email": email or f"opp-{n}@example.com"},
        }
    )
    assert outcome.status == "created", outcome.errors
    response_route(response_id=outcome.response.pk)
    return RoutedResponse.objects.select_related("case").get(response=outcome.response)


def test_a_promoters_response_opens_an_opportunity_in_the_teams_queue(detractor_rule, promoter_rule, team, agent):
    routed = ingest_and_route(1, nps=10, comment="Brilliant engineer, fixed it in minutes")
    case = routed.case
    assert (routed.outcome, routed.rule) == (RoutingOutcome.OPENED, promoter_rule)
    assert (case.kind, case.opportunity_kind, case.status, case.amount) == (
        CaseKind.OPPORTUNITY,
        OpportunityKind.REFERRAL,
        CaseStatus.NEW,
        None,
    )
    assert (case.team, case.owner) == (team, agent)
    opened = case.events.order_by("seq").first()
    assert opened.data["opportunity_kind"] == "referral" and opened.data["rule"] == promoter_rule.name


def test_a_detractors_response_does_not_open_an_opportunity(detractor_rule, promoter_rule):
    routed = ingest_and_route(1, nps=3)
    assert routed.case.kind == CaseKind.COMPLAINT and routed.rule == detractor_rule
    assert not Case.objects.filter(kind=CaseKind.OPPORTUNITY).exists()


def test_a_passive_matches_neither(detractor_rule, promoter_rule):
    assert ingest_and_route(1, nps=8).outcome == RoutingOutcome.NO_MATCH


def test_a_complaint_rule_never_opens_an_opportunity(db, touchpoint):
    RoutingRule.objects.create(name="Anything", position=1)  # no condition: matches every response
    routed = ingest_and_route(1, nps=10)
    assert routed.case.kind == CaseKind.COMPLAINT and routed.case.opportunity_kind == ""


def test_routing_twice_opens_one_opportunity(promoter_rule):
    routed = ingest_and_route(1, nps=9)
    assert response_route(response_id=routed.response_id) is None
    assert Case.objects.filter(kind=CaseKind.OPPORTUNITY).count() == 1


def test_more_praise_joins_the_open_opportunity_and_a_complaint_stays_apart(detractor_rule, promoter_rule):
    first = ingest_and_route(1, nps=10, email="same@example.com")
    again = ingest_and_route(2, nps=9, email="same@example.com")
    assert (again.outcome, again.case) == (RoutingOutcome.ATTACHED, first.case)
    unhappy = ingest_and_route(3, nps=1, email="same@example.com")
    assert unhappy.outcome == RoutingOutcome.OPENED and unhappy.case.kind == CaseKind.COMPLAINT
    assert first.case.events.count() == 3  # opened, assigned, the praise attached; not the complaint


def test_praise_intent_can_say_who_is_a_promoter(db, touchpoint):
    RoutingRule.objects.create(
        name="Praise asks for a review",
        position=1,
        intents_any=["praise"],
        opens=CaseKind.OPPORTUNITY,
        opportunity_kind=OpportunityKind.REVIEW,
    )
    routed = ingest_and_route(1, nps=None, comment="Thank you, the engineer was excellent and very helpful!")
    assert routed.case is not None and routed.case.opportunity_kind == OpportunityKind.REVIEW


def test_the_sla_sweep_never_breaches_an_opportunity(promoter_rule, detractor_rule):
    opportunity = ingest_and_route(1, nps=10).case
    complaint = ingest_and_route(2, nps=1).case
    assert sla_sweep(now=timezone.now() + timedelta(days=60)) == 2  # the complaint's two SLAs
    opportunity.refresh_from_db()
    complaint.refresh_from_db()
    assert opportunity.status == CaseStatus.NEW and opportunity.first_contact_breached_at is None
    assert complaint.status == CaseStatus.ESCALATED


# --- the rule: model, admin form, words ----------------------------------------------------


def _form_data(**fields) -> dict:
    return {
        "name": "Rule",
        "position": "5",
        "active": "on",
        "priority": "normal",
        "strategy": "default_owner",
        "opens": "complaint",
        **fields,
    }


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ({"opens": "opportunity", "nps_at_least": "9"}, "opportunity_kind", "Choose the kind"),
        ({"opens": "complaint", "opportunity_kind": "referral"}, "opportunity_kind", "leave it empty"),
        ({"opens": "opportunity", "opportunity_kind": "upsell"}, "nps_at_least", "who is a promoter"),
        ({"nps_at_least": "9", "nps_at_most": "6"}, "nps_at_least", "both at least"),
        ({"nps_at_least": "11"}, "nps_at_least", "less than or equal to 10"),
    ],
)
def test_the_rule_form_names_the_field_and_the_reason(client, cx_admin, fields, field, reason):
    client.force_login(cx_admin)
    reply = client.post(reverse("admin:cases_routingrule_add"), _form_data(**fields))
    assert reply.status_code == 200
    errors = reply.context["adminform"].form.errors
    assert list(errors) == [field] and reason in errors[field][0]
    assert not RoutingRule.objects.exists()


def test_the_rule_form_saves_an_opportunity_rule_and_the_list_says_it_in_words(client, cx_admin, touchpoint):
    client.force_login(cx_admin)
    data = _form_data(opens="opportunity", opportunity_kind="upsell", nps_at_least="9")
    reply = client.post(reverse("admin:cases_routingrule_add"), data)
    assert reply.status_code == 302, reply.context["adminform"].form.errors
    rule = RoutingRule.objects.get()
    assert (rule.opens, rule.opportunity_kind, rule.nps_at_least) == ("opportunity", "upsell", 9)
    page = client.get(reverse("admin:cases_routingrule_changelist")).content.decode()
    assert "NPS ≥ 9" in page and "Upsell opportunity" in page


def test_the_words_say_what_a_rule_opens(promoter_rule, detractor_rule):
    assert rule_in_words(promoter_rule).startswith("NPS ≥ 9 at Fault line, any channel → Referral opportunity")
    assert "opportunity" not in rule_in_words(detractor_rule)


def test_the_database_refuses_an_opportunity_rule_without_its_kind(db):
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        RoutingRule.objects.create(name="x", position=1, opens=CaseKind.OPPORTUNITY, nps_at_least=9)
