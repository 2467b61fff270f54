"""A current-state journey beside its future-state design, and promoting the
design to current (issue 21): the diff by slug, history kept on the
touchpoints carried over, the old journey archived, each promotion recorded,
and every refusal clear with nothing half-saved."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection

from cvx_site.errors import Conflict, NotFound, PermissionDenied
from feedback.analytics import score_metrics
from feedback.models import FeedbackResponse
from feedback.services import feedback_ingest
from journeys.choices import JourneyState
from journeys.models import Journey, Stage, Touchpoint
from journeys.selectors import carried_slug, journey_diff, live_journeys, touchpoint_not_live_reason
from journeys.services import journey_copy_as_future, journey_promote

pytestmark = pytest.mark.django_db


@pytest.fixture
def fix_a_fault(team, other_team):
    """A current journey: Report (fault line by phone, store till, web form)
    and Repair (engineer visit)."""
    journey = Journey.objects.create(name="Fix a fault", slug="fix-a-fault", position=3)
    report = Stage.objects.create(journey=journey, name="Report", position=0)
    repair = Stage.objects.create(journey=journey, name="Repair", position=1)
    for stage, slug, channel, owner in (
        (report, "fault-line", "call_center", team),
        (report, "store-till", "store", other_team),
        (report, "web-form", "web", team),
        (repair, "engineer-visit", "field_visit", team),
    ):
        Touchpoint.objects.create(
            stage=stage, name=slug.replace("-", " ").title(), slug=slug, channel=channel, team=owner
        )
    return journey


@pytest.fixture
def design(fix_a_fault, team):
    """The future state: the fault line becomes a chat, the store till moves
    to care, the web form moves to Repair, the engineer visit goes, an app
    tracker comes in a new stage."""
    draft = journey_copy_as_future(journey=fix_a_fault)
    mine = Touchpoint.objects.filter(stage__journey=draft)
    mine.filter(slug="fault-line-future").update(channel="chat")
    mine.filter(slug="store-till-future").update(team=team)
    mine.filter(slug="web-form-future").update(stage=Stage.objects.get(journey=draft, name="Repair"))
    mine.filter(slug="engineer-visit-future").delete()
    track = Stage.objects.create(journey=draft, name="Track", position=2)
    Touchpoint.objects.create(stage=track, name="App tracker", slug="app-tracker", channel="mobile_app", team=team)
    return draft


def post_feedback(slug: str, n: int, *, nps: int = 3):
    outcome = feedback_ingest(
        item={
            "touchpoint": slug,
            "customer": {"external_id": f"cust-{slug}-{n}"},
            "kind": "direct",
            "source": "survey",
            "external_id": f"{slug}-{n}",
            "nps": nps,
            "comment": "The engineer never came",
        }
    )
    assert outcome.status == "created", outcome
    return outcome


def test_carried_slug_takes_off_the_suffix_the_copy_added():
    assert carried_slug("fault-line-future") == "fault-line"
    assert carried_slug("fault-line-future-2") == "fault-line"
    assert carried_slug("back-to-the-future-future") == "back-to-the-future"
    assert carried_slug("app-tracker") == "app-tracker"


def test_the_diff_names_what_the_design_adds_removes_moves_and_changes(design):
    diff = journey_diff(design)
    by_slug = {(p.current or p.draft).slug: p for p in diff.pairs}
    assert {slug: p.status for slug, p in by_slug.items()} == {
        "fault-line": "changed",
        "store-till": "changed",
        "web-form": "changed",
        "engineer-visit": "removed",
        "app-tracker": "added",
    }
    changes = {slug: [(c.field, c.before, c.after) for c in p.changes] for slug, p in by_slug.items()}
    assert changes["fault-line"] == [("channel", "Call center", "Chat")]
    assert changes["store-till"] == [("team", "Stores", "Customer care")]
    assert changes["web-form"] == [("stage", "Report", "Repair")]
    assert by_slug["web-form"].moved is not None and by_slug["fault-line"].moved is None
    # Stage by stage: the current map's order, then the stage only the design has.
    rows = [(r.name, [p.current.slug for p in r.current], [p.draft.slug for p in r.draft]) for r in diff.stages]
    assert rows == [
        ("Report", ["fault-line", "store-till", "web-form"], ["fault-line-future", "store-till-future"]),
        ("Repair", ["engineer-visit"], ["web-form-future"]),
        ("Track", [], ["app-tracker"]),
    ]
    assert [(r.in_current, r.in_draft) for r in diff.stages] == [(True, True), (True, True), (False, True)]


def test_an_unchanged_copy_is_all_the_same(fix_a_fault):
    diff = journey_diff(journey_copy_as_future(journey=fix_a_fault))
    assert {p.status for p in diff.pairs} == {"same"} and len(diff.carried) == 4 and diff.changed == []


def test_promotion_keeps_feedback_history_on_the_touchpoints_carried_over(design, fix_a_fault, cx_admin):
    kept = Touchpoint.objects.get(slug="fault-line")
    gone = Touchpoint.objects.get(slug="engineer-visit")
    for n in range(3):
        post_feedback("fault-line", n)
    post_feedback("engineer-visit", 0)
    before = score_metrics(FeedbackResponse.objects.all(), group_by="touchpoint")

    promoted = journey_promote(actor=cx_admin, draft_id=design.pk)

    archived = Journey.objects.get(pk=fix_a_fault.pk)
    assert (promoted.pk, promoted.state, promoted.active) == (design.pk, JourneyState.CURRENT, True)
    # The promoted journey takes the old one's name, slug and place; the old one is archived, not live.
    assert (promoted.name, promoted.slug, promoted.position) == ("Fix a fault", "fix-a-fault", 3)
    assert archived.state == JourneyState.ARCHIVED and archived.active is False
    assert archived.slug == "fix-a-fault-archived" and "archived" in archived.name
    assert list(live_journeys()) == [promoted]
    # The carried touchpoint is the same row, slug and feedback, now in the design's stage with its channel.
    carried = Touchpoint.objects.select_related("stage__journey").get(pk=kept.pk)
    assert (carried.slug, carried.channel, carried.stage.journey) == ("fault-line", "chat", promoted)
    assert not Touchpoint.objects.filter(slug__endswith="-future").exists()
    assert FeedbackResponse.objects.filter(touchpoint=carried).count() == 3
    assert score_metrics(FeedbackResponse.objects.all(), group_by="touchpoint") == before
    by_journey = {r["group"]: r["responses"] for r in score_metrics(FeedbackResponse.objects.all(), group_by="journey")}
    assert by_journey == {"fix-a-fault": 3, "fix-a-fault-archived": 1}
    # The removed touchpoint keeps its history in the archived journey, which takes no more feedback.
    gone = Touchpoint.objects.select_related("stage__journey").get(pk=gone.pk)
    assert gone.stage.journey == archived and FeedbackResponse.objects.filter(touchpoint=gone).count() == 1
    assert "belongs to the archived journey" in touchpoint_not_live_reason(gone)
    # Feedback goes on under the slug integrations know.
    post_feedback("fault-line", 9)
    assert FeedbackResponse.objects.filter(touchpoint=carried).count() == 4
    assert Touchpoint.objects.filter(stage__journey=promoted).count() == 4  # 3 carried + the tracker
    # Recorded in both journeys' histories, by whom.
    entries = {e.object_id: e for e in LogEntry.objects.filter(user=cx_admin)}
    assert "Promoted to the current state, replacing" in entries[str(promoted.pk)].change_message
    assert "3 touchpoint(s) carried over" in entries[str(promoted.pk)].change_message
    assert "Archived: replaced by the promoted design" in entries[str(archived.pk)].change_message


def test_links_to_a_design_touchpoint_move_to_the_one_carried_over(design, cx_admin):
    from cases.models import RoutingRule

    rule = RoutingRule.objects.create(name="Chat detractors", position=0, nps_at_most=6)
    rule.touchpoints.set([Touchpoint.objects.get(slug="fault-line-future")])
    journey_promote(actor=cx_admin, draft_id=design.pk)
    assert list(rule.touchpoints.values_list("slug", flat=True)) == ["fault-line"]


def snapshot() -> tuple:
    return (
        sorted(Journey.objects.values_list("pk", "name", "slug", "state", "active")),
        sorted(Touchpoint.objects.values_list("pk", "slug", "stage_id", "channel", "team_id")),
        LogEntry.objects.count(),
    )


def test_a_draft_promoted_twice_is_refused_the_second_time_and_nothing_changes(design, cx_admin):
    journey_promote(actor=cx_admin, draft_id=design.pk)
    before = snapshot()
    with pytest.raises(Conflict) as refused:
        journey_promote(actor=cx_admin, draft_id=design.pk)
    assert "is not a future-state draft (it is current state)" in refused.value.message
    assert "promoted already" in refused.value.message
    assert snapshot() == before


def test_a_second_design_of_the_same_journey_cannot_replace_it_once_archived(fix_a_fault, design, cx_admin):
    second = journey_copy_as_future(journey=fix_a_fault)
    journey_promote(actor=cx_admin, draft_id=design.pk)
    before = snapshot()
    with pytest.raises(Conflict) as refused:
        journey_promote(actor=cx_admin, draft_id=second.pk)
    assert "is no longer the current state (archived)" in refused.value.message
    assert snapshot() == before


def test_promoting_a_journey_that_is_not_a_draft_is_refused(fix_a_fault, cx_admin):
    before = snapshot()
    with pytest.raises(Conflict) as refused:
        journey_promote(actor=cx_admin, draft_id=fix_a_fault.pk)
    assert "is not a future-state draft" in refused.value.message
    assert snapshot() == before


def test_a_draft_whose_origin_is_gone_is_refused(fix_a_fault, design, cx_admin):
    fix_a_fault.delete()
    before = snapshot()
    with pytest.raises(Conflict) as refused:
        journey_promote(actor=cx_admin, draft_id=design.pk)
    assert "the journey it was copied from was deleted" in refused.value.message
    assert snapshot() == before


def test_a_design_touchpoint_with_records_of_its_own_is_refused_and_nothing_is_half_saved(design, cx_admin):
    from datetime import date

    from feedback.models import DailyScore

    # A row that would go with the design's copy (deleted on cascade), e.g. a score summary row.
    DailyScore.objects.create(touchpoint=Touchpoint.objects.get(slug="web-form-future"), day=date(2026, 1, 5))
    before = snapshot()
    with pytest.raises(Conflict) as refused:
        journey_promote(actor=cx_admin, draft_id=design.pk)
    assert "“Web Form (Web)” has daily scores of its own" in refused.value.message
    assert "Nothing was changed" in refused.value.message
    assert snapshot() == before


def test_promotion_needs_the_change_permission_and_an_existing_journey(design, lead, cx_admin):
    with pytest.raises(PermissionDenied):
        journey_promote(actor=lead, draft_id=design.pk)
    with pytest.raises(NotFound):
        journey_promote(actor=cx_admin, draft_id=design.pk + 1000)
    assert Journey.objects.get(pk=design.pk).state == JourneyState.FUTURE


def run_at_once(*calls):
    """Each call in its own thread and database connection, started together;
    the outcome of each: its result or the exception it raised."""
    import threading

    barrier, outcomes = threading.Barrier(len(calls)), [None] * len(calls)

    def run(i, call):
        try:
            connection.ensure_connection()
            barrier.wait(timeout=10)
            outcomes[i] = call()
        except Exception as exc:  # reported to the test, not lost in the thread
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a promotion hung"
    return outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("pg_audit_cleanup")
@pytest.mark.parametrize("same_draft", [True, False], ids=["one draft", "two drafts of one journey"])
def test_two_admins_promoting_at_once_one_wins_and_the_other_is_told(fix_a_fault, design, cx_admin, same_draft):
    from journeys.roles import CX_ADMIN
    from tests.conftest import _make_user

    other_admin = _make_user("cxadmin2", CX_ADMIN, staff=True)
    second = design if same_draft else journey_copy_as_future(journey=fix_a_fault)
    outcomes = run_at_once(
        lambda: journey_promote(actor=cx_admin, draft_id=design.pk),
        lambda: journey_promote(actor=other_admin, draft_id=second.pk),
    )
    refused = [o for o in outcomes if not isinstance(o, Journey)]
    assert len(refused) == 1 and isinstance(refused[0], Conflict), outcomes
    said = "promoted already" if same_draft else "is no longer the current state"
    assert said in refused[0].message
    assert Journey.objects.filter(state=JourneyState.CURRENT).count() == 1
    assert Journey.objects.filter(state=JourneyState.ARCHIVED).count() == 1
    assert LogEntry.objects.count() == 2  # one promotion, recorded on both journeys
    if same_draft:
        assert Touchpoint.objects.get(slug="fault-line").channel == "chat"


# --- the admin pages ----------------------------------------------------------------------


def test_the_side_by_side_page_shows_both_maps_and_scores_beside_what_changes(client, design, cx_admin):
    from django.urls import reverse

    from feedback.lexicon import topic_save

    topic_save(actor=cx_admin, name="Missed visit", phrases=["never came"])
    for n in range(2):
        post_feedback("fault-line", n)
    client.force_login(cx_admin)
    listing = client.get(reverse("admin:journeys_journey_changelist")).content.decode()
    url = reverse("admin:journeys_journey_compare", args=[design.pk])
    assert f'href="{url}"' in listing
    assert url in client.get(reverse("admin:journeys_journey_change", args=[design.pk])).content.decode()
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    for said in ("Channel: Call center → Chat", "Team: Stores → Customer care", "Moved from Report", "Moves to Repair"):
        assert said in html
    assert 'class="jd-tp jd-removed" data-slug="engineer-visit"' in html
    assert 'class="jd-tp jd-added" data-slug="app-tracker"' in html
    # The changed fault line's scores come from score_metrics: n and the few-responses flag.
    pair = next(p for p in page.context["diff"].pairs if p.current and p.current.slug == "fault-line")
    assert pair.figures["scores"]["nps_n"] == 2 and pair.figures["scores"]["nps_few"] is True
    assert "NPS <b>-100.0</b>" in html and "(n 2) few responses" in html
    assert [t.name for t in pair.figures["topics"]] == ["Missed visit"]
    assert "Negative topics: Missed visit (2)" in html
    assert 'value="Promote to current state"' in html


def test_the_side_by_side_page_and_promotion_are_for_journey_editors_only(client, design, lead):
    from django.urls import reverse

    client.force_login(lead)
    assert client.get(reverse("admin:journeys_journey_compare", args=[design.pk])).status_code == 403
    assert client.post(reverse("admin:journeys_journey_promote", args=[design.pk])).status_code == 403
    assert Journey.objects.get(pk=design.pk).state == JourneyState.FUTURE


def test_promoting_from_the_page_and_again_from_a_stale_page(client, design, cx_admin):
    from django.urls import reverse

    client.force_login(cx_admin)
    url = reverse("admin:journeys_journey_promote", args=[design.pk])
    assert client.get(url).status_code == 405
    reply = client.post(url, follow=True)
    assert [str(m) for m in reply.context["messages"]] == [
        "“Fix a fault” is now the current state; the journey it replaced is archived with its history."
    ]
    assert Journey.objects.get(pk=design.pk).state == JourneyState.CURRENT
    before = snapshot()
    again = client.post(url, follow=True)  # the same page, submitted a second time
    message = str(list(again.context["messages"])[0])
    assert "is not a future-state draft" in message and "Nothing was changed" in message
    assert snapshot() == before
    # A promoted journey has no side-by-side page any more: back to it, saying why.
    compare = client.get(reverse("admin:journeys_journey_compare", args=[design.pk]), follow=True)
    assert "it is not a future-state draft" in str(list(compare.context["messages"])[0])


def test_insights_read_both_journeys_history_after_promotion(client, design, fix_a_fault, cx_admin):
    from django.urls import reverse

    for n in range(3):
        post_feedback("fault-line", n)
    post_feedback("engineer-visit", 0)
    journey_promote(actor=cx_admin, draft_id=design.pk)
    client.force_login(cx_admin)

    def responses_on_page(slug: str) -> int:
        page = client.get(reverse("cases:insights-journey", args=[slug]))
        assert page.status_code == 200
        return sum(row["responses"] for row in page.context["series"])

    # The carried touchpoint's history is the promoted journey's; the removed one's stays with the archived.
    assert responses_on_page("fix-a-fault") == 3
    assert responses_on_page("fix-a-fault-archived") == 1


# --- what cases hold of the journey follows it (cases.journey_hooks) ----------------------


def test_a_routing_rule_by_journey_routes_the_carried_touchpoint_as_before_the_promotion(
    client, design, fix_a_fault, cx_admin
):
    from django.urls import reverse

    from cases.insights.loop import loop_metrics
    from cases.models import Case, RoutingRule
    from cases.services import response_route

    other = RoutingRule.objects.create(name="Another journey", position=0, nps_at_most=6)
    other.journeys.set([Journey.objects.create(name="Move home", slug="move-home")])
    rule = RoutingRule.objects.create(name="Fault detractors", position=1, nps_at_most=6)
    rule.journeys.set([fix_a_fault])

    def routed(n: int):
        routing = response_route(response_id=post_feedback("fault-line", n).response.pk)
        return routing.outcome, routing.case and (routing.case.rule, routing.case.touchpoint.slug)

    before = routed(0)
    assert before[1] == (rule, "fault-line")

    promoted = journey_promote(actor=cx_admin, draft_id=design.pk)

    assert list(rule.journeys.all()) == [promoted]
    assert routed(1) == before  # the same outcome, rule and touchpoint
    assert list(other.journeys.values_list("slug", flat=True)) == ["move-home"]  # not this journey's: untouched
    # The earlier case counts under the journey its touchpoint is in now, as its feedback does.
    assert set(Case.objects.values_list("journey", flat=True)) == {promoted.pk}
    assert [(r["group"], r["cases"]) for r in loop_metrics(Case.objects.all(), group_by="journey")] == [
        ("fix-a-fault", 2)
    ]
    # Recorded in the rule's admin history, by whom, and in the promotion's record.
    entry = LogEntry.objects.get(object_id=str(rule.pk), content_type__model="routingrule")
    assert entry.user == cx_admin and "Journey condition carried from “Fix a fault — archived" in entry.change_message
    assert not LogEntry.objects.filter(object_id=str(other.pk), content_type__model="routingrule").exists()
    promotion = LogEntry.objects.get(object_id=str(promoted.pk), content_type__model="journey").change_message
    assert "1 routing rule(s) filtered by the archived journey now filter by this one." in promotion
    assert "1 case(s) of the carried touchpoints now count under this journey." in promotion
    # The routing rule admin shows it: the rule's journey and its history.
    client.force_login(cx_admin)
    change = client.get(reverse("admin:cases_routingrule_change", args=[rule.pk]))
    assert change.status_code == 200
    assert [j.pk for j in change.context["adminform"].form.initial["journeys"]] == [promoted.pk]
    history = client.get(reverse("admin:cases_routingrule_history", args=[rule.pk])).content.decode()
    assert "Journey condition carried from" in history


def test_a_rule_left_on_a_journey_that_a_failed_promotion_would_archive_is_unchanged(design, fix_a_fault, cx_admin):
    from datetime import date

    from cases.models import RoutingRule
    from feedback.models import DailyScore

    rule = RoutingRule.objects.create(name="Fault detractors", position=0, nps_at_most=6)
    rule.journeys.set([fix_a_fault])
    DailyScore.objects.create(touchpoint=Touchpoint.objects.get(slug="web-form-future"), day=date(2026, 1, 5))
    with pytest.raises(Conflict):
        journey_promote(actor=cx_admin, draft_id=design.pk)
    assert list(rule.journeys.all()) == [fix_a_fault]
    assert not LogEntry.objects.exists()
