"""Loop metrics: how fast cases are contacted and resolved, whether SLAs
hold, how long contacts take (AHT), whether the first contact resolved the
customer's issue (FCR), and whether customers were won back. Computed in
the database, by owner, team, touchpoint, journey or root cause, and by
period (of the cases' opening). The definitions are in the README."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import (
    Avg,
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, TruncDay, TruncMonth, TruncWeek
from django.utils import timezone

from cases.choices import EventKind
from cases.handling import FIELD as HANDLING_FIELD
from cases.models import Case, CaseEvent, FollowUp
from cases.selectors import complaints
from cvx_site.db import PercentileCont, Seconds, grouped, percentile
from feedback.analytics import scored
from feedback.choices import CsatBand, NpsCategory, SentimentLabel
from feedback.models import FeedbackResponse
from feedback.scores import CES_HIGH_EFFORT_MAX

GROUPS = {
    "owner": "owner__username",
    "team": "team__slug",
    "touchpoint": "touchpoint__slug",
    "journey": "journey__slug",
    "root_cause": "root_cause__name",
}
PERIODS = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}
DURATIONS = {"first_contact": ("first_contact_at", "created_at"), "resolution": ("resolved_at", "created_at")}
# 95% margins of error: z of the normal distribution.
Z95 = 1.96
# Negative feedback, for FCR's "no repeat": a detractor, a dissatisfied or
# high-effort answer, or a negative comment. A follow-up survey's answer
# measures recovery, not a repeat: only `scored` responses count.
NEGATIVE_FEEDBACK = (
    Q(nps_category=NpsCategory.DETRACTOR)
    | Q(csat_band=CsatBand.DISSATISFIED)
    | Q(ces__lte=CES_HIGH_EFFORT_MAX)
    | Q(sentiment_label=SentimentLabel.NEGATIVE)
)
# A contact event's handling minutes (cases.handling), as a number.
MINUTES = Cast(KT(f"data__{HANDLING_FIELD}"), FloatField())
CONTACTS = {"kind": EventKind.CONTACTED}
TIMED = {f"data__{HANDLING_FIELD}__isnull": False}


def _keys(cases: QuerySet, group_by: str | None, period: str | None, prefix: str = "") -> tuple[QuerySet, list[str]]:
    keys = []
    if group_by:
        cases = cases.annotate(group=F(prefix + GROUPS[group_by]))
        keys.append("group")
    if period:
        cases = cases.annotate(period=PERIODS[period](prefix + "created_at"))
        keys.append("period")
    return cases, keys


def repeat_negative(days: int) -> Exists:
    """Whether the case's customer gave negative feedback on the case's
    touchpoint within `days` days after its resolution (follow-up answers
    aside): the issue came back, so the resolution was not first-contact."""
    until = ExpressionWrapper(OuterRef("resolved_at") + timedelta(days=days), output_field=DateTimeField())
    return Exists(
        scored(FeedbackResponse.objects.all()).filter(
            NEGATIVE_FEEDBACK,
            customer=OuterRef("customer"),
            touchpoint=OuterRef("touchpoint"),
            occurred_at__gt=OuterRef("resolved_at"),
            occurred_at__lte=until,
        )
    )


def loop_metrics(
    cases: QuerySet[Case], *, group_by: str | None = None, period: str | None = None, now: datetime | None = None
) -> list[dict]:
    """One row per group (and period), in key order. Durations in hours,
    handling times in minutes. FCR is decided for cases resolved at least
    CVX_FCR_REPEAT_DAYS before `now` (default: the current time). Only the
    complaints of `cases` count: opportunities are not the loop's."""
    cases = complaints(cases)
    days = settings.CVX_FCR_REPEAT_DAYS
    answered = FollowUp.objects.filter(case=OuterRef("pk"), answer__isnull=False)
    base, keys = _keys(
        cases.order_by().annotate(
            has_follow_up=Exists(FollowUp.objects.filter(case=OuterRef("pk"))),
            has_answer=Exists(answered),
            was_recovered=Exists(answered.filter(recovered=True)),
            repeat_negative=repeat_negative(days),
        ),
        group_by,
        period,
    )
    resolved = Q(resolved_at__isnull=False)
    # A case resolved without reaching the customer counts as resolved but
    # meets neither the SLA nor first-contact resolution.
    reached = resolved & Q(unreachable=False)
    # Whether a repeat came within the window can be told only once it has passed.
    decidable = resolved & Q(resolved_at__lte=(now or timezone.now()) - timedelta(days=days))
    rows = grouped(
        base,
        keys,
        cases=Count("id"),
        resolved=Count("id", filter=resolved),
        unreachable_count=Count("id", filter=resolved & Q(unreachable=True)),
        sla_met=Count(
            "id", filter=reached & Q(first_contact_breached_at__isnull=True, resolution_breached_at__isnull=True)
        ),
        fcr=Count("id", filter=decidable & reached & Q(contact_count=1, repeat_negative=False)),
        fcr_n=Count("id", filter=decidable),
        followed_up=Count("id", filter=Q(has_follow_up=True)),
        responded=Count("id", filter=Q(has_answer=True)),
        recovered=Count("id", filter=Q(was_recovered=True)),
        **{f"{name}_mean_s": Avg(Seconds(end, start)) for name, (end, start) in DURATIONS.items()},
    )
    result = {tuple(r[k] for k in keys): _rates(r) for r in rows}
    _add_percentiles(result, base, keys)
    _add_score_changes(result, cases, group_by, period)
    _add_handling_times(result, cases, group_by, period)
    return [{**dict(zip(keys, key)), **row} for key, row in result.items()]


