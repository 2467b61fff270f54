"""Loop metrics: how fast cases are contacted and resolved, whether SLAs
hold, and whether customers were won back. Computed in the database, by
owner, team, touchpoint, journey or root cause, and by period."""

from __future__ import annotations

from collections import defaultdict

from django.db import connection
from django.db.models import Avg, Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDay, TruncMonth, TruncWeek

from cases.models import Case, FollowUp
from cvx_site.db import PercentileCont, Seconds, grouped, percentile

GROUPS = {
    "owner": "owner__username",
    "team": "team__slug",
    "touchpoint": "touchpoint__slug",
    "journey": "journey__slug",
    "root_cause": "root_cause__name",
}
PERIODS = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}
DURATIONS = {"first_contact": ("first_contact_at", "created_at"), "resolution": ("resolved_at", "created_at")}


def _keys(cases: QuerySet, group_by: str | None, period: str | None, prefix: str = "") -> tuple[QuerySet, list[str]]:
    keys = []
    if group_by:
        cases = cases.annotate(group=F(prefix + GROUPS[group_by]))
        keys.append("group")
    if period:
        cases = cases.annotate(period=PERIODS[period](prefix + "created_at"))
        keys.append("period")
    return cases, keys


def loop_metrics(cases: QuerySet[Case], *, group_by: str | None = None, period: str | None = None) -> list[dict]:
    """One row per group (and period), in key order. Durations in hours."""
    answered = FollowUp.objects.filter(case=OuterRef("pk"), answer__isnull=False)
    base, keys = _keys(
        cases.order_by().annotate(
            has_follow_up=Exists(FollowUp.objects.filter(case=OuterRef("pk"))),
            has_answer=Exists(answered),
            was_recovered=Exists(answered.filter(recovered=True)),
        ),
        group_by,
        period,
    )
    resolved = Q(resolved_at__isnull=False)
    # A case resolved without reaching the customer counts as resolved but
    # meets neither the SLA nor first-contact resolution.
    reached = resolved & Q(unreachable=False)
    rows = grouped(
        base,
        keys,
        cases=Count("id"),
        resolved=Count("id", filter=resolved),
        unreachable_count=Count("id", filter=resolved & Q(unreachable=True)),
        sla_met=Count(
            "id", filter=reached & Q(first_contact_breached_at__isnull=True, resolution_breached_at__isnull=True)
        ),
        fcr=Count("id", filter=reached & Q(contact_count=1)),
        followed_up=Count("id", filter=Q(has_follow_up=True)),
        responded=Count("id", filter=Q(has_answer=True)),
        recovered=Count("id", filter=Q(was_recovered=True)),
        **{f"{name}_mean_s": Avg(Seconds(end, start)) for name, (end, start) in DURATIONS.items()},
    )
    result = {tuple(r[k] for k in keys): _rates(r) for r in rows}
    _add_percentiles(result, base, keys)
    _add_score_changes(result, cases, group_by, period)
    return [{**dict(zip(keys, key)), **row} for key, row in result.items()]


def _rates(row: dict) -> dict:
    def pct(part: int, whole: int) -> float | None:
        return round(100.0 * part / whole, 1) if whole else None

    out = {k: row[k] for k in ("cases", "resolved", "followed_up", "responded", "recovered")}
    out["unreachable"] = row["unreachable_count"]
    out.update(
        sla_met_pct=pct(row["sla_met"], row["resolved"]),
        first_contact_resolution_pct=pct(row["fcr"], row["resolved"]),
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


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600.0, 2)


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)
