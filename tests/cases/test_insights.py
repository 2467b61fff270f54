"""Insights: the root-cause Pareto and the chain of CX value equal a plain
Python computation over the same rows; the journey map's cards, the score
series and the charts; the pages' access, escaping, bad queries and CSV."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from datetime import UTC, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cases import services
from cases.choices import CaseOutcome, CaseStatus
from cases.insights import queries as insights
from cases.insights.charts import bar_chart, line_chart
from cases.models import Case, FollowUp, RootCause
from feedback.models import FeedbackResponse
from feedback.services import feedback_ingest

pytestmark = pytest.mark.django_db

MAP = "/cases/insights/journeys/get-connected/map/"
TOUCHPOINT = "/cases/insights/touchpoints/fault-line/"
PAGES = ["/cases/insights/", MAP, "/cases/insights/journeys/get-connected/", TOUCHPOINT, "/cases/insights/root-causes/"]


@pytest.fixture
def store(stage, team, agent):
    """A second touchpoint of the same journey and team."""
    from journeys.models import Touchpoint

    return Touchpoint.objects.create(
        stage=stage, name="Store", slug="store", channel="store", team=team, default_owner=agent, position=1
    )


@pytest.fixture
def say(detractor_rule):
    """say(touchpoint, who, **fields) -> FeedbackResponse: ingest one response
    and route it as the after-commit task would (a detractor opens a case,
    dated a minute after the response occurred)."""
    from cases.services import response_route

    counter = iter(range(1, 10_000))

    def make(touchpoint: str, who: str | None, *, invitation=None, **fields) -> FeedbackResponse:
        item = {"touchpoint": touchpoint, "source": "test", "external_id": f"say-{next(counter)}", **fields}
        if who:
            item["customer"] = {"email": f"{who}@example.com"}
        outcome = feedback_ingest(item=item, invitation=invitation)
        assert outcome.status == "created", outcome.errors
        response_route(response_id=outcome.response.pk)
        Case.objects.filter(feedback=outcome.response).update(
            created_at=outcome.response.occurred_at + timedelta(minutes=1)
        )
        return outcome.response

    return make


def case_of(response: FeedbackResponse) -> Case:
    return Case.objects.get(feedback=response)


def answer_follow_up(say, case: Case, nps: int, **fields) -> None:
    """The customer answers the case's follow-up survey (recorded by routing)."""
    follow = FollowUp.objects.select_related("invitation").get(case=case)
    say(
        case.touchpoint.slug,
        None,
        invitation=follow.invitation,
        nps=nps,
        source="follow_up",
        customer={"email": follow.invitation.email},
        **fields,
    )


# --- the root-cause Pareto ---------------------------------------------------------


@pytest.fixture
def resolved_cases(make_case, agent, root_cause, store, say, settings):
    """Line fault: 4 in the period (3 at fault-line, 1 at store), follow-ups
    answered 1 recovered + 1 not; Attitude of staff (made after Line fault,
    so its id is higher, its name first): 4, all recovered, resolved an hour
    apart; Billing: 2, one recovered; one Line fault resolved long ago; one open."""
    settings.CVX_REOPEN_NOT_RECOVERED = False
    staff = RootCause.objects.create(name="Attitude of staff")
    billing = RootCause.objects.create(name="Billing")
    plan = (
        [
            (root_cause, "fault-line", 9),
            (root_cause, "fault-line", 3),
            (root_cause, "fault-line", None),
            (root_cause, "store", None),
        ]
        + [(staff, "fault-line", 10)] * 4
        + [(billing, "store", 9), (billing, "fault-line", None)]
    )
    now = timezone.now()
    for n, (cause, where, answer) in enumerate(plan):
        case = make_case(touchpoint=where)
        services.case_log_contact(case_id=case.pk, actor=agent, channel="phone", note="Called the customer")
        services.case_resolve(case_id=case.pk, actor=agent, root_cause=cause, note=f"Fix number {n}")
        Case.objects.filter(pk=case.pk).update(resolved_at=now - timedelta(hours=n + 1))
        if answer is not None:
            answer_follow_up(say, case, answer)
    old = make_case()
    services.case_log_contact(case_id=old.pk, actor=agent, channel="phone", note="Called the customer")
    services.case_resolve(case_id=old.pk, actor=agent, root_cause=root_cause, note="Long ago")
    Case.objects.filter(pk=old.pk).update(resolved_at=now - timedelta(days=200))
    make_case()  # open, no root cause
    return Case.objects.all()


