"""Score metrics equal a plain Python computation over the same responses,
and the daily summary gives the same rows as the raw table."""

from __future__ import annotations

import importlib
import math
import random
import threading
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from io import StringIO
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection, transaction

from feedback.analytics import responses_between, score_metrics, score_metrics_from_summary
from feedback.models import DailyScore, FeedbackResponse, WeeklyScore
from feedback.selectors import feedback_visible_to
from feedback.services import CREATED, feedback_ingest_many
from feedback.summaries import lock_touchpoints, rebuild_daily_scores, refresh_daily_scores
from journeys.models import Touchpoint

pytestmark = pytest.mark.django_db

UTC = UTC
END = datetime(2025, 3, 1, tzinfo=UTC)  # the 60 days of feedback end here
COMMENTS = [
    "",
    "",
    "Great service, thank you",
    "Terrible, I waited for hours and nobody helped",
    "The engineer was rude and the fault is still there",
    "It was fine",
    "Awful app, keeps crashing",
]
COUNTS = (
    "responses",
    "nps_responses",
    "promoters",
    "detractors",
    "csat_responses",
    "csat_satisfied",
    "ces_responses",
    "negative",
)


@pytest.fixture
def touchpoints(touchpoint, team, other_team, stage):
    """fault-line and web-chat (team care; two journeys) and store (team stores)."""
    from journeys.models import Journey, Stage, Touchpoint

    billing = Stage.objects.create(journey=Journey.objects.create(name="Pay", slug="pay"), name="Pay bill")
    chat = Touchpoint.objects.create(stage=billing, name="Web chat", slug="web-chat", channel="chat", team=team)
    store = Touchpoint.objects.create(stage=stage, name="Store", slug="store", channel="store", team=other_team)
    return [touchpoint, chat, store]


def make_items(n: int, seed: int, slugs: list[str], prefix: str = "r") -> list[dict]:
    """Seeded items over 60 days; any of NPS, CSAT, CES and VES may be missing."""
    rnd = random.Random(seed)
    ves_rnd = random.Random(seed + 1)  # its own sequence, so the other scores are as they were before VES
    items = []
    for i in range(n):
        item = {
            "touchpoint": rnd.choice(slugs),
            "source": "survey",
            "external_id": f"{prefix}{i}",
            "occurred_at": (END - timedelta(seconds=rnd.randrange(60 * 86400))).isoformat(),
            "comment": rnd.choice(COMMENTS),
        }
        for name, low, high, chance in (("nps", 0, 10, 0.7), ("csat", 1, 5, 0.5), ("ces", 1, 7, 0.4)):
            if rnd.random() < chance:
                item[name] = rnd.randint(low, high)
        if ves_rnd.random() < 0.3:
            item["ves"] = ves_rnd.randint(1, 5)
        if not any(k in item for k in ("nps", "csat", "ces", "ves")) and not item["comment"]:
            item["comment"] = "No score, just a note"
        items.append(item)
    return items


@pytest.fixture
def feedback(touchpoints):
    """300 responses over 3 touchpoints, 2 teams and 60 days; no summary yet."""
    outcomes = feedback_ingest_many(items=make_items(300, 7, [t.slug for t in touchpoints]))
    assert [o.status for o in outcomes] == [CREATED] * 300
    return FeedbackResponse.objects.all()


