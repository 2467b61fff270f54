"""The routing rules' changelist: each rule in words, its routing counts,
rules that can never fire, and reordering by the up/down buttons."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from cases.choices import AssignmentStrategy, Priority, RoutingOutcome
from cases.models import RoutedResponse, RoutingRule
from cases.rule_wording import CONDITIONS, OTHER_FIELDS, rule_covers, rule_in_words, rules_never_firing
from cases.services.routing import routing_rule_move
from cvx_site.errors import Conflict, PermissionDenied
from tests.admin.conftest import ingest

CHANGELIST = "admin:cases_routingrule_changelist"


def rule(position: int, **fields) -> RoutingRule:
    return RoutingRule.objects.create(name=fields.pop("name", f"Rule {position}"), position=position, **fields)


def move_url(r: RoutingRule, direction: str) -> str:
    return reverse("admin:cases_routingrule_move", args=[r.pk, direction])


# --- the rule in words ----------------------------------------------------------------


def test_every_field_of_the_rule_is_a_worded_condition_or_declared_not_one():
    fields = {f.name for f in RoutingRule._meta.get_fields() if not f.auto_created or f.concrete}
    conditions = {c.field for c in CONDITIONS}
    assert not conditions & OTHER_FIELDS
    assert fields == conditions | OTHER_FIELDS, "word the new field in cases.rule_wording.CONDITIONS"


# A value for each condition field, and words its wording must contain.
SET = {
    "nps_at_most": (6, "NPS ≤ 6"),
    "nps_at_least": (9, "NPS ≥ 9"),
    "csat_at_most": (2, "CSAT ≤ 2"),
    "ces_at_most": (3, "CES ≤ 3"),
    "sentiment_at_most": (-0.5, "sentiment ≤ -0.5"),
    "intents_any": (["churn_risk", "complaint"], "intent Churn risk or Complaint"),
    "keywords": ("cancel\nlawyer", "comment says “cancel” or “lawyer”"),
    "channels": (["web", "chat"], "by Web or Chat"),
    "kinds": (["indirect"], "Indirect (social, reviews) only"),
    "journeys": ("journey", "on Get connected"),
    "touchpoints": ("touchpoint", "at Fault line"),
}


def test_each_condition_set_on_its_own_is_in_the_words(request, touchpoint):
    assert set(SET) == {c.field for c in CONDITIONS}, "give the new condition a case here"
    for n, (field, (value, words)) in enumerate(SET.items()):
        if RoutingRule._meta.get_field(field).many_to_many:
            r = rule(n)
            getattr(r, field).set([request.getfixturevalue(value)])
        else:
            r = rule(n, **{field: value})
        assert words in rule_in_words(r), field


def test_a_rule_reads_as_its_conditions_then_its_action(journey):
    from journeys.models import Journey

    fault = Journey.objects.create(name="Fix a fault", slug="fix-a-fault")
    r = rule(0, nps_at_most=6, priority=Priority.HIGH, strategy=AssignmentStrategy.ROUND_ROBIN)
    r.journeys.add(fault)
    assert rule_in_words(r) == "NPS ≤ 6 on Fix a fault, any channel → High, round-robin"


def test_a_rule_without_conditions_reads_as_any_response(team):
    r = rule(0, team=team, priority=Priority.LOW, strategy=AssignmentStrategy.LEAST_LOADED)
    assert rule_in_words(r) == "Any response on any journey, any channel → Low, least loaded, team Customer care"


# --- rules that can never fire ----------------------------------------------------------


@pytest.mark.parametrize(
    ("earlier", "later", "covers"),
    [
        # subsumed: the earlier rule matches everything the later does
        ({"nps_at_most": 6}, {"nps_at_most": 3}, True),
        ({}, {"csat_at_most": 2, "keywords": "refund"}, True),
        ({"channels": ["web", "chat"]}, {"channels": ["web"], "nps_at_most": 2}, True),
        ({"intents_any": ["complaint", "churn_risk"]}, {"intents_any": ["churn_risk"]}, True),
        ({"keywords": "cancel, lawyer"}, {"keywords": "lawyer"}, True),
        ({"sentiment_at_most": -0.2}, {"sentiment_at_most": -0.6, "kinds": ["indirect"]}, True),
        # partial overlap: each matches something the other does not
        ({"nps_at_most": 6, "channels": ["web"]}, {"nps_at_most": 3}, False),
        ({"nps_at_most": 6}, {"csat_at_most": 2}, False),
        ({"keywords": "cancel"}, {"keywords": "cancel, lawyer"}, False),
        ({"intents_any": ["complaint"]}, {}, False),
        ({"ces_at_most": 2}, {"ces_at_most": 4}, False),
        # disjoint
        ({"channels": ["web"]}, {"channels": ["chat"]}, False),
        ({"kinds": ["direct"]}, {"kinds": ["inferred"]}, False),
    ],
)
def test_rule_covers(db, earlier, later, covers):
    assert rule_covers(rule(0, **earlier), rule(1, **later)) is covers


def test_touchpoint_and_journey_filters_cover_by_subset(touchpoint, stores_touchpoint, journey):
    wide, narrow = rule(0), rule(1)
    wide.touchpoints.set([touchpoint, stores_touchpoint])
    narrow.touchpoints.set([touchpoint])
    assert rule_covers(wide, narrow) and not rule_covers(narrow, wide)
    narrow.journeys.set([journey])
    assert rule_covers(wide, narrow)  # narrower still
    wide.journeys.set([journey])
    wide.touchpoints.set([stores_touchpoint])
    assert not rule_covers(wide, narrow)  # disjoint touchpoints


def test_only_an_earlier_active_rule_makes_a_rule_never_fire(db):
    off = rule(0, name="Off", active=False)
    everything = rule(1, name="Everything")
    detractors = rule(2, name="Detractors", nps_at_most=6)
    trial = rule(3, name="Trial", active=False, csat_at_most=1)
    shadowed = rules_never_firing(RoutingRule.objects.order_by("position"))
    assert shadowed == {detractors.pk: everything, trial.pk: everything}
    assert off.pk not in shadowed and everything.pk not in shadowed


# --- the changelist ---------------------------------------------------------------------


def test_the_changelist_shows_words_position_counts_and_overlaps(client, cx_admin, negative_rule, touchpoint):
    churn = rule(0, name="Churn words", keywords="cancel")
    narrower = rule(20, name="Deep detractors", nps_at_most=2)
    ingest(touchpoint=touchpoint, marker="alpha", n=1, nps=3)  # opens a case: Detractors
    ingest(touchpoint=touchpoint, marker="alpha", n=2, nps=4)  # same customer: attached
    ingest(touchpoint=touchpoint, marker="beta", n=1, nps=5, route=False)
    old = ingest(touchpoint=touchpoint, marker="gamma", n=1, nps=1)  # routed 10 days ago
    RoutedResponse.objects.filter(response=old).update(routed_at=timezone.now() - timedelta(days=10))
    older = ingest(touchpoint=touchpoint, marker="delta", n=1, nps=2)  # routed 40 days ago
    RoutedResponse.objects.filter(response=older).update(routed_at=timezone.now() - timedelta(days=40))
    client.force_login(cx_admin)
    page = client.get(reverse(CHANGELIST))
    assert page.status_code == 200
    rows = {r.pk: r for r in page.context["cl"].result_list}
    recorded = RoutedResponse.objects.filter(rule=negative_rule)
    week = timezone.now() - timedelta(days=7)
    detractors = rows[negative_rule.pk]
    assert detractors.matched_7_n == recorded.filter(routed_at__gte=week).count() == 2
    assert detractors.opened_7_n == recorded.filter(routed_at__gte=week, outcome=RoutingOutcome.OPENED).count() == 1
    assert detractors.matched_30_n == 3 and detractors.opened_30_n == 2
    assert (rows[churn.pk].matched_30_n, rows[churn.pk].opened_30_n) == (0, 0)
    html = page.content.decode()
    assert "NPS ≤ 6 on any journey, any channel → Normal, touchpoint&#x27;s owner" in html
    assert rows[narrower.pk].never_fires_behind == negative_rule
    assert "Never fires:</strong> “Detractors” (position 10)" in html
    assert rows[churn.pk].never_fires_behind is None and rows[negative_rule.pk].never_fires_behind is None


def test_the_changelist_takes_the_same_queries_for_many_rules(client, cx_admin, journey, touchpoint):
    client.force_login(cx_admin)

    def rules(start: int, n: int) -> None:
        for i in range(start, start + n):
            r = rule(i, nps_at_most=i % 11, keywords=f"word{i}")
            r.journeys.set([journey])
            r.touchpoints.set([touchpoint])

    rules(0, 2)
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse(CHANGELIST)).status_code == 200
    rules(2, 20)
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse(CHANGELIST)).status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_the_changelist_is_bounded_in_queries(client, cx_admin, django_assert_max_num_queries, journey):
    for i in range(30):
        rule(i, csat_at_most=1 + i % 5).journeys.set([journey])
    client.force_login(cx_admin)
    with django_assert_max_num_queries(12):
        assert client.get(reverse(CHANGELIST)).status_code == 200


# --- reordering -------------------------------------------------------------------------


def test_moving_a_rule_up_swaps_it_with_the_one_before_and_is_recorded(client, cx_admin):
    first, second, third = rule(0), rule(5), rule(9)
    client.force_login(cx_admin)
    reply = client.post(move_url(third, "up"), {"position": "9"}, follow=True)
    assert [str(m) for m in reply.context["messages"]] == ["“Rule 9” is now at position 5."]
    positions = dict(RoutingRule.objects.values_list("pk", "position"))
    assert positions == {first.pk: 0, second.pk: 9, third.pk: 5}
    logged = {e.object_id: e.get_change_message() for e in LogEntry.objects.filter(user=cx_admin)}
    assert logged == {
        str(third.pk): "Moved from position 9 to 5 (swapped with “Rule 5”).",
        str(second.pk): "Moved from position 5 to 9 (swapped with “Rule 9”).",
    }


def test_a_move_from_a_stale_page_is_refused_and_changes_nothing(client, cx_admin):
    first, second = rule(0), rule(1)
    client.force_login(cx_admin)
    client.post(move_url(second, "up"), {"position": "1"}, follow=True)
    reply = client.post(move_url(second, "up"), {"position": "1"}, follow=True)  # as seen before the first move
    [message] = [str(m) for m in reply.context["messages"]]
    assert "moved by someone else meanwhile (it is now at position 0, not 1)" in message
    assert dict(RoutingRule.objects.values_list("pk", "position")) == {first.pk: 1, second.pk: 0}
    assert LogEntry.objects.count() == 2  # the first move's two entries only


@pytest.mark.parametrize(
    ("direction", "position", "said"),
    [
        ("up", "0", "is already the first rule"),
        ("down", "1", "is already the last rule"),
        ("sideways", "0", "Move “up” or “down”"),
        ("up", "x", "not a number"),
        ("up", "", "not a number"),
    ],
)
def test_a_move_that_cannot_be_made_says_why(client, cx_admin, direction, position, said):
    first, last = rule(0), rule(1)
    client.force_login(cx_admin)
    target = first if position != "1" else last
    reply = client.post(move_url(target, direction), {"position": position}, follow=True)
    assert reply.status_code == 200
    assert said in " ".join(str(m) for m in reply.context["messages"])
    assert dict(RoutingRule.objects.values_list("pk", "position")) == {first.pk: 0, last.pk: 1}


def test_moving_needs_a_post_and_the_change_permission(client, cx_admin, care_viewer):
    first, second = rule(0), rule(1)
    client.force_login(cx_admin)
    assert client.get(move_url(second, "up")).status_code == 405
    client.force_login(care_viewer)  # may view rules, not change them
    assert client.post(move_url(second, "up"), {"position": "1"}).status_code == 403
    with pytest.raises(PermissionDenied):
        routing_rule_move(actor=care_viewer, rule_id=second.pk, direction="up", seen_position=1)
    assert dict(RoutingRule.objects.values_list("pk", "position")) == {first.pk: 0, second.pk: 1}


def test_moving_a_rule_that_is_gone_is_a_clear_error(cx_admin):
    from cvx_site.errors import NotFound

    with pytest.raises(NotFound):
        routing_rule_move(actor=cx_admin, rule_id=999_999, direction="up", seen_position=0)


def test_the_changelist_offers_buttons_that_post_where_the_rule_was_seen(client, cx_admin):
    r = rule(3)
    client.force_login(cx_admin)
    html = client.get(reverse(CHANGELIST)).content.decode()
    assert f'formaction="{move_url(r, "up")}" name="position" value="3"' in html
    assert 'formmethod="post"' in html


def test_an_existing_rules_position_is_not_edited_on_its_form_and_a_new_one_goes_last(client, cx_admin):
    r = rule(4)
    client.force_login(cx_admin)
    form = client.get(reverse("admin:cases_routingrule_change", args=[r.pk])).context["adminform"]
    assert "position" in form.readonly_fields
    add = client.get(reverse("admin:cases_routingrule_add")).context["adminform"].form
    assert add.initial["position"] == 5


# --- unique positions -------------------------------------------------------------------


def test_two_rules_cannot_share_a_position_in_the_database(db):
    from django.db import IntegrityError, transaction

    rule(3)
    with pytest.raises(IntegrityError), transaction.atomic():
        RoutingRule.objects.create(name="Same place", position=3)
    assert RoutingRule.objects.count() == 1


def test_the_add_form_names_a_taken_position(client, cx_admin):
    rule(3)
    client.force_login(cx_admin)
    reply = client.post(
        reverse("admin:cases_routingrule_add"),
        {"name": "Clash", "position": "3", "active": "on", "priority": "normal", "strategy": "default_owner"},
    )
    assert reply.status_code == 200
    assert "position" in str(reply.context["adminform"].form.errors).lower()
    assert RoutingRule.objects.count() == 1


@pytest.mark.parametrize(
    ("rules", "moved"),
    [
        ([(1, 0), (2, 0), (3, 1)], {2: 1, 3: 2}),
        ([(5, 2), (4, 2), (6, 9)], {5: 3}),  # the lower id keeps the shared place, as routing tried it first
        ([(1, 0), (2, 4), (3, 7)], {}),
        ([(1, 3), (2, 3), (3, 3), (4, 5)], {2: 4, 3: 5, 4: 6}),
    ],
)
def test_the_migration_renumbers_shared_positions_in_routing_order(rules, moved):
    from importlib import import_module

    migration = import_module("cases.migrations.0016_routing_rule_position_unique")
    assert migration.new_positions(rules) == moved


def test_seeding_a_rule_at_a_taken_position_moves_the_holder_last(db):
    from cases.services.routing import routing_rule_put

    old, other = rule(0, name="Risk of leaving"), rule(4, name="Other")
    placed = routing_rule_put(name="Compliance risk", position=0, fields={"nps_at_most": 2})
    assert placed.position == 0 and placed.nps_at_most == 2
    assert RoutingRule.objects.get(pk=old.pk).position == 5
    assert RoutingRule.objects.get(pk=other.pk).position == 4
    assert routing_rule_put(name="Compliance risk", position=0, fields={}).pk == placed.pk  # again: no change
    assert RoutingRule.objects.count() == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("pg_audit_cleanup")
def test_two_admins_moving_the_same_rule_at_once_one_is_told_it_moved(cx_admin, monkeypatch):
    """Real threads on their own connections. The first move holds its locks a
    moment; the second waits for them, then reads where the rule is now."""
    import threading
    import time

    from journeys.roles import CX_ADMIN
    from tests.conftest import _make_user

    rule(0, name="A"), rule(1, name="B")
    third = rule(2, name="C")
    other_admin = _make_user("cxadmin2", CX_ADMIN, staff=True)
    slow_log = LogEntry.objects.log_actions

    def log_slowly(*args, **kwargs):
        time.sleep(0.5)  # inside the move's transaction, holding its locks
        return slow_log(*args, **kwargs)

    monkeypatch.setattr(LogEntry.objects, "log_actions", log_slowly)
    barrier, outcomes = threading.Barrier(2), {}

    def move(actor) -> None:
        try:
            connection.ensure_connection()
            barrier.wait(timeout=10)
            routing_rule_move(actor=actor, rule_id=third.pk, direction="up", seen_position=2)
            outcomes[actor.username] = "moved"
        except Exception as exc:  # reported to the test, not lost in the thread
            outcomes[actor.username] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=move, args=(actor,)) for actor in (cx_admin, other_admin)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a move hung"
    refused = [o for o in outcomes.values() if o != "moved"]
    assert len(outcomes) == 2 and len(refused) == 1, outcomes
    assert isinstance(refused[0], Conflict) and "moved by someone else meanwhile" in refused[0].message, outcomes
    assert dict(RoutingRule.objects.values_list("name", "position")) == {"A": 0, "C": 1, "B": 2}
    assert LogEntry.objects.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("pg_audit_cleanup")
def test_two_admins_swapping_the_same_pair_from_either_side_one_is_told_and_nothing_is_half_saved(
    cx_admin, monkeypatch
):
    """One moves B down while the other moves C up, both from the same page:
    the same swap asked twice. The first holds its locks a moment; whichever
    goes second waits, then finds its rule moved."""
    import threading
    import time

    slow_log = LogEntry.objects.log_actions

    def log_slowly(*args, **kwargs):
        time.sleep(0.5)  # inside the move's transaction, holding its locks
        return slow_log(*args, **kwargs)

    monkeypatch.setattr(LogEntry.objects, "log_actions", log_slowly)

    from journeys.roles import CX_ADMIN
    from tests.conftest import _make_user

    rule(0, name="A")
    b, c = rule(1, name="B"), rule(2, name="C")
    other_admin = _make_user("cxadmin2", CX_ADMIN, staff=True)
    barrier, outcomes = threading.Barrier(2), {}

    def move(actor, moved, direction, seen) -> None:
        try:
            connection.ensure_connection()
            barrier.wait(timeout=10)
            routing_rule_move(actor=actor, rule_id=moved.pk, direction=direction, seen_position=seen)
            outcomes[moved.name] = "moved"
        except Exception as exc:  # reported to the test, not lost in the thread
            outcomes[moved.name] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=move, args=(cx_admin, b, "down", 1)),
        threading.Thread(target=move, args=(other_admin, c, "up", 2)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a move hung"
    refused = [o for o in outcomes.values() if o != "moved"]
    assert len(outcomes) == 2 and len(refused) == 1, outcomes
    assert isinstance(refused[0], Conflict) and "moved by someone else meanwhile" in refused[0].message, outcomes
    # One swap, not two (which would put them back) and not half of one.
    assert dict(RoutingRule.objects.values_list("name", "position")) == {"A": 0, "C": 1, "B": 2}
    assert LogEntry.objects.count() == 2