def expected_pareto(cases, since, until) -> list[dict]:
    """The Pareto the slow way: loops over the rows."""
    low = insights.start_of(since)
    high = insights.start_of(until + timedelta(days=1))
    chosen = [
        c
        for c in cases.select_related("root_cause__parent", "touchpoint")
        if c.resolved_at and low <= c.resolved_at < high and c.root_cause_id
    ]
    by_cause = defaultdict(list)
    for case in chosen:
        by_cause[case.root_cause_id].append(case)
    order = sorted(by_cause, key=lambda k: (-len(by_cause[k]), str(by_cause[k][0].root_cause).lower()))
    rows, running = [], 0
    for cause in order:
        mine = by_cause[cause]
        running += len(mine)
        answers = [f for c in mine for f in FollowUp.objects.filter(case=c, answer__isnull=False)]
        recovered = sum(1 for f in answers if f.recovered)
        where = Counter(c.touchpoint.slug for c in mine)
        notes = sorted(
            (c for c in mine if c.outcome == CaseOutcome.RECOVERED and c.resolution_summary),
            key=lambda c: (c.resolved_at, c.pk),
            reverse=True,
        )[:3]
        rows.append(
            {
                "root_cause": str(mine[0].root_cause),
                "cases": len(mine),
                "share_pct": round(100 * len(mine) / len(chosen), 1),
                "cumulative_pct": round(100 * running / len(chosen), 1),
                "answered": len(answers),
                "recovered": recovered,
                "recovery_rate": round(100 * recovered / len(answers), 1) if answers else None,
                "touchpoints": [slug for slug, _ in sorted(where.items(), key=lambda kv: (-kv[1], kv[0]))][:3],
                "notes": [c.resolution_summary for c in notes],
            }
        )
    return rows


def test_pareto_matches_a_plain_computation(resolved_cases):
    today = timezone.localdate()
    since, until = today - timedelta(days=30), today
    rows = insights.root_cause_pareto(resolved_cases, since, until)

    got = [
        {
            **{
                k: r[k]
                for k in (
                    "root_cause",
                    "cases",
                    "share_pct",
                    "cumulative_pct",
                    "answered",
                    "recovered",
                    "recovery_rate",
                )
            },
            "touchpoints": [t["slug"] for t in r["touchpoints"]],
            "notes": [n["summary"] for n in r["notes"]],
        }
        for r in rows
    ]
    assert got == expected_pareto(resolved_cases, since, until)


def test_pareto_orders_by_count_then_name_with_cumulative_share(resolved_cases):
    today = timezone.localdate()
    rows = insights.root_cause_pareto(resolved_cases, today - timedelta(days=30), today)

    # 4 and 4 tie, broken by name; the case resolved 200 days ago is out.
    assert [(r["root_cause"], r["cases"]) for r in rows] == [
        ("Attitude of staff", 4),
        ("Network › Line fault", 4),
        ("Billing", 2),
    ]
    assert [r["cumulative_pct"] for r in rows] == [40.0, 80.0, 100.0]
    assert [(r["answered"], r["recovered"], r["recovery_rate"]) for r in rows] == [
        (4, 4, 100.0),
        (2, 1, 50.0),
        (1, 1, 100.0),
    ]
    assert [(t["slug"], t["cases"]) for t in rows[1]["touchpoints"]] == [("fault-line", 3), ("store", 1)]
    # Four recovered: the three resolved last are shown, newest first.
    assert [n["summary"] for n in rows[0]["notes"]] == ["Fix number 4", "Fix number 5", "Fix number 6"]
    assert [n["summary"] for n in rows[1]["notes"]] == ["Fix number 0"]


