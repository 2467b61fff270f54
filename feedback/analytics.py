"""Score metrics as docs/architecture.md defines them (NPS, CSAT %, CES mean and low-effort
share, negative sentiment), computed in the database by touchpoint, journey,
team or stage and by UTC day, week or month. Reads only: the summary rows
are written by `feedback.summaries`.

Two paths give the same rows for the same feedback:

- `score_metrics` reads the raw responses (any filtered queryset);
- `score_metrics_from_summary` sums the summary: `DailyScore`, one row of
  counters per touchpoint and UTC day, and `WeeklyScore`, the same per UTC
  week (the sum of its seven days), both kept by `feedback.summaries`.

Both compute every figure from the same integer counters with `figures_of`,
so they agree to the last digit, not just approximately; the summary
stores each bucket's figures with its counters (computed by `figures_of`
when the bucket is written), so a result row that is one bucket computes
none.

Both count only `scored` responses: a follow-up survey's answer measures
whether a case won the customer back, not the touchpoint, so it is never
mixed into a touchpoint's, journey's or team's scores (the insights report
it as recovery, before -> after).

The summary path reads stored columns as they are, in key order (weekly
rows for the whole weeks, daily rows for the days around them), and adds
up the runs of rows with the same key in Python: no date truncation, no
per-value conversion, no figure computed for a run of one bucket, one dict
per result row. A dashboard's weekly rows
so cost one query of already-weekly rows, whatever the number of responses
(bench/bench_scores.py; its figures are in the README's Benchmarks).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import reduce

from django.conf import settings
from django.db.models import Count, DateField, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDay, TruncMonth, TruncWeek

from cvx_site.db import grouped
from feedback.choices import SURVEY_SOURCES, SentimentLabel, SurveyPurpose
from feedback.models import DailyScore, FeedbackResponse, WeeklyScore
from feedback.scores import CES_LOW_EFFORT_MIN, CSAT_SATISFIED_MIN, DETRACTOR_MAX, PROMOTER_MIN, VES_ENHANCED_MIN
from journeys.models import Touchpoint

UTC = UTC
# Paths that hold from a FeedbackResponse and from a DailyScore alike.
GROUPS = {
    "touchpoint": "touchpoint__slug",
    "journey": "touchpoint__stage__journey__slug",
    "team": "touchpoint__team__slug",
    "stage": "touchpoint__stage_id",
}
PERIODS = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}
COUNTERS = (
    "responses",
    "nps_responses",
    "promoters",
    "detractors",
    "csat_responses",
    "csat_satisfied",
    "ces_responses",
    "ces_sum",
    "ces_low_effort",
    "ves_responses",
    "ves_sum",
    "ves_enhanced",
    "negative",
)
WEEK = timedelta(days=7)
# The source every follow-up answer is stored under; reserved, so no
# integration can send it (feedback.choices.RESERVED_SOURCES).
FOLLOW_UP_SOURCE = SURVEY_SOURCES[SurveyPurpose.FOLLOW_UP]


def scored(responses: QuerySet[FeedbackResponse]) -> QuerySet[FeedbackResponse]:
    """`responses` that count towards touchpoint, journey and team scores:
    all but the answers to follow-up surveys. The raw read, the summary and
    every figure the insights show from raw rows go through here."""
    # The source, not invitation__purpose: the same rows (survey answers are
    # stored under their purpose's reserved source), read from the row itself
    # so the summary's aggregates need no join.
    return responses.exclude(source=FOLLOW_UP_SOURCE)


def raw_counters() -> dict:
    """The counters of `COUNTERS` as aggregates over raw responses: what
    the raw read computes and what the summary stores."""
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
        "ves_responses": Count("id", filter=Q(ves__isnull=False)),
        "ves_sum": Sum("ves"),
        "ves_enhanced": Count("id", filter=Q(ves__gte=VES_ENHANCED_MIN)),
        "negative": Count("id", filter=Q(sentiment_label=SentimentLabel.NEGATIVE)),
    }


def _check_keys(group_by: str | None, period: str | None) -> None:
    if group_by is not None and group_by not in GROUPS:
        raise ValueError(f"group_by must be one of {sorted(GROUPS)}, not {group_by!r}")
    if period is not None and period not in PERIODS:
        raise ValueError(f"period must be one of {sorted(PERIODS)}, not {period!r}")


def _keyed(queryset: QuerySet, group_by: str | None, period: str | None, period_of) -> tuple[QuerySet, list[str]]:
    _check_keys(group_by, period)
    keys = []
    if group_by:
        queryset = queryset.annotate(group=F(GROUPS[group_by]))
        keys.append("group")
    if period:
        queryset = queryset.annotate(period=period_of(PERIODS[period]))
        keys.append("period")
    return queryset, keys


FIGURES = (
    "nps",
    "csat_pct",
    "ces_mean",
    "ces_low_effort_pct",
    "ves",
    "ves_enhanced_pct",
    "nps_margin",
    "csat_margin",
    "ces_low_effort_margin",
    "ves_enhanced_margin",
)


def figures_of(counts: Sequence[int]) -> tuple:
    """The `FIGURES` of `counts` (counters in `COUNTERS` order): the one
    definition of each figure, which the summary also stores with every
    bucket's counters (`feedback.summaries`). None where there is no answer."""
    (
        _responses,
        nps_responses,
        promoters,
        detractors,
        csat_responses,
        csat_satisfied,
        ces_responses,
        ces_sum,
        ces_low_effort,
        ves_responses,
        ves_sum,
        ves_enhanced,
        _negative,
    ) = counts
    # + 0.0: an NPS that rounds to zero from below is 0.0, not -0.0 (which
    # SQLite's REAL would store as 0.0 anyway).
    nps = round(100.0 * (promoters - detractors) / nps_responses, 1) + 0.0 if nps_responses else None
    return (
        nps,
        round(100.0 * csat_satisfied / csat_responses, 1) if csat_responses else None,
        round(ces_sum / ces_responses, 2) if ces_responses else None,
        round(100.0 * ces_low_effort / ces_responses, 1) if ces_responses else None,
        round(ves_sum / ves_responses, 2) if ves_responses else None,
        round(100.0 * ves_enhanced / ves_responses, 1) if ves_responses else None,
        # How sure each share is (see "how sure a figure is" below).
        nps_margin(promoters, detractors, nps_responses),
        share_margin(csat_satisfied, csat_responses),
        share_margin(ces_low_effort, ces_responses),
        share_margin(ves_enhanced, ves_responses),
    )


