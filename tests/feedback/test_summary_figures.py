"""The figures stored with each summary bucket: `figures_of` its counters,
written with them by every refresh, read as they are where a result row is
one bucket, and computed only for rows that add several buckets up."""

from __future__ import annotations

import importlib
import math
import random
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

import feedback.analytics as analytics
from feedback.analytics import COUNTERS, FIGURES, figures_of, score_metrics, score_metrics_from_summary
from feedback.models import DailyScore, FeedbackResponse, WeeklyScore
from feedback.services import feedback_ingest_many
from feedback.summaries import rebuild_daily_scores, refresh_daily_scores

pytestmark = pytest.mark.django_db

END = datetime(2025, 3, 1, tzinfo=UTC)
MIGRATION = importlib.import_module("feedback.migrations.0014_summary_figures")


@pytest.fixture
def responses(touchpoint, team, stage):
    """200 seeded responses over 40 days at two touchpoints of one journey."""
    from journeys.models import Touchpoint

    other = Touchpoint.objects.create(stage=stage, name="Shop", slug="shop", channel="store", team=team)
    rnd = random.Random(7)
    items = []
    for i in range(200):
        item = {
            "touchpoint": rnd.choice([touchpoint.slug, other.slug]),
            "source": "survey",
            "external_id": f"f{i}",
            "occurred_at": (END - timedelta(seconds=rnd.randrange(40 * 86400))).isoformat(),
        }
        for name, low, high in (("nps", 0, 10), ("csat", 1, 5), ("ces", 1, 7), ("ves", 1, 5)):
            if rnd.random() < 0.6:
                item[name] = rnd.randint(low, high)
        item.setdefault("nps", rnd.randint(0, 10))
        items.append(item)
    feedback_ingest_many(items=items)
    return FeedbackResponse.objects.all()


def stored(model) -> dict:
    """{(touchpoint, start): (stored figures, figures_of its counters)} of every bucket."""
    period = "week" if model is WeeklyScore else "day"
    return {
        (touchpoint, start): (tuple(values[: len(FIGURES)]), figures_of(values[len(FIGURES) :]))
        for touchpoint, start, *values in model.objects.values_list("touchpoint_id", period, *FIGURES, *COUNTERS)
    }


def assert_figures_of_their_counters():
    for model in (DailyScore, WeeklyScore):
        buckets = stored(model)
        assert buckets
        for key, (kept, computed) in buckets.items():
            assert kept == computed, (model.__name__, key)


def test_a_rebuild_stores_each_buckets_figures(responses):
    rebuild_daily_scores(chunk_days=5)  # chunks that cut weeks in two
    assert_figures_of_their_counters()
    assert any(figures[0] is not None for figures, _ in stored(WeeklyScore).values())


def test_a_refresh_rewrites_the_figures_of_a_changed_bucket(responses, touchpoint):
    rebuild_daily_scores()
    bucket = DailyScore.objects.filter(touchpoint=touchpoint).order_by("day").first()
    DailyScore.objects.filter(pk=bucket.pk).update(nps=99.9, csat_margin=None, promoters=0)
    WeeklyScore.objects.filter(touchpoint=touchpoint).update(nps=-99.9)
    refresh_daily_scores([(touchpoint.pk, bucket.day)])
    assert DailyScore.objects.get(pk=bucket.pk).nps != 99.9
    week = WeeklyScore.objects.get(touchpoint=touchpoint, week=bucket.day - timedelta(days=bucket.day.weekday()))
    assert week.nps != -99.9
    refreshed = {(touchpoint.pk, bucket.day)}
    daily = stored(DailyScore)
    assert all(daily[key][0] == daily[key][1] for key in refreshed)
    assert stored(WeeklyScore)[(touchpoint.pk, week.week)][0] == figures_of([getattr(week, name) for name in COUNTERS])


def counting_figures_of(monkeypatch) -> list:
    calls = []

    def counted(counts):
        calls.append(counts)
        return figures_of(counts)

    monkeypatch.setattr(analytics, "figures_of", counted)
    return calls