def test_pareto_period_bounds_are_inclusive_days(resolved_cases):
    long_ago = timezone.localtime(timezone.now() - timedelta(days=200)).date()
    [row] = insights.root_cause_pareto(resolved_cases, long_ago, long_ago)
    assert (row["root_cause"], row["cases"], row["cumulative_pct"]) == ("Network › Line fault", 1, 100.0)
    assert insights.root_cause_pareto(resolved_cases, long_ago + timedelta(days=1), long_ago + timedelta(days=2)) == []


# --- the chain of CX value ---------------------------------------------------------


@pytest.fixture
def value_story(say, agent, root_cause, touchpoint, store, settings):
    """Customers of fault-line: rec1/rec2 recovered; early recovered from a
    case opened by their second feedback here, after a case at the store;
    norec not recovered + a repeat case; noresp no answer; norec2 not
    recovered and only their follow-up answer later; happy/happy2 no case
    here (cases at the store); open an open case; anonymous feedback."""
    from cases.models import RoutingRule
    from cases.services.follow_up import follow_up_sweep

    settings.CVX_REOPEN_NOT_RECOVERED = False
    RoutingRule.objects.create(name="Dissatisfied", position=20, csat_at_most=2)
    now = timezone.now()
    base = now - timedelta(days=120)

    def at(days: float) -> str:
        return (base + timedelta(days=days)).isoformat()

    def resolved(who: str, answer: int | None, day: float = 0) -> Case:
        case = case_of(say("fault-line", who, nps=2, occurred_at=at(day)))
        services.case_log_contact(case_id=case.pk, actor=agent, channel="phone", note="Called the customer")
        services.case_resolve(case_id=case.pk, actor=agent, root_cause=root_cause, note="Sorted it")
        if answer is not None:  # answered within the window, and never counted as later feedback
            answer_follow_up(say, case, answer, occurred_at=at(day + 2))
        return case

    resolved("rec1", 9)
    say("store", "rec1", nps=3, occurred_at=at(10))
    say(
        "store",
        "rec1",
        kind="inferred",
        source="ops",
        comment="Bought a second line",
        occurred_at=at(20),
        metadata={"event": "repeat_purchase"},
    )
    resolved("rec2", 10)
    say(
        "store",
        "rec2",
        kind="inferred",
        source="ops",
        comment="Contract ended",
        occurred_at=at(100),
        metadata={"event": "churn"},
    )
    resolved("norec", 3)
    say("fault-line", "norec", nps=1, occurred_at=at(30))  # a second case here
    say(
        "store",
        "norec",
        kind="inferred",
        source="ops",
        comment="Contract ended",
        occurred_at=at(40),
        metadata={"event": "churn"},
    )
    noresp = resolved("noresp", None)
    follow_up_sweep(now=FollowUp.objects.get(case=noresp).invitation.expires_at + timedelta(seconds=1))
    resolved("norec2", 2)
    say("fault-line", "happy", nps=10, occurred_at=at(0))
    say("store", "happy", nps=4, occurred_at=at(5))
    say("fault-line", "happy2", nps=8, occurred_at=at(0))
    say("store", "happy2", nps=0, occurred_at=at(-5))  # before their feedback here
    say(
        "store",
        "happy2",
        kind="inferred",
        source="ops",
        comment="Bought a router",
        occurred_at=at(3),
        metadata={"event": "repeat_purchase"},
    )
    say("fault-line", "early", nps=8, occurred_at=at(0))
    store_case = case_of(say("store", "early", csat=1, occurred_at=at(5)))  # before their case here: no repeat
    services.case_log_contact(case_id=store_case.pk, actor=agent, channel="phone", note="Called the customer")
    services.case_resolve(case_id=store_case.pk, actor=agent, root_cause=root_cause, note="Apologised")
    resolved("early", 9, day=10)  # the detractor that opened the case is not "later detractor feedback"
    say("fault-line", "open", nps=2, occurred_at=at(0))
    say("fault-line", None, nps=0, occurred_at=at(0))
    assert set(Case.objects.values_list("outcome", flat=True)) == {"recovered", "not_recovered", "no_response", None}


