"""The rule preview: a dry run of one routing rule over recent feedback, by
live routing's own matching, that writes nothing."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.choices import Priority, RoutingOutcome
from cases.models import Case, RoutedResponse, RoutingRule
from cases.routing_preview import ATTACHES, OPENS, TAKEN, routing_rule_preview
from cases.services import response_route, responses_route_pending
from feedback.models import FeedbackResponse
from feedback.services import feedback_ingest

pytestmark = pytest.mark.django_db

_numbers = itertools.count(1)


def ingest(customer: str | None = None, **fields) -> FeedbackResponse:
    """A response at "fault-line", not routed (its routing task waits for a commit that never comes)."""
    item = {"touchpoint": "fault-line", "source": "survey", "external_id": f"preview-{next(_numbers)}", **fields}
    if customer:
        item["customer"] = {"email": f"{customer}@example.com"}
    outcome = feedback_ingest(item=item)
    assert outcome.status == "created", outcome.errors
    return outcome.response


def received_days_ago(response: FeedbackResponse, days: int) -> None:
    FeedbackResponse.objects.filter(pk=response.pk).update(received_at=timezone.now() - timedelta(days=days))


@pytest.fixture
def rules(touchpoint):
    """Churn risk first, the previewed detractor rule second, complaints last."""
    return (
        RoutingRule.objects.create(name="Churn", position=0, intents_any=["churn_risk"], priority=Priority.URGENT),
        RoutingRule.objects.create(name="Detractors", position=1, nps_at_most=6),
        RoutingRule.objects.create(name="Complaints", position=2, intents_any=["complaint"]),
    )


def test_the_preview_matches_what_live_routing_then_does(rules):
    churn, detractors, complaints = rules
    # Before the window: a customer whose case is still open.
    earlier = ingest("dana", nps=1, comment="Nothing works")
    response_route(response_id=earlier.pk)
    received_days_ago(earlier, 40)
    taken = ingest("ann", nps=2, comment="I am going to cancel my contract")  # churn comes first
    opens = ingest("bob", nps=3, comment="Slow")
    attaches = ingest("bob", nps=1, comment="Still slow")  # bob's case from the line above
    text_only = ingest("cy", comment="Internet has been down for three days")  # complaints opens cy's case...
    after_later_rule = ingest("cy", nps=4, comment="")  # ...which this one joins
    anonymous = ingest(None, nps=5, comment="Meh")
    ingest("eve", nps=9, comment="Great")  # no rule
    joins_older_case = ingest("dana", nps=2, comment="Still nothing")

    preview = routing_rule_preview(rule=detractors, days=30)
    assert set(preview.opened) == {opens.pk, anonymous.pk}
    assert set(preview.attached) == {attaches.pk, after_later_rule.pk, joins_older_case.pk}
    assert preview.taken == {taken.pk: "Churn"}
    assert (preview.matched, preview.received, preview.scanned, preview.sampled) == (6, 8, 8, False)

    responses_route_pending()
    opened = Case.objects.filter(rule=detractors).exclude(feedback=earlier).values_list("feedback_id", flat=True)
    assert set(opened) == set(preview.opened)
    assert set(
        RoutedResponse.objects.filter(rule=detractors, outcome=RoutingOutcome.ATTACHED).values_list(
            "response_id", flat=True
        )
    ) == set(preview.attached)
    assert RoutedResponse.objects.get(response=taken).rule == churn
    assert Case.objects.get(feedback=text_only).rule == complaints


def test_an_inactive_rule_is_previewed_at_its_place(rules):
    churn, detractors, complaints = rules
    RoutingRule.objects.filter(pk=complaints.pk).update(position=3)  # positions are unique: make room
    trial = RoutingRule.objects.create(name="Trial", position=2, active=False, intents_any=["complaint"])
    response = ingest("ann", comment="The engineer never showed up")
    preview = routing_rule_preview(rule=trial, days=30)
    assert preview.opened == [response.pk]
    # Live routing ignores it: the active complaints rule opens the case.
    responses_route_pending()
    assert Case.objects.get().rule == complaints


def test_the_window_counts_only_responses_received_in_the_last_n_days(rules):
    _, detractors, _ = rules
    old = ingest("ann", nps=2, comment="Bad")
    received_days_ago(old, 40)
    recent = ingest("bob", nps=2, comment="Bad")
    assert routing_rule_preview(rule=detractors, days=30).opened == [recent.pk]
    assert set(routing_rule_preview(rule=detractors, days=60).opened) == {old.pk, recent.pk}


def test_only_the_latest_rows_are_replayed_and_the_preview_says_how_many(rules):
    _, detractors, _ = rules
    responses = [ingest(f"c{n}", nps=2, comment="Bad") for n in range(5)]
    preview = routing_rule_preview(rule=detractors, days=30, max_rows=3)
    assert (preview.received, preview.scanned, preview.sampled) == (5, 3, True)
    assert set(preview.opened) == {r.pk for r in responses[-3:]}


def test_the_preview_only_reads(rules, make_case):
    _, detractors, _ = rules
    make_case()  # an open case for the preview to see
    ingest("ann", nps=2, comment="Bad")
    counts = (Case.objects.count(), RoutedResponse.objects.count(), RoutingRule.objects.count())
    with CaptureQueriesContext(connection) as queries:
        routing_rule_preview(rule=detractors, days=30, examples_from=FeedbackResponse.objects.all())
    statements = [q["sql"].lstrip().split(None, 1)[0].upper() for q in queries.captured_queries]
    assert "SELECT" in statements
    assert set(statements) <= {"SELECT", "SAVEPOINT", "RELEASE", "ROLLBACK", "SET"}, statements
    assert (Case.objects.count(), RoutedResponse.objects.count(), RoutingRule.objects.count()) == counts


def test_a_bad_number_of_days_is_refused(rules):
    with pytest.raises(ValueError, match="days"):
        routing_rule_preview(rule=rules[1], days=0)


# --- the admin page ---------------------------------------------------------


def preview_url(rule: RoutingRule) -> str:
    return reverse("admin:cases_routingrule_preview", args=[rule.pk])


def test_the_rule_page_offers_the_dry_run(client, cx_admin, rules):
    client.force_login(cx_admin)
    page = client.get(reverse("admin:cases_routingrule_change", args=[rules[1].pk])).content.decode()
    assert preview_url(rules[1]) in page and 'name="days"' in page


def test_the_preview_page_shows_counts_and_linked_examples(client, cx_admin, rules):
    opened = ingest("bob", nps=3, comment="Slow")
    taken = ingest("ann", nps=2, comment="I want to cancel")
    client.force_login(cx_admin)
    response = client.get(preview_url(rules[1]))
    assert response.status_code == 200
    preview = response.context["preview"]
    assert (preview.days, preview.matched, preview.opened) == (30, 2, [opened.pk])
    assert [(e.response.pk, e.outcome, e.taken_by) for e in preview.examples] == [
        (opened.pk, OPENS, ""),
        (taken.pk, TAKEN, "Churn"),
    ]
    page = response.content.decode()
    assert reverse("admin:feedback_feedbackresponse_change", args=[opened.pk]) in page
    assert "Read all 2 responses received in the window" in page


def test_the_page_says_when_it_sampled(client, cx_admin, rules, monkeypatch):
    monkeypatch.setattr("cases.routing_preview.PREVIEW_MAX_ROWS", 2)
    for n in range(3):
        ingest(f"c{n}", nps=2, comment="Bad")
    client.force_login(cx_admin)
    page = client.get(preview_url(rules[1]), {"days": "7"}).content.decode()
    assert "Sampled the latest 2 of 3 responses" in page


@pytest.mark.parametrize("days", ["abc", "0", "366", ""])
def test_a_bad_number_of_days_is_an_error_on_the_form_not_a_500(client, cx_admin, rules, days):
    client.force_login(cx_admin)
    response = client.get(preview_url(rules[1]), {"days": days})
    assert response.status_code == 200 and response.context["preview"] is None
    assert response.context["form"].errors["days"]


def test_examples_are_only_those_the_user_may_see(client, rules, other_team):
    from django.contrib.auth import get_user_model

    viewer = get_user_model().objects.create_user("viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_routingrule"))
    other_team.members.add(viewer)
    ingest("bob", nps=3, comment="Slow")  # at fault-line, the care team's touchpoint
    client.force_login(viewer)
    preview = client.get(preview_url(rules[1])).context["preview"]
    assert len(preview.opened) == 1 and preview.examples == []


def test_people_who_may_not_see_rules_get_no_preview(client, agent, rules):
    client.force_login(agent)
    response = client.get(preview_url(rules[1]))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_an_attach_example_says_so(client, cx_admin, rules):
    first = ingest("bob", nps=3, comment="Slow")
    second = ingest("bob", nps=2, comment="Still slow")
    client.force_login(cx_admin)
    examples = client.get(preview_url(rules[1])).context["preview"].examples
    assert [(e.response.pk, e.outcome) for e in examples] == [(second.pk, ATTACHES), (first.pk, OPENS)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_on_postgresql_the_preview_transaction_is_read_only(pg_audit_cleanup, rules, monkeypatch):
    from django.db import InternalError

    def a_write(preview, **_):
        RoutingRule.objects.filter(pk=preview.rule.pk).update(name="Changed by a preview")

    monkeypatch.setattr("cases.routing_preview._replay", a_write)
    with pytest.raises(InternalError, match="read-only transaction"):
        routing_rule_preview(rule=rules[1], days=30)
    assert RoutingRule.objects.get(pk=rules[1].pk).name == "Detractors"