def expected_figures(rows: list[FeedbackResponse]) -> dict:
    """The definitions of docs/architecture.md (Metrics), in plain Python."""
    nps = [r.nps for r in rows if r.nps is not None]
    csat = [r.csat for r in rows if r.csat is not None]
    ces = [r.ces for r in rows if r.ces is not None]
    ves = [r.ves for r in rows if r.ves is not None]
    promoters, detractors = sum(1 for v in nps if v >= 9), sum(1 for v in nps if v <= 6)
    figures = {
        "responses": len(rows),
        "nps_responses": len(nps),
        "promoters": promoters,
        "detractors": detractors,
        "nps": round(100 * promoters / len(nps) - 100 * detractors / len(nps), 1) if nps else None,
        "csat_responses": len(csat),
        "csat_satisfied": sum(1 for v in csat if v in (4, 5)),
        "csat_pct": round(100 * sum(1 for v in csat if v in (4, 5)) / len(csat), 1) if csat else None,
        "ces_responses": len(ces),
        "ces_mean": round(sum(ces) / len(ces), 2) if ces else None,
        "ces_low_effort_pct": round(100 * sum(1 for v in ces if 5 <= v <= 7) / len(ces), 1) if ces else None,
        "ves_responses": len(ves),
        "ves": round(sum(ves) / len(ves), 2) if ves else None,
        "ves_enhanced_pct": round(100 * sum(1 for v in ves if 4 <= v <= 5) / len(ves), 1) if ves else None,
        "negative": sum(1 for r in rows if r.sentiment_label == "negative"),
    }
    figures.update(margins_by_hand(nps, csat, ces))
    figures.update(
        ves_n=len(ves),
        ves_enhanced_margin=share_margin_by_hand(sum(1 for v in ves if v >= 4), len(ves)),
        ves_few=len(ves) < 30,
    )
    return figures


def share_margin_by_hand(part: int, n: int) -> float | None:
    return round(1.96 * math.sqrt(part / n * (1 - part / n) / n) * 100, 1) if n else None


def margins_by_hand(nps: list[int], csat: list[int], ces: list[int], minimum: int = 30) -> dict:
    """Each share's n, 95% margin of error (issue 18's formulas) and few-responses flag."""

    def share(part: int, n: int) -> float | None:
        return round(1.96 * math.sqrt(part / n * (1 - part / n) / n) * 100, 1) if n else None

    n, pro, det = len(nps), sum(1 for v in nps if v >= 9), sum(1 for v in nps if v <= 6)
    return {
        "nps_n": n,
        "nps_margin": round(1.96 * math.sqrt((pro / n + det / n - (pro / n - det / n) ** 2) / n) * 100, 1)
        if n
        else None,
        "nps_few": n < minimum,
        "csat_n": len(csat),
        "csat_margin": share(sum(1 for v in csat if v >= 4), len(csat)),
        "csat_few": len(csat) < minimum,
        "ces_n": len(ces),
        "ces_low_effort_margin": share(sum(1 for v in ces if v >= 5), len(ces)),
        "ces_few": len(ces) < minimum,
    }


def group_of(response: FeedbackResponse, group_by: str):
    tp = response.touchpoint
    return {"touchpoint": tp.slug, "journey": tp.stage.journey.slug, "team": tp.team.slug, "stage": tp.stage_id}[
        group_by
    ]


def period_of(response: FeedbackResponse, period: str) -> date:
    day = response.occurred_at.astimezone(UTC).date()
    return {"day": day, "week": day - timedelta(days=day.weekday()), "month": day.replace(day=1)}[period]


def expected_rows(responses, *, group_by=None, period=None) -> dict:
    buckets = defaultdict(list)
    for r in responses.select_related("touchpoint__stage__journey", "touchpoint__team"):
        key = ((group_of(r, group_by),) if group_by else ()) + ((period_of(r, period),) if period else ())
        buckets[key].append(r)
    return {key: expected_figures(rows) for key, rows in buckets.items()}


def keyed(rows: list[dict], group_by=None, period=None) -> dict:
    names = (["group"] if group_by else []) + (["period"] if period else [])
    return {tuple(row[n] for n in names): {k: v for k, v in row.items() if k not in names} for row in rows}


def summary_snapshot() -> list[tuple]:
    return list(
        DailyScore.objects.order_by("touchpoint_id", "day").values_list(
            "touchpoint_id", "day", *COUNTS, "ces_sum", "ces_low_effort"
        )
    )