def expected_chain(touchpoint, window_days: int, responses=None) -> dict:
    """The value chain the slow way, from the documented rules."""
    if responses is None:
        responses = FeedbackResponse.objects.all()
    responses = [
        r for r in responses.select_related("invitation") if not (r.invitation and r.invitation.purpose == "follow_up")
    ]
    has_events = any(r.kind == "inferred" and r.metadata.get("event") in insights.EVENTS for r in responses)
    cases = sorted(Case.objects.filter(kind="complaint"), key=lambda c: (c.created_at, c.pk))
    won = [c for c in Case.objects.select_related("feedback") if c.kind == "opportunity" and c.status == "won"]
    anchors = {}
    for r in responses:
        if r.touchpoint_id == touchpoint.pk and r.customer_id:
            anchors[r.customer_id] = min(anchors.get(r.customer_id, r.occurred_at), r.occurred_at)
    tally = {key: Counter() for key, _ in insights.COHORTS}
    undecided = 0
    for customer, anchor in anchors.items():
        end = anchor + timedelta(days=window_days)
        first = next((c for c in cases if c.customer_id == customer and c.touchpoint_id == touchpoint.pk), None)
        outcome = first.outcome if first else "none"
        cohort = {
            "none": "no_case",
            "recovered": "recovered",
            "not_recovered": "not_recovered",
            "no_response": "not_recovered",
        }.get(outcome)
        if cohort is None:
            undecided += 1
            continue
        mine = [r for r in responses if r.customer_id == customer and anchor < r.occurred_at <= end]
        tally[cohort]["customers"] += 1
        tally[cohort]["later_detractor"] += any(
            r.nps is not None and r.nps <= 6 and (not first or r.pk != first.feedback_id) for r in mine
        )
        after = first.created_at if first else anchor
        tally[cohort]["repeat_case"] += any(
            c.customer_id == customer and c != first and after < c.created_at <= end for c in cases
        )
        for event in insights.EVENTS:
            tally[cohort][event] += any(r.kind == "inferred" and r.metadata.get("event") == event for r in mine)
        theirs = [c for c in won if c.customer_id == customer and anchor <= c.feedback.occurred_at <= end]
        tally[cohort]["won"] += len(theirs)
        tally[cohort]["revenue_won"] += sum(c.amount or 0 for c in theirs)
    signals = ["later_detractor", "repeat_case", *(insights.EVENTS if has_events else ())]

    def pct(part, whole):
        return round(100 * part / whole, 1) if whole else None

    cohorts = {
        key: {
            "customers": t["customers"],
            **{s: None for e in insights.EVENTS for s in (e, f"{e}_pct")},
            **{s: t[s] for s in signals},
            **{f"{s}_pct": pct(t[s], t["customers"]) for s in signals},
            "won": t["won"],
            "revenue_won": Decimal(t["revenue_won"]).quantize(Decimal("0.01")),
        }
        for key, t in tally.items()
    }
    return {"customers": len(anchors), "undecided": undecided, "cohorts": cohorts}


def chain_as_dicts(chain: dict) -> dict:
    return {
        "customers": chain["customers"],
        "undecided": chain["undecided"],
        "cohorts": {
            row["key"]: {k: v for k, v in row.items() if k not in ("key", "label")} for row in chain["cohorts"]
        },
    }


def test_value_chain_matches_a_plain_computation(value_story, touchpoint):
    chain = insights.value_chain(touchpoint, FeedbackResponse.objects.all(), Case.objects.all())
    assert chain["has_events"] is True
    assert chain_as_dicts(chain) == expected_chain(touchpoint, 90)


def test_value_chain_cohorts_and_shares(value_story, touchpoint):
    chain = insights.value_chain(touchpoint, FeedbackResponse.objects.all(), Case.objects.all())
    rows = {row["key"]: row for row in chain["cohorts"]}
    signals = ("customers", "later_detractor", "repeat_case", "churn", "repeat_purchase")

    assert (chain["customers"], chain["undecided"]) == (9, 1)  # the open case's customer is left out
    # rec1: a later detractor (with a case at the store) and a purchase; rec2's churn is past the
    # window; early: nothing after their case here.
    assert [rows["recovered"][s] for s in signals] == [3, 1, 1, 0, 1]
    assert rows["recovered"]["later_detractor_pct"] == 33.3
    # norec: detractor again, a second case, churned; norec2's follow-up answer is not "later feedback".
    assert [rows["not_recovered"][s] for s in signals] == [3, 1, 1, 1, 0]
    assert rows["not_recovered"]["repeat_case_pct"] == 33.3
    # happy: a detractor (and a case) after; happy2's came before their feedback here.
    assert [rows["no_case"][s] for s in signals] == [2, 1, 1, 0, 1]


