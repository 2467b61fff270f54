"""Score metrics as DESIGN defines them (NPS, CSAT %, CES mean and low-effort
share, negative sentiment), computed in the database by touchpoint, journey,
team or stage and by UTC day, week or month.

Two paths give the same rows for the same feedback:

- `score_metrics` reads the raw responses (any filtered queryset);
- `score_metrics_from_summary` sums `DailyScore`, one row of counters per
  touchpoint and UTC day, kept up to date after each ingestion by
  `refresh_daily_scores` (queued after commit) and rebuilt from the raw
  table by `rebuild_daily_scores` (`manage.py refresh_scores`).

Both compute every figure from the same integer counters with `_figures`,
so they agree to the last digit, not just approximately.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone
from functools import reduce

from django.db import transaction
from django.db.models import Count, DateField, F, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import TruncDate, TruncDay, TruncMonth, TruncWeek

from cvx_site.db import grouped
from feedback.choices import SentimentLabel
from feedback.models import DailyScore, FeedbackResponse
from feedback.selectors import VIEW_ALL
from journeys.models import Touchpoint
from journeys.selectors import teams_of

UTC = dt_timezone.utc
# Paths that hold from a FeedbackResponse and from a DailyScore alike.
GROUPS = {"touchpoint": "touchpoint__slug", "journey": "touchpoint__stage__journey__slug",
          "team": "touchpoint__team__slug", "stage": "touchpoint__stage_id"}
PERIODS = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}
PROMOTER_MIN, DETRACTOR_MAX = 9, 6  # NPS 0-10
CSAT_SATISFIED_MIN = 4  # CSAT 1-5
CES_LOW_EFFORT_MIN = 5  # CES 1-7, 7 = least effort
COUNTERS = ("responses", "nps_responses", "promoters", "detractors", "csat_responses", "csat_satisfied",
            "ces_responses", "ces_sum", "ces_low_effort", "negative")
# A refresh reads the raw rows of this many days per query.
REFRESH_DAYS_PER_QUERY = 100

Key = tuple[int, date]  # (touchpoint id, UTC day)


def _raw_counters() -> dict:
    """The counters of `COUNTERS` as aggregates over raw responses."""
    return {
        "responses": Count("id"),
        "nps_responses": Count("id", filter=Q(nps__isnull=False)),
        "promoters": Count("id", filter=Q(nps__gte=PROMOTER_MIN)),
        "detractors": Count("id", filter=Q(nps__lte=DETRACTOR_MAX)),
        "csat_responses": Count("id", filter=Q(csat__isnull=False)),
        "csat_satisfied": Count("id", filter=Q(csat__gte=CSAT_SATISFIED_MIN)),
        "ces_responses": Count("id", filter=Q(ces__isnull=False)),
        "ces_sum": Sum("ces"),
        "ces_low_effort": Count("id", filter=Q(ces__gte=CES_LOW_EFFORT_MIN)),
        "negative": Count("id", filter=Q(sentiment_label=SentimentLabel.NEGATIVE)),
    }


def _keyed(queryset: QuerySet, group_by: str | None, period: str | None, period_of) -> tuple[QuerySet, list[str]]:
    if group_by is not None and group_by not in GROUPS:
        raise ValueError(f"group_by must be one of {sorted(GROUPS)}, not {group_by!r}")
    if period is not None and period not in PERIODS:
        raise ValueError(f"period must be one of {sorted(PERIODS)}, not {period!r}")
    keys = []
    if group_by:
        queryset = queryset.annotate(group=F(GROUPS[group_by]))
        keys.append("group")
    if period:
        queryset = queryset.annotate(period=period_of(PERIODS[period]))
        keys.append("period")
    return queryset, keys


def _figures(counters: dict) -> dict:
    """One row's figures from its counters (None counters, from an empty
    SUM, are zero)."""
    c = {name: counters.get(name) or 0 for name in COUNTERS}

    def pct(part: int, whole: int) -> float | None:
        return round(100.0 * part / whole, 1) if whole else None

    nps = round(100.0 * (c["promoters"] - c["detractors"]) / c["nps_responses"], 1) if c["nps_responses"] else None
    return {
        "responses": c["responses"], "nps_responses": c["nps_responses"], "promoters": c["promoters"],
        "detractors": c["detractors"], "nps": nps,
        "csat_responses": c["csat_responses"], "csat_satisfied": c["csat_satisfied"],
        "csat_pct": pct(c["csat_satisfied"], c["csat_responses"]),
        "ces_responses": c["ces_responses"],
        "ces_mean": round(c["ces_sum"] / c["ces_responses"], 2) if c["ces_responses"] else None,
        "ces_low_effort_pct": pct(c["ces_low_effort"], c["ces_responses"]),
        "negative": c["negative"],
    }


def _rows(queryset: QuerySet, keys: list[str], aggregates: dict) -> list[dict]:
    return [{**{k: row[k] for k in keys}, **_figures(row)} for row in grouped(queryset, keys, **aggregates)]


def score_metrics(responses: QuerySet[FeedbackResponse], *, group_by: str | None = None,
                  period: str | None = None) -> list[dict]:
    """Score figures of `responses` (already scoped and filtered), read from
    the raw table: one row per group and/or period (UTC dates, the first day
    of the period), in key order; one overall row without either.

    Each row has `responses`, `nps_responses`, `promoters`, `detractors`,
    `nps` (-100..100, 1 decimal), `csat_responses`, `csat_satisfied`,
    `csat_pct`, `ces_responses`, `ces_mean` (2 decimals),
    `ces_low_effort_pct` and `negative`; a figure without answers is None.
    """
    base, keys = _keyed(responses.order_by(), group_by, period,
                        lambda trunc: trunc("occurred_at", output_field=DateField(), tzinfo=UTC))
    return _rows(base, keys, _raw_counters())


def score_metrics_from_summary(touchpoints: QuerySet[Touchpoint] | None, *, since: date | None = None,
                               until: date | None = None, group_by: str | None = None,
                               period: str | None = None) -> list[dict]:
    """The rows `score_metrics(responses_between(<responses at touchpoints>,
    since, until), ...)` gives, from the daily summary: every touchpoint
    when `touchpoints` is None. As current as the last refresh, which runs
    in a task just after each ingestion commits."""
    summary = DailyScore.objects.order_by()
    if touchpoints is not None:
        summary = summary.filter(touchpoint__in=touchpoints)
    if since:
        summary = summary.filter(day__gte=since)
    if until:
        summary = summary.filter(day__lte=until)
    base, keys = _keyed(summary, group_by, period, lambda trunc: trunc("day"))
    return _rows(base, keys, {name: Sum(name) for name in COUNTERS})


def responses_between(responses: QuerySet[FeedbackResponse], since: date | None,
                      until: date | None) -> QuerySet[FeedbackResponse]:
    """`responses` that occurred on UTC days `since` to `until` (both
    included; either may be None): the rows the summary holds for those days."""
    if since:
        responses = responses.filter(occurred_at__gte=_utc_midnight(since))
    if until:
        responses = responses.filter(occurred_at__lt=_utc_midnight(until + timedelta(days=1)))
    return responses


def scored_touchpoints_of(user) -> QuerySet[Touchpoint] | None:
    """The touchpoints whose scores `user` may read, by the rule of
    `feedback_visible_to`: None for every touchpoint (view_all_feedback),
    otherwise those of the user's teams."""
    if not user.is_authenticated:
        return Touchpoint.objects.none()
    if user.has_perm(VIEW_ALL):
        return None
    return Touchpoint.objects.filter(team__in=teams_of(user))


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, UTC)


