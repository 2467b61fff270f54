"""Routing that can express what the CX text layer reads: any of a list of
intents, effort as "CES at most", and the lead of a team as owner."""

from __future__ import annotations

import importlib
import itertools

import pytest
from django.urls import reverse

from cases.admin import RoutingRuleForm
from cases.choices import AssignmentStrategy, RoutingOutcome
from cases.models import Case, RoutingRule
from cases.services import response_route
from cases.services.routing import load_rules, rule_matches
from feedback.services import feedback_ingest

pytestmark = pytest.mark.django_db

_numbers = itertools.count(1)


def ingest(**fields):
    n = next(_numbers)
    item = {
        "touchpoint": "fault-line",
        "source": "social",
        "kind": "indirect",
        "external_id": f"intent-{n}",
        "customer": {"email": f"intent-{n}@example.com"},
        **fields,
    }
    outcome = feedback_ingest(item=item)
    assert outcome.status == "created", outcome.errors
    return outcome.response


def matches(rule_fields: dict, **response_fields) -> bool:
    RoutingRule.objects.all().delete()
    RoutingRule.objects.create(name="r", **rule_fields)
    [loaded] = load_rules()
    return rule_matches(loaded, ingest(**response_fields))


@pytest.mark.parametrize(
    ("intents", "comment", "expected"),
    [
        (["churn_risk"], "Sort it out or I'm switching to another provider", True),
        (["churn_risk"], "I don't want to cancel, I just want it fixed", False),
        (["compliance_risk"], "I will be taking this to the ombudsman", True),
        (["high_effort"], "Had to call four times and explain it all again every time", True),
        (["complaint"], "The engineer never showed up", True),
        (["complaint"], "Not bad at all, quick install", False),
        (["churn_risk", "compliance_risk"], "My lawyer will hear about this", True),
        (["churn_risk", "compliance_risk"], "The app keeps crashing", False),
        (["praise"], "Brilliant service, thank you", True),
    ],
)
def test_intents_any_matches_a_comment_with_any_listed_intent(touchpoint, intents, comment, expected):
    assert matches({"intents_any": intents}, comment=comment) is expected


def test_an_intent_rule_does_not_match_a_response_without_a_comment(touchpoint):
    assert matches({"intents_any": ["complaint"]}, kind="direct", nps=0) is False


def test_a_text_only_complaint_opens_a_case_through_an_intent_rule(touchpoint, agent):
    RoutingRule.objects.create(name="Complaints", intents_any=["complaint"])
    response = ingest(comment="Your agent hung up on me and nobody called back")
    assert response.nps is None and response.csat is None and response.ces is None
    routed = response_route(response_id=response.pk)
    assert routed.outcome == RoutingOutcome.OPENED and Case.objects.get().feedback == response


@pytest.mark.parametrize(("ces", "expected"), [(1, True), (2, True), (3, False), (7, False)])
def test_ces_at_most_routes_high_effort_a_low_score(touchpoint, ces, expected):
    assert matches({"ces_at_most": 2}, kind="direct", ces=ces) is expected


def test_the_team_lead_strategy_gives_the_case_to_the_lead(touchpoint, lead):
    RoutingRule.objects.create(
        name="Compliance", intents_any=["compliance_risk"], strategy=AssignmentStrategy.TEAM_LEAD
    )
    response_route(response_id=ingest(comment="I am reporting you to the regulator").pk)
    assert Case.objects.get().owner == lead


def test_the_team_lead_strategy_leaves_the_case_in_the_queue_without_an_active_lead(touchpoint, lead):
    lead.is_active = False
    lead.save()
    RoutingRule.objects.create(
        name="Compliance", intents_any=["compliance_risk"], strategy=AssignmentStrategy.TEAM_LEAD
    )
    response_route(response_id=ingest(comment="I am reporting you to the regulator").pk)
    assert Case.objects.get().owner is None


# --- the admin form -----------------------------------------------------------


def form(**fields) -> RoutingRuleForm:
    data = {"name": "r", "position": 0, "priority": "normal", "strategy": "default_owner", **fields}
    return RoutingRuleForm(data=data)


def test_the_form_stores_the_chosen_intents_as_a_list():
    rule_form = form(intents_any=["churn_risk", "complaint"], ces_at_most=2)
    assert rule_form.is_valid(), rule_form.errors
    rule = rule_form.save()
    rule.refresh_from_db()
    assert (rule.intents_any, rule.ces_at_most) == (["churn_risk", "complaint"], 2)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"intents_any": ["anger"]}, "intents_any", "anger is not one of the available choices"),
        ({"ces_at_most": 8}, "ces_at_most", "less than or equal to 7"),
        ({"ces_at_most": 0}, "ces_at_most", "greater than or equal to 1"),
    ],
)
def test_the_form_refuses_a_bad_condition_naming_the_field(fields, field, message):
    rule_form = form(**fields)
    assert not rule_form.is_valid()
    assert message in " ".join(rule_form.errors[field])