KEYS = ("group", "period")


def _row(group, period, counts: Sequence[int], figures: Sequence, least: int, absent: Sequence[str] = ()) -> dict:
    """The result row of `group` and `period`, without the `KEYS` named in
    `absent`: `counts` (in `COUNTERS` order), their `figures` (`figures_of`)
    and whether each is from fewer than `least` responses (`few_responses`,
    its threshold read once per call). Runs for every result row, hence one
    dict display (a dict grown key by key is resized on the way)."""
    (
        responses,
        nps_responses,
        promoters,
        detractors,
        csat_responses,
        csat_satisfied,
        ces_responses,
        _ces_sum,
        _ces_low_effort,
        ves_responses,
        _ves_sum,
        _ves_enhanced,
        negative,
    ) = counts
    (
        nps,
        csat_pct,
        ces_mean,
        ces_low_effort_pct,
        ves,
        ves_enhanced_pct,
        nps_margin_,
        csat_margin,
        ces_low_effort_margin,
        ves_enhanced_margin,
    ) = figures
    row = {
        "group": group,
        "period": period,
        "responses": responses,
        "nps_responses": nps_responses,
        "promoters": promoters,
        "detractors": detractors,
        "nps": nps,
        "csat_responses": csat_responses,
        "csat_satisfied": csat_satisfied,
        "csat_pct": csat_pct,
        "ces_responses": ces_responses,
        "ces_mean": ces_mean,
        "ces_low_effort_pct": ces_low_effort_pct,
        "ves_responses": ves_responses,
        "ves": ves,
        "ves_enhanced_pct": ves_enhanced_pct,
        "negative": negative,
        "nps_n": nps_responses,
        "nps_margin": nps_margin_,
        "csat_n": csat_responses,
        "csat_margin": csat_margin,
        "ces_n": ces_responses,
        "ces_low_effort_margin": ces_low_effort_margin,
        "nps_few": nps_responses < least,
        "csat_few": csat_responses < least,
        "ces_few": ces_responses < least,
        "ves_n": ves_responses,
        "ves_enhanced_margin": ves_enhanced_margin,
        "ves_few": ves_responses < least,
    }
    for name in absent:
        del row[name]
    return row


def _absent(names: Sequence[str]) -> tuple[str, ...]:
    return tuple(name for name in KEYS if name not in names)


def _rows(queryset: QuerySet, keys: list[str], aggregates: dict) -> list[dict]:
    least, absent = min_responses(), _absent(keys)
    rows = []
    for row in grouped(queryset, keys, **aggregates):
        counts = [row[name] or 0 for name in COUNTERS]  # a SUM over no rows is None: zero here
        rows.append(_row(row.get("group"), row.get("period"), counts, figures_of(counts), least, absent))
    return rows