# --- the daily summary ----------------------------------------------------------------


def daily_score_keys(responses: Iterable[FeedbackResponse]) -> list[list]:
    """The summary buckets `responses` fall in, JSON-friendly for a task:
    sorted [touchpoint id, "YYYY-MM-DD"] pairs."""
    keys = {(r.touchpoint_id, r.occurred_at.astimezone(UTC).date().isoformat()) for r in responses}
    return [list(key) for key in sorted(keys)]


def refresh_daily_scores(keys: Iterable[Key]) -> int:
    """Recompute each (touchpoint id, UTC day) bucket exactly from the raw
    rows: upsert it, or delete it when it has no responses. Idempotent;
    returns how many buckets now hold responses.

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
        _lock_touchpoints({touchpoint for touchpoint, _day in keys})
        counters: dict[Key, dict] = {}
        for start in range(0, len(days), REFRESH_DAYS_PER_QUERY):
            counters.update(_bucket_counters(reduce(operator.or_, (
                Q(occurred_at__gte=_utc_midnight(day), occurred_at__lt=_utc_midnight(day + timedelta(days=1)),
                  touchpoint_id__in=by_day[day])
                for day in days[start:start + REFRESH_DAYS_PER_QUERY]))))
        # A superset of the keys, then only the keys: an OR of one term per
        # key costs Django more to build than the database to run.
        nearby = _existing_buckets(Q(touchpoint_id__in={t for t, _d in keys}, day__in=days))
        _write_buckets(counters, {key: pk for key, pk in nearby.items() if key in keys})
    return len(counters)


@dataclass
class RebuildResult:
    """What a rebuild covered: UTC days, buckets written and removed, responses counted."""

    days: int = 0
    buckets: int = 0
    removed: int = 0
    responses: int = 0


def rebuild_daily_scores(*, since: date | None = None, chunk_days: int = 31) -> RebuildResult:
    """Recompute the whole summary (or the days from `since` on) from the
    raw table, `chunk_days` UTC days per transaction; buckets left without
    responses are removed. Safe beside ingestion: each chunk locks every
    touchpoint as `refresh_daily_scores` does."""
    result = RebuildResult()
    bounds = _day_bounds(since)
    if bounds is None:
        return result
    first, last = bounds
    while first <= last:
        end = min(first + timedelta(days=chunk_days - 1), last)
        with transaction.atomic():
            _lock_touchpoints(None)
            counters = _bucket_counters(Q(occurred_at__gte=_utc_midnight(first),
                                          occurred_at__lt=_utc_midnight(end + timedelta(days=1))))
            existing = _existing_buckets(Q(day__gte=first, day__lte=end))
            _write_buckets(counters, existing)
        result.days += (end - first).days + 1
        result.buckets += len(counters)
        result.removed += len(existing.keys() - counters.keys())
        result.responses += sum(row["responses"] for row in counters.values())
        first = end + timedelta(days=1)
    return result


def _day_bounds(since: date | None) -> tuple[date, date] | None:
    """First and last UTC day holding raw responses or summary rows."""
    raw = FeedbackResponse.objects.aggregate(first=Min("occurred_at"), last=Max("occurred_at"))
    summary = DailyScore.objects.aggregate(first=Min("day"), last=Max("day"))
    firsts = [d for d in (raw["first"] and raw["first"].astimezone(UTC).date(), summary["first"]) if d]
    lasts = [d for d in (raw["last"] and raw["last"].astimezone(UTC).date(), summary["last"]) if d]
    if not firsts:
        return None
    first = max(min(firsts), since) if since else min(firsts)
    last = max(lasts)
    return (first, last) if first <= last else None


def _lock_touchpoints(ids: set[int] | None) -> None:
    # Always in id order, so refreshes and rebuilds never deadlock each other.
    touchpoints = Touchpoint.objects.select_for_update(no_key=True).order_by("pk")
    if ids is not None:
        touchpoints = touchpoints.filter(pk__in=ids)
    list(touchpoints.values_list("pk", flat=True))


def _bucket_counters(where: Q) -> dict[Key, dict]:
    rows = (FeedbackResponse.objects.order_by().filter(where)
            .annotate(day=TruncDate("occurred_at", tzinfo=UTC))
            .values("touchpoint_id", "day").annotate(**_raw_counters()))
    return {(row["touchpoint_id"], row["day"]): {name: row[name] or 0 for name in COUNTERS} for row in rows}


def _existing_buckets(where: Q) -> dict[Key, int]:
    rows = DailyScore.objects.filter(where).values_list("touchpoint_id", "day", "pk")
    return {(touchpoint, day): pk for touchpoint, day, pk in rows}


def _write_buckets(counters: dict[Key, dict], existing: dict[Key, int]) -> None:
    """Upsert `counters`; delete the `existing` buckets not among them."""
    gone = [pk for key, pk in existing.items() if key not in counters]
    if gone:
        DailyScore.objects.filter(pk__in=gone).delete()
    if counters:
        rows = [DailyScore(touchpoint_id=touchpoint, day=day, **counts)
                for (touchpoint, day), counts in sorted(counters.items())]
        DailyScore.objects.bulk_create(rows, batch_size=1000, update_conflicts=True,
                                       unique_fields=["touchpoint", "day"], update_fields=list(COUNTERS))