def weekly_snapshot() -> list[tuple]:
    return list(
        WeeklyScore.objects.order_by("touchpoint_id", "week").values_list(
            "touchpoint_id", "week", *COUNTS, "ces_sum", "ces_low_effort"
        )
    )


def weeks_of_daily_rows() -> list[tuple]:
    """The weekly rows the daily ones add up to, computed here in Python."""
    weeks = defaultdict(lambda: [0] * (len(COUNTS) + 2))
    for touchpoint, day, *counts in summary_snapshot():
        totals = weeks[(touchpoint, day - timedelta(days=day.weekday()))]
        totals[:] = [a + b for a, b in zip(totals, counts)]
    return [(*key, *totals) for key, totals in sorted(weeks.items())]


# --- the raw path against Python ----------------------------------------------------------


def test_overall_figures_match_design_definitions(feedback):
    [row] = score_metrics(feedback)
    expected = expected_figures(list(feedback))
    assert row == expected
    # The seeded data exercises every figure and every gap.
    assert 0 < row["nps_responses"] < row["responses"] and 0 < row["csat_responses"] < row["responses"]
    assert 0 < row["ces_responses"] < row["responses"] and row["negative"] > 0
    assert 0 < row["ves_responses"] < row["responses"]
    assert row["promoters"] and row["detractors"]


@pytest.mark.parametrize("group_by", ["touchpoint", "journey", "team", "stage"])
def test_grouped_figures_match_python(feedback, group_by):
    rows = score_metrics(feedback, group_by=group_by)
    assert keyed(rows, group_by) == expected_rows(feedback, group_by=group_by)
    assert [r["group"] for r in rows] == sorted(r["group"] for r in rows)


@pytest.mark.parametrize(
    ("group_by", "period"),
    [(None, "week"), (None, "month"), ("team", "week"), ("touchpoint", "month"), ("journey", "day")],
)
def test_periods_are_utc_weeks_and_months_matching_python(feedback, group_by, period):
    rows = score_metrics(feedback, group_by=group_by, period=period)
    assert keyed(rows, group_by, period) == expected_rows(feedback, group_by=group_by, period=period)
    assert sum(r["responses"] for r in rows) == 300


def test_figures_without_answers_are_none(touchpoint):
    feedback_ingest_many(items=[{"touchpoint": "fault-line", "source": "s", "external_id": "1", "comment": "Hello"}])
    [row] = score_metrics(FeedbackResponse.objects.all())
    assert (row["responses"], row["nps"], row["csat_pct"], row["ces_mean"], row["ces_low_effort_pct"]) == (
        1,
        None,
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("scores", "nps", "csat_pct", "ces_low_effort_pct"),
    [
        ({"nps": 9}, 100.0, None, None),
        ({"nps": 6}, -100.0, None, None),
        ({"nps": 7}, 0.0, None, None),
        ({"csat": 4}, None, 100.0, None),
        ({"csat": 3}, None, 0.0, None),
        ({"ces": 5}, None, None, 100.0),
        ({"ces": 4}, None, None, 0.0),
    ],
)
def test_category_boundaries(touchpoint, scores, nps, csat_pct, ces_low_effort_pct):
    feedback_ingest_many(items=[{"touchpoint": "fault-line", "source": "s", "external_id": "1", **scores}])
    [row] = score_metrics(FeedbackResponse.objects.all())
    assert (row["nps"], row["csat_pct"], row["ces_low_effort_pct"]) == (nps, csat_pct, ces_low_effort_pct)


def test_days_are_utc_whatever_the_time_zone(touchpoint, settings):
    settings.TIME_ZONE = "America/New_York"
    late = datetime(2025, 1, 10, 23, 30, tzinfo=UTC)  # 18:30 on the 10th in New York, but the 11th in Tokyo
    feedback_ingest_many(
        items=[
            {"touchpoint": "fault-line", "source": "s", "external_id": "1", "nps": 10, "occurred_at": late.isoformat()}
        ]
    )
    settings.TIME_ZONE = "Asia/Tokyo"
    rebuild_daily_scores()
    assert [r["period"] for r in score_metrics(FeedbackResponse.objects.all(), period="day")] == [date(2025, 1, 10)]
    assert list(DailyScore.objects.values_list("day", flat=True)) == [date(2025, 1, 10)]