def score_metrics(
    responses: QuerySet[FeedbackResponse], *, group_by: str | None = None, period: str | None = None
) -> list[dict]:
    """Score figures of the `scored` `responses` (already scoped and
    filtered), read from the raw table: one row per group and/or period (UTC
    dates, the first day of the period), in key order; one overall row
    without either.

    Each row has `responses`, `nps_responses`, `promoters`, `detractors`,
    `nps` (-100..100, 1 decimal), `csat_responses`, `csat_satisfied`,
    `csat_pct`, `ces_responses`, `ces_mean` (2 decimals),
    `ces_low_effort_pct`, `ves_responses`, `ves` (the mean VES, 2
    decimals), `ves_enhanced_pct` and `negative`; a figure without answers
    is None.
    """
    base, keys = _keyed(
        scored(responses).order_by(),
        group_by,
        period,
        lambda trunc: trunc("occurred_at", output_field=DateField(), tzinfo=UTC),
    )
    return _rows(base, keys, raw_counters())


def score_metrics_from_summary(
    touchpoints: QuerySet[Touchpoint] | None,
    *,
    since: date | None = None,
    until: date | None = None,
    group_by: str | None = None,
    period: str | None = None,
) -> list[dict]:
    """The rows `score_metrics(responses_between(<responses at touchpoints>,
    since, until), ...)` gives, from the summary: every touchpoint when
    `touchpoints` is None. As current as the last refresh, which runs in a
    task just after each ingestion commits."""
    _check_keys(group_by, period)
    names = (["group"] if group_by else []) + (["period"] if period else [])
    parts = _summary_parts(touchpoints, since, until, group_by, period)
    rows = parts[0] if len(parts) == 1 else _in_key_order([row for part in parts for row in part], group_by, period)
    # Rows come in key order: add up each run of rows with the same key. A
    # run of one bucket keeps the figures stored with it; a sum gets its own.
    width, totals = len(names), []
    cut = width + len(COUNTERS)
    for row in rows:
        key = row[:width]
        if totals and totals[-1][0] == key:
            total = totals[-1]
            total[1], total[2] = tuple(map(operator.add, total[1], row[width:cut])), None
        else:
            totals.append([key, row[width:cut], row[cut:] or None])
    if not names and not totals:
        totals.append([(), (0,) * len(COUNTERS), None])  # as an aggregate over nothing: one row of zeros
    least, absent = min_responses(), _absent(names)
    group_at, period_at = (0 if group_by else None), (width - 1 if period else None)
    return [
        _row(
            None if group_at is None else key[group_at],
            None if period_at is None else key[period_at],
            counts,
            figures or figures_of(counts),
            least,
            absent,
        )
        for key, counts, figures in totals
    ]


def _summary_parts(
    touchpoints: QuerySet[Touchpoint] | None,
    since: date | None,
    until: date | None,
    group_by: str | None,
    period: str | None,
) -> list[list[tuple]]:
    """Lists of (group, period start, *COUNTERS, *FIGURES) rows (without the
    group or the period when not asked for; without the figures when a row
    sums several buckets), each in key order, that between them
    hold every response at `touchpoints` on the UTC days `since` to `until`
    in as few rows as the summary allows: for a period of a week or none,
    weekly rows for the whole weeks in the range and daily rows for the days
    before and after them, the period start then being their Monday."""
    daily, weekly = DailyScore.objects.all(), WeeklyScore.objects.all()
    if touchpoints is not None:
        daily, weekly = daily.filter(touchpoint__in=touchpoints), weekly.filter(touchpoint__in=touchpoints)
    if period == "day":
        return [_ordered_rows(_between(daily, "day", since, until), group_by, "day")]
    if period == "month":
        return [_month_rows(_between(daily, "day", since, until), group_by)]
    first = since and week_start(since + timedelta(days=6))  # Monday of the first whole week
    last = until and week_start(until - timedelta(days=6))  # Monday of the last whole week
    if first and last and first > last:  # no whole week
        parts, edges = [], [(since, until)]
    else:
        parts = [_ordered_rows(_between(weekly, "week", first, last), group_by, period and "week")]
        edges = [
            (start, end)
            for start, end in ((since, first and first - timedelta(days=1)), (last and last + WEEK, until))
            if start and end and start <= end
        ]
    if edges:
        rows = _ordered_rows(
            daily.filter(reduce(operator.or_, (Q(day__gte=start, day__lte=end) for start, end in edges))),
            group_by,
            period and "day",
        )
        at = 1 if group_by else 0  # where the period is in a row; Mondays keep the days' order
        parts.append([(*row[:at], week_start(row[at]), *row[at + 1 :]) for row in rows] if period else rows)
    return parts


def _ordered_rows(summary: QuerySet, group_by: str | None, field: str | None) -> list[tuple]:
    """(group, `field`, *COUNTERS, *FIGURES) rows of `summary` (without the
    group or the field when None), in key order."""
    keys = []
    if group_by:
        summary = summary.annotate(group=F(GROUPS[group_by]))
        keys.append("group")
    if field:
        keys.append(field)
    return list(summary.order_by(*keys).values_list(*keys, *COUNTERS, *FIGURES))