def test_rows_of_one_bucket_each_read_the_stored_figures(responses, monkeypatch):
    rebuild_daily_scores()
    raw = {
        period: score_metrics(FeedbackResponse.objects.all(), group_by="touchpoint", period=period)
        for period in ("week", "day")
    }
    calls = counting_figures_of(monkeypatch)
    for period in ("week", "day"):
        assert score_metrics_from_summary(None, group_by="touchpoint", period=period) == raw[period]
    assert calls == []  # every row is one weekly or daily bucket: nothing computed


def test_rows_adding_buckets_up_compute_their_figures(responses, monkeypatch):
    rebuild_daily_scores()
    raw = score_metrics(FeedbackResponse.objects.all(), group_by="journey", period="week")
    calls = counting_figures_of(monkeypatch)
    assert score_metrics_from_summary(None, group_by="journey", period="week") == raw
    assert len(calls) == len(raw)  # the journey's two touchpoints added up in every week


def test_a_stored_figure_is_what_the_read_returns(responses, touchpoint):
    """The read takes a one-bucket row's figures from the bucket, not from
    its counters: a write path that forgot them would show here."""
    rebuild_daily_scores()
    WeeklyScore.objects.filter(touchpoint=touchpoint).update(ces_mean=6.66)
    rows = score_metrics_from_summary(None, group_by="touchpoint", period="week")
    assert {row["ces_mean"] for row in rows if row["group"] == touchpoint.slug} == {6.66}


def test_an_nps_rounding_to_zero_from_below_is_zero():
    # 1 promoter and 2 detractors of 3,000: -1/30 % rounds to 0.0, never -0.0
    # (which the raw read would show as "-0.0" and SQLite store as 0.0).
    counts = (3000, 3000, 1, 2) + (0,) * (len(COUNTERS) - 4)
    nps = figures_of(counts)[0]
    assert nps == 0.0 and math.copysign(1, nps) == 1 and str(nps) == "0.0"


@st.composite
def consistent_counts(draw) -> tuple:
    """Counters in `COUNTERS` order that some set of responses could have."""

    def answered(scale_max: int) -> tuple[int, int, int]:
        n = draw(st.integers(0, 5000))
        return n, draw(st.integers(0, n)), draw(st.integers(n, n * scale_max))

    nps_n = draw(st.integers(0, 5000))
    promoters = draw(st.integers(0, nps_n))
    detractors = draw(st.integers(0, nps_n - promoters))
    csat_n, satisfied, _ = answered(5)
    ces_n, low_effort, ces_sum = answered(7)
    ves_n, enhanced, ves_sum = answered(5)
    responses = max(nps_n, csat_n, ces_n, ves_n)
    negative = draw(st.integers(0, responses))
    counts = (responses, nps_n, promoters, detractors, csat_n, satisfied, ces_n, ces_sum, low_effort)
    return (*counts, ves_n, ves_sum, enhanced, negative)


counts_strategy = consistent_counts()


@given(counts_strategy)
def test_the_migrations_frozen_figures_equal_todays(counts):
    assert MIGRATION.figures_of(counts) == figures_of(counts)
    assert MIGRATION.FIGURES == FIGURES and MIGRATION.COUNTERS == COUNTERS


def test_the_migration_fills_the_figures_of_existing_rows(responses):
    rebuild_daily_scores()
    right = (stored(DailyScore), stored(WeeklyScore))
    DailyScore.objects.update(**dict.fromkeys(FIGURES))
    WeeklyScore.objects.update(**dict.fromkeys(FIGURES, 1.5))
    MIGRATION.fill_figures(apps, SimpleNamespace(connection=connection))
    assert (stored(DailyScore), stored(WeeklyScore)) == right
    assert DailyScore.objects.exclude(nps=None).exists()


def test_empty_figures_have_no_figures(db):
    empty = analytics.empty_figures()
    assert [empty[name] for name in FIGURES] == [None] * len(FIGURES)
    assert "group" not in empty and "period" not in empty
    assert empty["responses"] == 0 and empty["nps_few"] is True


def test_a_row_without_period_or_group_has_neither_key(responses):
    rebuild_daily_scores()
    (overall,) = score_metrics_from_summary(None, since=date(2025, 1, 20), until=date(2025, 2, 20))
    assert "group" not in overall and "period" not in overall
    assert list(overall)[0] == "responses"