def test_unknown_grouping_is_refused(feedback):
    with pytest.raises(ValueError, match="group_by"):
        score_metrics(feedback, group_by="owner")
    with pytest.raises(ValueError, match="period"):
        score_metrics_from_summary(None, period="year")


# --- the summary equals the raw path ---------------------------------------------------------


@pytest.mark.parametrize(
    ("since", "until"),
    [
        (None, None),
        (date(2025, 1, 15), None),
        (None, date(2025, 2, 3)),
        (date(2025, 1, 20), date(2025, 2, 10)),
        (date(2025, 2, 1), date(2025, 2, 1)),
    ],
)
@pytest.mark.parametrize(
    ("group_by", "period"),
    [(None, None), ("touchpoint", "week"), ("journey", "month"), ("team", None), ("stage", "day")],
)
def test_summary_gives_the_raw_rows_for_the_same_days(feedback, since, until, group_by, period):
    rebuild_daily_scores()
    raw = score_metrics(responses_between(feedback, since, until), group_by=group_by, period=period)
    assert score_metrics_from_summary(None, since=since, until=until, group_by=group_by, period=period) == raw
    assert raw and raw[0]["responses"]


def test_responses_between_includes_both_utc_days_whole(touchpoint):
    times = ["2025-01-09T23:59:59Z", "2025-01-10T00:00:00Z", "2025-01-11T23:59:59.999Z", "2025-01-12T00:00:00Z"]
    feedback_ingest_many(
        items=[
            {"touchpoint": "fault-line", "source": "s", "external_id": str(i), "nps": 5, "occurred_at": t}
            for i, t in enumerate(times)
        ]
    )
    chosen = responses_between(FeedbackResponse.objects.all(), date(2025, 1, 10), date(2025, 1, 11))
    assert sorted(chosen.values_list("external_id", flat=True)) == ["1", "2"]


def test_summary_restricted_to_touchpoints_matches_their_raw_rows(feedback, touchpoints):
    rebuild_daily_scores()
    chosen = touchpoints[:2]
    raw = score_metrics(feedback.filter(touchpoint__in=chosen), group_by="touchpoint", period="month")
    assert score_metrics_from_summary(chosen, group_by="touchpoint", period="month") == raw
    assert {r["group"] for r in raw} == {"fault-line", "web-chat"}


# Ranges that start and end on the week's edges, inside one week, over one
# whole week, or backwards: the weekly rows serve the whole weeks, the daily
# rows the days around them. 2025-01-06 is a Monday, 2025-02-02 a Sunday.
WEEK_CUTTING_RANGES = [
    (date(2025, 1, 6), date(2025, 2, 2)),
    (date(2025, 1, 7), date(2025, 2, 1)),
    (date(2025, 1, 6), None),
    (None, date(2025, 2, 2)),
    (date(2025, 1, 7), date(2025, 1, 9)),
    (date(2025, 2, 3), date(2025, 2, 9)),
    (date(2025, 2, 4), date(2025, 2, 10)),
    (date(2025, 2, 9), date(2025, 2, 10)),
    (date(2025, 2, 10), date(2025, 2, 1)),
    (date(2024, 1, 1), date(2024, 1, 31)),
]


@pytest.mark.parametrize(
    ("group_by", "period"),
    [
        (None, None),
        (None, "week"),
        ("touchpoint", "week"),
        ("journey", "week"),
        ("team", None),
        ("stage", "month"),
        ("touchpoint", "day"),
    ],
)
def test_summary_gives_the_raw_rows_for_ranges_cutting_weeks(feedback, group_by, period):
    rebuild_daily_scores()
    for since, until in WEEK_CUTTING_RANGES:
        raw = score_metrics(responses_between(feedback, since, until), group_by=group_by, period=period)
        assert score_metrics_from_summary(None, since=since, until=until, group_by=group_by, period=period) == raw, (
            since,
            until,
        )