def test_value_chain_window_and_missing_events(value_story, touchpoint):
    no_events = FeedbackResponse.objects.exclude(kind="inferred")
    chain = insights.value_chain(touchpoint, no_events, Case.objects.all(), window_days=8)
    rows = {row["key"]: row for row in chain["cohorts"]}
    assert chain["has_events"] is False
    assert rows["recovered"]["churn_pct"] is None and rows["no_case"]["repeat_purchase"] is None
    # Within 8 days only happy's detractor (day 5) is later feedback; rec1's came on day 10.
    assert (rows["recovered"]["later_detractor"], rows["no_case"]["later_detractor"]) == (0, 1)
    assert chain_as_dicts(chain) == expected_chain(touchpoint, 8, no_events)


# --- the journey map and the score series ----------------------------------------------


def test_journey_map_cards_scores_trend_and_cases(say, touchpoint, store, journey):
    now = timezone.now()
    first = say("fault-line", "a", nps=2, occurred_at=(now - timedelta(days=3)).isoformat())
    say("fault-line", "b", nps=1, occurred_at=(now - timedelta(days=5)).isoformat())
    say("fault-line", "c", nps=10, occurred_at=(now - timedelta(days=9)).isoformat())
    say("fault-line", "d", nps=9, occurred_at=(now - timedelta(days=40)).isoformat())  # the period before
    say("fault-line", "f", nps=0, occurred_at=(now - timedelta(days=70)).isoformat())  # before that
    say("store", "e", csat=5, occurred_at=(now - timedelta(days=1)).isoformat())
    Case.objects.filter(feedback=first).update(due_at=now - timedelta(hours=1))  # overdue

    [stage] = insights.journey_map(journey, FeedbackResponse.objects.all(), Case.objects.all(), days=30, now=now)
    fault, shop = stage["cards"]
    assert fault["touchpoint"] == touchpoint and shop["touchpoint"] == store  # by position
    assert (fault["measure"], fault["value"], fault["responses"]) == ("NPS", -33.3, 3)
    # 3 responses against 1: too few to call it a change (tests/insights/test_sample_size.py has the arrow's rule).
    assert (fault["previous"], fault["delta"], fault["trend"], fault["heat"]) == (100.0, -133.3, "unclear", "bad")
    Case.objects.filter(feedback__customer__identities__value="f@example.com").update(status=CaseStatus.CLOSED)
    assert (fault["open_cases"], fault["breached_cases"]) == (3, 1)  # a's, b's and f's cases; a's is overdue
    [stage] = insights.journey_map(journey, FeedbackResponse.objects.all(), Case.objects.all(), days=30, now=now)
    assert (stage["cards"][0]["open_cases"], stage["cards"][0]["breached_cases"]) == (2, 1)
    assert (shop["measure"], shop["value"], shop["trend"], shop["heat"]) == ("CSAT %", 100.0, None, "good")


@pytest.mark.parametrize(
    ("measure", "value", "band"),
    [
        ("NPS", 30, "good"),
        ("NPS", 29.9, "fair"),
        ("NPS", 0, "fair"),
        ("NPS", -30, "poor"),
        ("NPS", -30.1, "bad"),
        ("CSAT %", 80, "good"),
        ("CSAT %", 39.9, "bad"),
        (None, None, "none"),
    ],
)
def test_heat_bands(measure, value, band):
    assert insights.heat(measure, value) == band