def _month_rows(daily: QuerySet[DailyScore], group_by: str | None) -> list[tuple]:
    base, keys = _keyed(daily, group_by, "month", lambda trunc: trunc("day"))
    return list(
        map(
            operator.itemgetter(*keys, *COUNTERS),
            base.values(*keys).annotate(**{name: Sum(name) for name in COUNTERS}).order_by(*keys),
        )
    )


def _between(summary: QuerySet, field: str, first: date | None, last: date | None) -> QuerySet:
    if first:
        summary = summary.filter(**{f"{field}__gte": first})
    if last:
        summary = summary.filter(**{f"{field}__lte": last})
    return summary


def _in_key_order(rows: list[tuple], group_by: str | None, period: str | None) -> list[tuple]:
    """`rows` from several lists sorted as one: groups in the order the
    database sorts them (its collation, as in score_metrics), then periods."""
    if not group_by:
        return sorted(rows, key=operator.itemgetter(0)) if period else rows
    path = GROUPS[group_by].removeprefix("touchpoint__")
    ranks: dict = {}
    for group in Touchpoint.objects.order_by(path).values_list(path, flat=True):
        ranks.setdefault(group, len(ranks))
    last = len(ranks)  # a touchpoint deleted since its rows were read
    if period:
        return sorted(rows, key=lambda row: (ranks.get(row[0], last), row[1]))
    return sorted(rows, key=lambda row: ranks.get(row[0], last))


# --- how sure a figure is: n, the 95 % margin of error, few responses, a clear change ----

Z_95 = 1.96  # the normal quantile of a two-sided 95 % interval


def share_margin(part: int, n: int) -> float | None:
    """The 95 % margin of error of the share `part` / `n`, in percentage
    points (1 decimal): 1.96 * sqrt(p (1 - p) / n) * 100. None when n is 0."""
    if not n:
        return None
    p = part / n
    return round(Z_95 * math.sqrt(p * (1 - p) / n) * 100, 1)


def nps_margin(promoters: int, detractors: int, n: int) -> float | None:
    """The 95 % margin of error of NPS, in NPS points (1 decimal), from the
    variance of the promoter / detractor difference:
    1.96 * sqrt((p_pro + p_det - (p_pro - p_det)^2) / n) * 100. None when n is 0."""
    if not n:
        return None
    pro, det = promoters / n, detractors / n
    return round(Z_95 * math.sqrt(max(pro + det - (pro - det) ** 2, 0.0) / n) * 100, 1)


def min_responses() -> int:
    """The fewest responses a figure is read from without "few responses" (CVX_MIN_RESPONSES)."""
    return settings.CVX_MIN_RESPONSES


def few_responses(n: int) -> bool:
    """Whether a figure from `n` responses is too thin to read (fewer than
    `CVX_MIN_RESPONSES`): shown muted as "few responses", no trend arrow."""
    return n < min_responses()


def combined_margin(margin: float | None, other: float | None) -> float | None:
    """The margin of the difference of two independent figures: sqrt(m1^2 + m2^2)."""
    if margin is None or other is None:
        return None
    return math.hypot(margin, other)


def clear_change(delta: float | None, now: tuple[int, float | None], before: tuple[int, float | None]) -> bool:
    """Whether a change `delta` between two figures, each given as (n, margin),
    is worth an arrow: both from enough responses and |delta| above their
    combined margin (equal is not above)."""
    # Enough responses too: at a share of 0 or 1 the margin formula gives 0,
    # so 1 response against 1 would otherwise always be a clear change.
    if delta is None or few_responses(now[0]) or few_responses(before[0]):
        return False
    margin = combined_margin(now[1], before[1])
    return margin is not None and abs(delta) > margin


def empty_figures() -> dict:
    """The figures of no responses: what a period without any shows."""
    return _row(None, None, (0,) * len(COUNTERS), figures_of((0,) * len(COUNTERS)), min_responses(), KEYS)


def week_start(day: date) -> date:
    """The first day of `day`'s week, as TruncWeek gives it."""
    return day - timedelta(days=day.weekday())


def responses_between(
    responses: QuerySet[FeedbackResponse], since: date | None, until: date | None
) -> QuerySet[FeedbackResponse]:
    """`responses` that occurred on UTC days `since` to `until` (both
    included; either may be None): the rows the summary holds for those days."""
    if since:
        responses = responses.filter(occurred_at__gte=utc_midnight(since))
    if until:
        responses = responses.filter(occurred_at__lt=utc_midnight(until + timedelta(days=1)))
    return responses


def utc_midnight(day: date) -> datetime:
    """The start of UTC day `day`: where the summary's days begin."""
    return datetime.combine(day, time.min, UTC)