def test_summary_of_no_touchpoints_is_one_empty_row_or_none(feedback):
    rebuild_daily_scores()
    none = FeedbackResponse.objects.none()
    for group_by, period in [(None, None), ("team", None), (None, "week"), ("touchpoint", "day")]:
        assert score_metrics_from_summary(Touchpoint.objects.none(), group_by=group_by, period=period) == score_metrics(
            none, group_by=group_by, period=period
        )
    assert score_metrics_from_summary(None, since=date(2030, 1, 1))[0]["responses"] == 0


def test_weekly_summary_reads_one_query_of_weekly_rows(feedback, django_assert_num_queries):
    rebuild_daily_scores()
    with django_assert_num_queries(1) as context:
        rows = score_metrics_from_summary(None, group_by="touchpoint", period="week")
    assert "feedback_weeklyscore" in context.captured_queries[0]["sql"]
    assert sum(row["responses"] for row in rows) == 300


def test_weekly_rows_are_the_sums_of_the_daily_rows(feedback):
    result = rebuild_daily_scores(chunk_days=5)  # chunks that cut weeks in two
    assert weekly_snapshot() == weeks_of_daily_rows()
    assert sum(row[2] for row in weekly_snapshot()) == result.responses == 300
    assert all(week.weekday() == 0 for week in WeeklyScore.objects.values_list("week", flat=True))


def test_rebuild_removes_weekly_rows_no_day_accounts_for(feedback, touchpoint):
    rebuild_daily_scores()
    right = weekly_snapshot()
    WeeklyScore.objects.create(touchpoint=touchpoint, week=date(2020, 1, 6), responses=3)
    WeeklyScore.objects.create(touchpoint=touchpoint, week=date(2030, 1, 7), responses=3)
    WeeklyScore.objects.filter(week=right[0][1]).update(promoters=999)
    rebuild_daily_scores()
    assert weekly_snapshot() == right


def test_migration_fills_the_weekly_rows_from_the_daily_ones(feedback):
    rebuild_daily_scores()
    right = weekly_snapshot()
    WeeklyScore.objects.all().delete()
    migration = importlib.import_module("feedback.migrations.0007_weekly_scores")
    migration.weeks_from_days(apps, SimpleNamespace(connection=connection))
    assert weekly_snapshot() == right


# --- keeping the summary up to date --------------------------------------------------------------


def test_ingestion_refreshes_the_touched_buckets_after_commit(
    feedback, touchpoints, django_capture_on_commit_callbacks
):
    rebuild_daily_scores()
    before = summary_snapshot()
    items = make_items(40, 8, [t.slug for t in touchpoints], prefix="new")
    with django_capture_on_commit_callbacks(execute=True):
        feedback_ingest_many(items=items)
    after = summary_snapshot()
    assert after != before
    assert score_metrics_from_summary(None, group_by="touchpoint", period="day") == score_metrics(
        FeedbackResponse.objects.all(), group_by="touchpoint", period="day"
    )
    assert weekly_snapshot() == weeks_of_daily_rows()
    rebuild_daily_scores()
    assert summary_snapshot() == after  # nothing left for a rebuild to correct