def test_score_series_has_every_period_and_matches_score_metrics(say, touchpoint):

    from feedback.analytics import score_metrics

    now = timezone.now()
    for days, nps in [(0, 10), (0, 2), (8, 9), (30, 0), (400, 10)]:
        say("fault-line", f"s{days}-{nps}", nps=nps, occurred_at=(now - timedelta(days=days)).isoformat())
    series = insights.score_series(FeedbackResponse.objects.all(), "week")

    assert len(series) == 26 and [r["period"].weekday() for r in series] == [0] * 26
    assert series[-1]["period"] <= now.astimezone(UTC).date() < series[-1]["period"] + timedelta(days=7)
    assert sum(r["responses"] for r in series) == 4  # the one 400 days ago is out
    assert (series[-1]["responses"], series[-1]["nps"]) == (2, 0.0)
    found = {row["period"]: row for row in score_metrics(FeedbackResponse.objects.all(), period="week")}
    for row in series:
        expected = found.get(row["period"], insights.EMPTY_SCORES)
        assert {k: row[k] for k in insights.EMPTY_SCORES} == {k: expected[k] for k in insights.EMPTY_SCORES}


def test_score_distribution_counts_every_score_of_the_scale(say, touchpoint):
    for n, nps in enumerate([0, 10, 10, 7]):
        say("fault-line", f"d{n}", nps=nps)
    counts = insights.score_distribution(FeedbackResponse.objects.all(), "nps", 0, 10)
    assert counts == [(0, 1), (1, 0), (2, 0), (3, 0), (4, 0), (5, 0), (6, 0), (7, 1), (8, 0), (9, 0), (10, 2)]


def test_theme_examples_are_the_newest_distinct_comments(say, touchpoint):
    from feedback.themes import Theme

    now = timezone.now()
    for days, comment in [
        (1, "Terrible billing error again."),
        (2, "Terrible billing error again."),
        (3, "Awful billing error, refund me."),
        (4, "Horrible billing error, very angry."),
        (5, "The engineer was terrible and rude."),
    ]:
        say("fault-line", None, comment=comment, occurred_at=(now - timedelta(days=days)).isoformat())
    themes = [Theme("billing error", 4), Theme("rude", 1), Theme("refund", 1)]
    found = {
        t["phrase"]: [e["comment"] for e in t["examples"]]
        for t in insights.theme_examples(FeedbackResponse.objects.all(), themes)
    }
    assert found == {
        "billing error": ["Terrible billing error again.", "Awful billing error, refund me."],
        "rude": ["The engineer was terrible and rude."],
        "refund": ["Awful billing error, refund me."],
    }


def test_month_periods_step_back_over_year_ends():
    from datetime import date

    starts = insights.period_starts("month", today=date(2026, 2, 17), count=4)
    assert starts == [date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)]


# --- charts ---------------------------------------------------------------------------


def test_line_chart_is_accessible_escaped_and_leaves_gaps():
    svg = line_chart(
        [("w1", 10), ("w2", 20), ("w3", None), ("w4", -5), ("w5", 0), ("<w6>", None)],
        y_min=-100,
        y_max=100,
        title='NPS <script>"x"</script>',
    )
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert re.search(r'<title id="chart-\d+-t">NPS &lt;script&gt;&quot;x&quot;&lt;/script&gt;</title>', svg)
    assert "<script>" not in svg and "&lt;w6&gt;" in svg
    assert svg.count("<polyline") == 2  # w1–w2 and w4–w5: the None breaks the line
    assert svg.count("<circle") == 4
    assert 'class="zero"' in svg
    assert "4 of 6 periods have data" in svg


def test_bar_chart_labels_values_and_refuses_bad_colours():
    svg = bar_chart([(1, 3), (2, 0), ("<3>", 1)], title="CSAT", colours=["#c4320a", "red;x", "#15803d"])
    assert svg.count("<rect") == 3 and "&lt;3&gt;" in svg
    assert 'fill="#c4320a"' in svg and "red;x" not in svg
    assert "1: 3; 2: 0; &lt;3&gt;: 1" in svg  # the <desc>


# --- pages ------------------------------------------------------------------------------


def test_pages_for_managers_only(client, say, touchpoint, agent, lead, cx_admin):
    say("fault-line", "x", nps=3)
    for url in PAGES:
        assert client.get(url).status_code == 302, url
        assert client.get(url).url.startswith("/accounts/login/")
    client.force_login(agent)
    assert [client.get(url).status_code for url in PAGES] == [403] * 5
    for manager in (lead, cx_admin):
        client.force_login(manager)
        assert [client.get(url).status_code for url in PAGES] == [200] * 5, manager