def test_the_model_refuses_an_unknown_intent():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        RoutingRule(name="r", intents_any=["anger"]).full_clean()
    assert "intents_any" in refused.value.message_dict


def test_the_admin_offers_intents_and_ces_at_most(client, cx_admin):
    client.force_login(cx_admin)
    page = client.get(reverse("admin:cases_routingrule_add")).content.decode()
    assert 'name="intents_any" value="compliance_risk"' in page and 'name="ces_at_most"' in page
    assert "ces_at_least" not in page


# --- the migration from ces_at_least ---------------------------------------------


class _Rule:
    def __init__(self, **fields):
        self.ces_at_least, self.ces_at_most, self.active, self.notes = None, None, True, ""
        self.__dict__.update(fields)

    def save(self, *, update_fields):
        self.saved = sorted(update_fields)


class _Apps:
    """The two lookups the migration's functions make, over plain objects."""

    def __init__(self, rules):
        self.rules = rules

    def get_model(self, app_label, name):
        rules = self.rules

        class Manager:
            @staticmethod
            def filter(**lookup):
                [(key, value)] = lookup.items()
                if key == "ces_at_least__isnull":
                    return [r for r in rules if (r.ces_at_least is None) is value]
                if key == "ces_at_most":
                    return [r for r in rules if r.ces_at_most == value]
                return [r for r in rules if value in r.notes]

        return type(name, (), {"objects": Manager})


MIGRATION = importlib.import_module("cases.migrations.0009_routing_intents_ces_at_most")


def test_migrating_ces_at_least_keeps_what_can_be_said_and_switches_off_the_rest():
    any_score, easy, untouched = _Rule(ces_at_least=1), _Rule(ces_at_least=5, notes="Ours"), _Rule(nps_at_most=6)
    MIGRATION.ces_at_least_to_at_most(_Apps([any_score, easy, untouched]), None)
    assert (any_score.ces_at_most, any_score.active) == (7, True)  # "any CES score" either way
    assert (easy.ces_at_most, easy.active) == (None, False)
    assert easy.notes.startswith("Ours\n\n") and "ces_at_least=5" in easy.notes and "CES at most" in easy.notes
    assert not hasattr(untouched, "saved")


def test_migrating_back_restores_ces_at_least():
    any_score, easy = _Rule(ces_at_least=1), _Rule(ces_at_least=5, notes="Ours")
    apps = _Apps([any_score, easy])
    MIGRATION.ces_at_least_to_at_most(apps, None)
    any_score.ces_at_least = easy.ces_at_least = None  # the column is dropped, then added again
    MIGRATION.ces_at_most_back(apps, None)
    assert (any_score.ces_at_least, easy.ces_at_least, easy.active, easy.notes) == (1, 5, True, "Ours")


# --- why the case opened, on the case page -------------------------------------------


def test_the_case_page_shows_the_intents_and_why_the_comment_is_negative(client, touchpoint, agent):
    RoutingRule.objects.create(name="Complaints", intents_any=["complaint", "churn_risk"])
    response = ingest(comment="Your agent hung up on me, nobody called back and I'm cancelling my contract")
    routed = response_route(response_id=response.pk)
    client.force_login(agent)
    page = client.get(reverse("cases:detail", args=[routed.case.pk])).content.decode()
    assert 'class="badge intent intent-churn_risk"' in page and ">Churn risk</span>" in page
    drivers = [term for term, effect in response.explanation if effect == "negative"]
    assert drivers and f"Negative because: {', '.join(drivers)}" in page
    assert "hung up" in ", ".join(drivers)


def test_the_case_page_explains_attached_feedback_and_escapes_it(client, touchpoint, agent):
    RoutingRule.objects.create(name="Complaints", intents_any=["complaint"])
    email = {"email": "same@example.com"}
    first = response_route(response_id=ingest(comment="The engineer never showed up", customer=email).pk)
    ingest_attached = ingest(comment="<b>Still</b> no engineer, never showed up again", customer=email)
    assert response_route(response_id=ingest_attached.pk).outcome == RoutingOutcome.ATTACHED
    client.force_login(agent)
    page = client.get(reverse("cases:detail", args=[first.case.pk])).content.decode()
    assert page.count("Negative because:") == 2 and "<b>Still</b>" not in page