def test_ingestion_queues_the_refresh_only_on_commit(touchpoint, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        feedback_ingest_many(items=[{"touchpoint": "fault-line", "source": "s", "external_id": "1", "nps": 10}])
    assert not DailyScore.objects.exists()
    for callback in callbacks:
        callback()
    assert DailyScore.objects.get().promoters == 1


def test_refresh_twice_changes_nothing(feedback):
    keys = {(r.touchpoint_id, r.occurred_at.astimezone(UTC).date()) for r in feedback}
    assert refresh_daily_scores(keys) == len(keys)
    first = summary_snapshot()
    weeks = weekly_snapshot()
    assert weeks == weeks_of_daily_rows()
    refresh_daily_scores(keys)
    assert (summary_snapshot(), weekly_snapshot()) == (first, weeks)
    assert len(first) == len(keys)


def test_refresh_recomputes_a_wrong_bucket_and_drops_an_empty_one(feedback, touchpoint):
    rebuild_daily_scores()
    right = summary_snapshot()
    bucket = DailyScore.objects.filter(touchpoint=touchpoint).first()
    DailyScore.objects.filter(pk=bucket.pk).update(promoters=999, ces_sum=0)
    DailyScore.objects.create(touchpoint=touchpoint, day=date(2020, 1, 1), responses=3)
    refresh_daily_scores([(touchpoint.pk, bucket.day), (touchpoint.pk, date(2020, 1, 1))])
    assert summary_snapshot() == right
    assert weekly_snapshot() == weeks_of_daily_rows()
    assert not WeeklyScore.objects.filter(week__lt=date(2021, 1, 1)).exists()


def test_rebuild_command_since_leaves_earlier_days_alone(feedback):
    rebuild_daily_scores()
    early, late = DailyScore.objects.order_by("day").first(), DailyScore.objects.order_by("day").last()
    DailyScore.objects.filter(pk__in=[early.pk, late.pk]).update(responses=999)
    out = StringIO()
    call_command("refresh_scores", "--since", late.day.isoformat(), stdout=out)
    assert DailyScore.objects.get(pk=early.pk).responses == 999
    assert DailyScore.objects.get(pk=late.pk).responses == late.responses
    last_day = responses_between(feedback, late.day, late.day).count()
    assert f"Rebuilt 1 day(s) from {last_day} responses" in out.getvalue()


def test_rebuild_command_counts_everything(feedback):
    out = StringIO()
    call_command("refresh_scores", "--chunk-days", "7", stdout=out)
    buckets = DailyScore.objects.count()
    days = {r.occurred_at.astimezone(UTC).date() for r in feedback}
    assert out.getvalue() == (
        f"Rebuilt {(max(days) - min(days)).days + 1} day(s) from 300 responses: "
        f"{buckets} daily buckets written, 0 removed.\n"
    )
    assert score_metrics_from_summary(None) == score_metrics(feedback)


def test_rebuild_command_names_a_bad_since(db):
    with pytest.raises(CommandError, match="--since"):
        call_command("refresh_scores", "--since", "March")


# --- the API ----------------------------------------------------------------------------------


@pytest.fixture
def summary(feedback):
    rebuild_daily_scores()
    return feedback


def test_api_scores_of_a_frontline_user_cover_their_teams_touchpoints_only(api, summary, agent):
    data = api(agent).get("/api/v1/metrics/", {"group_by": "touchpoint", "period": "week"}).json()
    assert {r["group"] for r in data["scores"]} == {"fault-line", "web-chat"}
    expected = score_metrics(feedback_visible_to(agent), group_by="touchpoint", period="week")
    assert data["scores"] == [{**r, "period": r["period"].isoformat()} for r in expected]


def test_api_scores_of_an_integration_cover_every_team(api, summary, integration):
    data = api(token=integration).get("/api/v1/metrics/", {"group_by": "team"}).json()
    assert {r["group"]: r["responses"] for r in data["scores"]} == {
        team: summary.filter(touchpoint__team__slug=team).count() for team in ("care", "stores")
    }


def test_api_scores_follow_since_and_until_by_utc_day(api, summary, integration):
    params = {"since": "2025-01-20", "until": "2025-02-10"}
    [row] = api(token=integration).get("/api/v1/metrics/", params).json()["scores"]
    assert row == score_metrics(responses_between(summary, date(2025, 1, 20), date(2025, 2, 10)))[0]
    assert 0 < row["responses"] < 300


def test_api_scores_are_null_for_groupings_feedback_lacks(api, summary, integration):
    for group_by in ("owner", "root_cause"):
        data = api(token=integration).get("/api/v1/metrics/", {"group_by": group_by}).json()
        assert data["scores"] is None and data["loop"] is not None


def test_api_scores_of_an_outsider_are_empty(api, summary, outsider):
    [row] = api(outsider).get("/api/v1/metrics/").json()["scores"]
    assert (row["responses"], row["nps"]) == (0, None)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"group_by": "customer"}, "group_by"),
        ({"period": "year"}, "period"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2025-02-01", "until": "2025-01-01"}, "until"),
    ],
)
def test_api_names_bad_parameters(api, integration, params, field):
    response = api(token=integration).get("/api/v1/metrics/", params)
    assert response.status_code == 400
    assert list(response.json()) == [field]