def test_a_lead_sees_only_their_teams_touchpoints(client, say, lead, cx_admin, other_team, stage, touchpoint):
    from journeys.models import Touchpoint

    Touchpoint.objects.create(stage=stage, name="Kiosk", slug="kiosk", channel="kiosk", team=other_team, position=2)
    client.force_login(lead)
    assert client.get("/cases/insights/touchpoints/kiosk/").status_code == 404
    page = client.get(MAP).content.decode()
    assert 'href="/cases/insights/touchpoints/fault-line/"' in page
    assert 'href="/cases/insights/touchpoints/kiosk/"' not in page and "Another team's touchpoint" in page
    client.force_login(cx_admin)
    assert client.get("/cases/insights/touchpoints/kiosk/").status_code == 200
    assert 'href="/cases/insights/touchpoints/kiosk/"' in client.get(MAP).content.decode()


def test_touchpoint_page_escapes_comments_and_draws_charts(client, say, touchpoint, lead):
    say("fault-line", "x", nps=1, comment='<script>alert("pwned")</script> Terrible, awful, broken line.')
    client.force_login(lead)
    page = client.get(TOUCHPOINT).content.decode()

    assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; Terrible, awful, broken line." in page
    assert "<script>alert" not in page
    titles = re.findall(r'<svg class="chart [^"]+"[^>]*role="img"[^>]*><title id="[^"]+">([^<]+)</title>', page)
    assert titles[:3] == [
        "NPS per week, last 26",
        "CSAT % per week, last 26",
        "CES mean (1–7, 7 = least effort) per week, last 26",
    ]
    assert any(t.startswith("How many answered each NPS score") for t in titles)
    assert "Chain of CX value" in page and "CX-" in page


@pytest.mark.parametrize(
    ("url", "query", "message"),
    [
        (TOUCHPOINT, {"granularity": "year"}, "Select a valid choice"),
        (MAP, {"period": "5"}, "Select a valid choice"),
        ("/cases/insights/root-causes/", {"since": "2026-02-30"}, "Enter a valid date"),
        (
            "/cases/insights/root-causes/",
            {"since": "2026-05-02", "until": "2026-05-01"},
            "Must not be before the start",
        ),
    ],
)
def test_bad_query_gets_a_message_and_the_default_view(client, touchpoint, lead, url, query, message):
    client.force_login(lead)
    response = client.get(url, {**query, "download": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert message in page and "Showing the default view instead." in page


def test_touchpoint_csv_has_the_series(client, say, touchpoint, lead):
    say("fault-line", "x", nps=10, csat=5)
    say("fault-line", "y", nps=0)
    client.force_login(lead)
    response = client.get(TOUCHPOINT, {"granularity": "month", "download": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 26
    assert (rows[-1]["responses"], rows[-1]["nps"], rows[-1]["csat_pct"]) == ("2", "0.0", "100.0")
    assert rows[0]["responses"] == "0" and rows[0]["nps"] == ""


def test_root_cause_page_and_csv(client, resolved_cases, lead):
    client.force_login(lead)
    page = client.get("/cases/insights/root-causes/").content.decode()
    assert page.index("Attitude of staff") < page.index("Network › Line fault") < page.index("Billing")
    assert "50.0%" in page and "Fix number 4" in page
    response = client.get("/cases/insights/root-causes/", {"download": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == [
        "root_cause",
        "cases",
        "share_pct",
        "cumulative_pct",
        "answered",
        "recovered",
        "recovery_rate",
        "touchpoints",
        "recovered_notes",
    ]
    assert [r[:4] for r in rows[1:]] == [
        ["Attitude of staff", "4", "40.0", "40.0"],
        ["Network › Line fault", "4", "40.0", "80.0"],
        ["Billing", "2", "20.0", "100.0"],
    ]
    assert rows[2][7] == "Fault line (3); Store (1)"


def test_the_nav_links_insights_for_managers(client, lead, agent):
    client.force_login(lead)
    assert 'href="/cases/insights/"' in client.get("/cases/metrics/").content.decode()
    client.force_login(agent)
    assert 'href="/cases/insights/"' not in client.get("/cases/queue/mine/").content.decode()