def _rates(row: dict) -> dict:
    def pct(part: int, whole: int) -> float | None:
        return round(100.0 * part / whole, 1) if whole else None

    out = {k: row[k] for k in ("cases", "resolved", "followed_up", "responded", "recovered")}
    out["unreachable"] = row["unreachable_count"]
    out.update(
        sla_met_pct=pct(row["sla_met"], row["resolved"]),
        fcr=pct(row["fcr"], row["fcr_n"]),
        fcr_n=row["fcr_n"],
        fcr_margin=_share_margin(row["fcr"], row["fcr_n"]),
        fcr_pending=row["resolved"] - row["fcr_n"],
        follow_up_response_rate=pct(row["responded"], row["followed_up"]),
        recovery_rate=pct(row["recovered"], row["responded"]),
    )
    for name in DURATIONS:
        mean = row[f"{name}_mean_s"]
        out[f"{name}_mean_h"] = _hours(mean)
    return out


def _add_percentiles(result: dict, base: QuerySet, keys: list[str]) -> None:
    for name, (end, start) in DURATIONS.items():
        measured = base.filter(**{f"{end}__isnull": False}).annotate(seconds=Seconds(end, start))
        if connection.vendor == "postgresql":
            stats = grouped(measured, keys, median=PercentileCont("seconds", 0.5), p90=PercentileCont("seconds", 0.9))
            found = {tuple(r[k] for k in keys): (r["median"], r["p90"]) for r in stats}
        else:  # SQLite has no PERCENTILE_CONT: the same interpolation over the group's values
            values = defaultdict(list)
            for row in measured.values_list(*keys, "seconds"):
                values[tuple(row[:-1])].append(row[-1])
            found = {key: (percentile(sorted(v), 0.5), percentile(sorted(v), 0.9)) for key, v in values.items()}
        for key, row in result.items():
            median, p90 = found.get(key, (None, None))
            row[f"{name}_median_h"], row[f"{name}_p90_h"] = _hours(median), _hours(p90)


def _add_score_changes(result: dict, cases: QuerySet[Case], group_by: str | None, period: str | None) -> None:
    answers, keys = _keys(
        FollowUp.objects.filter(case__in=cases.values("pk"), answer__isnull=False).order_by(),
        group_by,
        period,
        prefix="case__",
    )
    changes = grouped(
        answers,
        keys,
        nps=Avg(F("answer__nps") - F("case__feedback__nps")),
        csat=Avg(F("answer__csat") - F("case__feedback__csat")),
    )
    found = {tuple(r[k] for k in keys): r for r in changes}
    for key, row in result.items():
        change = found.get(key, {})
        row["nps_change"] = _round(change.get("nps"))
        row["csat_change"] = _round(change.get("csat"))


def _add_handling_times(result: dict, cases: QuerySet[Case], group_by: str | None, period: str | None) -> None:
    """AHT per contact: the mean handling minutes of the contacts (logged
    contacts and sent messages) that recorded one. AHT per case: the mean of
    each case's total, over the cases whose every contact recorded one."""
    contacts, keys = _keys(
        CaseEvent.objects.filter(case__in=cases.values("pk"), **CONTACTS, **TIMED).order_by(),
        group_by,
        period,
        prefix="case__",
    )
    per_contact = grouped(contacts, keys, mean=Avg(MINUTES), squares=Sum(MINUTES * MINUTES), n=Count("id"))
    own = CaseEvent.objects.filter(case=OuterRef("pk"), **CONTACTS).order_by()
    all_timed, keys = _keys(
        cases.order_by()
        .filter(Exists(own))
        .exclude(Exists(own.exclude(**TIMED)))
        .annotate(total=Subquery(own.values("case").annotate(total=Sum(MINUTES)).values("total"))),
        group_by,
        period,
    )
    per_case = grouped(all_timed, keys, mean=Avg("total"), squares=Sum(F("total") * F("total")), n=Count("id"))
    for name, rows in (("aht", per_contact), ("aht_case", per_case)):
        found = {tuple(r[k] for k in keys): r for r in rows}
        for key, row in result.items():
            figures = found.get(key) or {"mean": None, "squares": None, "n": 0}
            row[f"{name}_minutes"] = _round(figures["mean"])
            row[f"{name}_n"] = figures["n"]
            row[f"{name}_margin"] = _mean_margin(figures["mean"], figures["squares"], figures["n"])


def _share_margin(part: int, whole: int) -> float | None:
    """95% margin of error of the share part/whole, in percentage points."""
    if not whole:
        return None
    p = part / whole
    return round(Z95 * math.sqrt(p * (1 - p) / whole) * 100, 1)


def _mean_margin(mean: float | None, squares: float | None, n: int) -> float | None:
    """95% margin of error of a mean, from the sum of the squared values (the
    sample standard deviation; SQLite's STDDEV_SAMP fails on one value)."""
    if mean is None or squares is None or n < 2:
        return None
    variance = max(float(squares) - n * float(mean) ** 2, 0.0) / (n - 1)
    return round(Z95 * math.sqrt(variance / n), 2)


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600.0, 2)


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)