# --- locking (real connections, so PostgreSQL only) ----------------------------------------------


def pg_transactional(test):
    for mark in (
        pytest.mark.postgres,
        pytest.mark.django_db(transaction=True, serialized_rollback=True),
        pytest.mark.usefixtures("pg_audit_cleanup"),
    ):
        test = mark(test)
    return test


def in_thread(call) -> threading.Thread:
    """Start `call` on its own connection; its result or exception is
    appended to `thread.out`."""

    def run() -> None:
        try:
            thread.out.append(call())
        except Exception as exc:  # reported to the test
            thread.out.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.out = []
    thread.start()
    return thread


def finished(thread: threading.Thread) -> list:
    thread.join(timeout=30)
    assert not thread.is_alive(), "the thread hung"
    return thread.out


def set_lock_timeout(ms: int, *, local: bool = False) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"SET {'LOCAL ' if local else ''}lock_timeout = {int(ms)}")


@pg_transactional
def test_a_refresh_waits_for_another_of_the_same_touchpoint_only(touchpoints):
    fault_line, chat, _store = touchpoints

    def refresh(touchpoint):
        set_lock_timeout(300)
        return refresh_daily_scores([(touchpoint.pk, date(2025, 1, 1))])

    with transaction.atomic():
        lock_touchpoints({fault_line.pk})  # as a refresh of fault-line in progress does
        [same] = finished(in_thread(lambda: refresh(fault_line)))
        [other] = finished(in_thread(lambda: refresh(chat)))
    assert isinstance(same, OperationalError) and "lock timeout" in str(same)
    assert other == 0


@pg_transactional
def test_a_refresh_in_progress_does_not_hold_up_ingestion(touchpoint, monkeypatch):
    from feedback import tasks

    queued = []
    monkeypatch.setattr("feedback.services.async_task", lambda name, *args: queued.append((name, args)))
    locked, release = threading.Event(), threading.Event()

    def hold_refresh_locks():
        with transaction.atomic():
            lock_touchpoints({touchpoint.pk})
            locked.set()
            release.wait(timeout=10)

    holder = in_thread(hold_refresh_locks)
    try:
        assert locked.wait(timeout=10)
        # The foreign-key check (deferred to commit) would wait on FOR UPDATE; FOR NO KEY UPDATE lets it pass.
        set_lock_timeout(1000)
        [outcome] = feedback_ingest_many(
            items=[
                {
                    "touchpoint": "fault-line",
                    "source": "s",
                    "external_id": "1",
                    "nps": 10,
                    "occurred_at": "2025-01-01T10:00:00Z",
                }
            ]
        )
        assert outcome.status == CREATED
    finally:
        set_lock_timeout(0)
        release.set()
        finished(holder)
    [(name, args)] = queued
    assert name == "feedback.tasks.refresh_daily_scores" and args == ([[touchpoint.pk, "2025-01-01"]],)
    tasks.refresh_daily_scores(*args)
    assert DailyScore.objects.get(touchpoint=touchpoint, day=date(2025, 1, 1)).promoters == 1
    assert WeeklyScore.objects.get(touchpoint=touchpoint, week=date(2024, 12, 30)).promoters == 1
