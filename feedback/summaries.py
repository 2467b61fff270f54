"""The score summary, written: `DailyScore` (counters per touchpoint and UTC
day) and `WeeklyScore` (the same per UTC week, the sum of its seven days).
The feedback app owns these rows; nothing else writes them.

- `daily_score_keys` names the buckets a batch of new responses falls in;
  ingestion queues `feedback.tasks.refresh_daily_scores` with them after
  its commit;
- `refresh_daily_scores` recomputes those buckets exactly from the raw rows;
- `rebuild_daily_scores` recomputes the whole summary (`manage.py
  refresh_scores`).

The counters are those of `feedback.analytics.COUNTERS`, aggregated by
`raw_counters` over the `scored` responses (follow-up answers left out),
so the summary and the raw read (`score_metrics`) agree to the last digit;
each bucket also holds its `FIGURES`, computed from its counters by
`figures_of` as it is written (after a change to a figure's definition,
`manage.py refresh_scores` rewrites them). `score_metrics_from_summary`
reads what is written here.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import reduce

from django.db import transaction
from django.db.models import Max, Min, Q, Sum
from django.db.models.functions import TruncDate, TruncWeek

from feedback.analytics import COUNTERS, FIGURES, UTC, WEEK, figures_of, raw_counters, scored, utc_midnight, week_start
from feedback.models import DailyScore, FeedbackResponse, WeeklyScore
from journeys.models import Touchpoint

# A refresh reads the raw rows of this many days per query.
REFRESH_DAYS_PER_QUERY = 100

Key = tuple[int, date]  # (touchpoint id, UTC day or week's Monday)


def daily_score_keys(responses: Iterable[FeedbackResponse]) -> list[list]:
    """The summary buckets `responses` fall in, JSON-friendly for a task:
    sorted [touchpoint id, "YYYY-MM-DD"] pairs."""
    keys = {(r.touchpoint_id, r.occurred_at.astimezone(UTC).date().isoformat()) for r in responses}
    return [list(key) for key in sorted(keys)]


def refresh_daily_scores(keys: Iterable[Key]) -> int:
    """Recompute each (touchpoint id, UTC day) bucket exactly from the raw
    rows: upsert it, or delete it when it has no responses; then the weekly
    buckets they belong to, from the daily ones. Idempotent; returns how
    many daily buckets now hold responses.

    Runs in one transaction holding the row locks of the buckets'
    touchpoints (FOR NO KEY UPDATE, which new responses' foreign-key checks
    do not wait for), so two refreshes of one bucket never interleave and
    the later one reads everything committed before it got the locks.
    """
    keys = set(keys)
    if not keys:
        return 0
    by_day: dict[date, list[int]] = {}
    for touchpoint, day in sorted(keys):
        by_day.setdefault(day, []).append(touchpoint)
    days = list(by_day)
    with transaction.atomic():
        lock_touchpoints({touchpoint for touchpoint, _day in keys})
        counters: dict[Key, dict] = {}
        for start in range(0, len(days), REFRESH_DAYS_PER_QUERY):
            counters.update(
                _bucket_counters(
                    reduce(
                        operator.or_,
                        (
                            Q(
                                occurred_at__gte=utc_midnight(day),
                                occurred_at__lt=utc_midnight(day + timedelta(days=1)),
                                touchpoint_id__in=by_day[day],
                            )
                            for day in days[start : start + REFRESH_DAYS_PER_QUERY]
                        ),
                    )
                )
            )
        # A superset of the keys, then only the keys: an OR of one term per
        # key costs Django more to build than the database to run.
        touchpoints = {touchpoint for touchpoint, _day in keys}
        nearby = _existing_buckets(DailyScore, Q(touchpoint_id__in=touchpoints, day__in=days))
        _write_buckets(DailyScore, counters, {key: pk for key, pk in nearby.items() if key in keys})
        weeks = {(touchpoint, week_start(day)) for touchpoint, day in keys}
        _roll_up_weeks(min(days), max(days), touchpoints, only=weeks)
    return len(counters)


@dataclass
class RebuildResult:
    """What a rebuild covered: UTC days, buckets written and removed, responses
    counted (follow-up answers are not: see `feedback.analytics.scored`)."""

    days: int = 0
    buckets: int = 0
    removed: int = 0
    responses: int = 0


def rebuild_daily_scores(*, since: date | None = None, chunk_days: int = 31) -> RebuildResult:
    """Recompute the whole summary (or the days from `since` on) from the
    raw table, `chunk_days` UTC days per transaction, with the weeks those
    days fall in; buckets left without responses are removed. Safe beside
    ingestion: each chunk locks every touchpoint as `refresh_daily_scores`
    does. The result counts daily buckets."""
    result = RebuildResult()
    bounds = _day_bounds(since)
    if bounds is None:
        return result
    first, last = bounds
    while first <= last:
        end = min(first + timedelta(days=chunk_days - 1), last)
        with transaction.atomic():
            lock_touchpoints(None)
            counters = _bucket_counters(
                Q(occurred_at__gte=utc_midnight(first), occurred_at__lt=utc_midnight(end + timedelta(days=1)))
            )
            existing = _existing_buckets(DailyScore, Q(day__gte=first, day__lte=end))
            _write_buckets(DailyScore, counters, existing)
            _roll_up_weeks(first, end)
        result.days += (end - first).days + 1
        result.buckets += len(counters)
        result.removed += len(existing.keys() - counters.keys())
        result.responses += sum(row["responses"] for row in counters.values())
        first = end + timedelta(days=1)
    return result


def _day_bounds(since: date | None) -> tuple[date, date] | None:
    """First and last UTC day holding raw responses or summary rows (a
    weekly row counts by its Monday, and only outside the weeks of the rest)."""
    raw = FeedbackResponse.objects.aggregate(first=Min("occurred_at"), last=Max("occurred_at"))
    daily = DailyScore.objects.aggregate(first=Min("day"), last=Max("day"))
    weekly = WeeklyScore.objects.aggregate(first=Min("week"), last=Max("week"))
    firsts = [d for d in (raw["first"] and raw["first"].astimezone(UTC).date(), daily["first"]) if d]
    lasts = [d for d in (raw["last"] and raw["last"].astimezone(UTC).date(), daily["last"]) if d]
    # A weekly row outside the weeks of those days is stale: reach it too
    # (the chunk holding its Monday recomputes the whole week).
    if weekly["first"] and (not firsts or weekly["first"] < week_start(min(firsts))):
        firsts.append(weekly["first"])
    if weekly["last"] and (not lasts or weekly["last"] > week_start(max(lasts))):
        lasts.append(weekly["last"])
    if not firsts:
        return None
    first = max(min(firsts), since) if since else min(firsts)
    last = max(lasts)
    return (first, last) if first <= last else None


def lock_touchpoints(ids: set[int] | None) -> None:
    """Take, in the caller's transaction, the locks a refresh of the buckets
    of touchpoints `ids` (None: every touchpoint) holds while it writes."""
    # Always in id order, so refreshes and rebuilds never deadlock each other.
    touchpoints = Touchpoint.objects.select_for_update(no_key=True).order_by("pk")
    if ids is not None:
        touchpoints = touchpoints.filter(pk__in=ids)
    list(touchpoints.values_list("pk", flat=True))


def _bucket_counters(where: Q) -> dict[Key, dict]:
    rows = (
        scored(FeedbackResponse.objects.order_by())
        .filter(where)
        .annotate(day=TruncDate("occurred_at", tzinfo=UTC))
        .values("touchpoint_id", "day")
        .annotate(**raw_counters())
    )
    return {(row["touchpoint_id"], row["day"]): {name: row[name] or 0 for name in COUNTERS} for row in rows}


def _roll_up_weeks(
    first: date, last: date, touchpoints: set[int] | None = None, *, only: set[Key] | None = None
) -> None:
    """Recompute the weekly buckets of the weeks holding the days `first` to
    `last` from the daily buckets: of `touchpoints` (None: every one), and
    only the `only` (touchpoint id, Monday) keys when given. The caller
    holds those touchpoints' locks."""
    first, last = week_start(first), week_start(last)
    days, weeks = Q(day__gte=first, day__lt=last + WEEK), Q(week__gte=first, week__lte=last)
    if touchpoints is not None:
        days &= Q(touchpoint_id__in=touchpoints)
        weeks &= Q(touchpoint_id__in=touchpoints)
    rows = (
        DailyScore.objects.order_by()
        .filter(days)
        .annotate(week=TruncWeek("day"))
        .values("touchpoint_id", "week")
        .annotate(**{name: Sum(name) for name in COUNTERS})
    )
    counters = {(row["touchpoint_id"], row["week"]): {name: row[name] for name in COUNTERS} for row in rows}
    existing = _existing_buckets(WeeklyScore, weeks)
    if only is not None:
        counters = {key: counts for key, counts in counters.items() if key in only}
        existing = {key: pk for key, pk in existing.items() if key in only}
    _write_buckets(WeeklyScore, counters, existing)


def _existing_buckets(model: type[DailyScore | WeeklyScore], where: Q) -> dict[Key, int]:
    rows = model.objects.order_by().filter(where).values_list("touchpoint_id", _period_field(model), "pk")
    return {(touchpoint, start): pk for touchpoint, start, pk in rows}


def _write_buckets(model: type[DailyScore | WeeklyScore], counters: dict[Key, dict], existing: dict[Key, int]) -> None:
    """Upsert `counters`, each with its figures (`figures_of`); delete the
    `existing` buckets not among them."""
    gone = [pk for key, pk in existing.items() if key not in counters]
    if gone:
        model.objects.filter(pk__in=gone).delete()
    if counters:
        field = _period_field(model)
        rows = [
            model(
                touchpoint_id=touchpoint,
                **{field: start},
                **counts,
                **dict(zip(FIGURES, figures_of([counts[name] for name in COUNTERS]))),
            )
            for (touchpoint, start), counts in sorted(counters.items())
        ]
        model.objects.bulk_create(
            rows,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["touchpoint", field],
            update_fields=[*COUNTERS, *FIGURES],
        )


def _period_field(model: type[DailyScore | WeeklyScore]) -> str:
    return "week" if model is WeeklyScore else "day"
