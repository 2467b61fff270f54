"""The figures of the insight pages and of the metrics API: loop metrics,
scores by journey, touchpoint, team and period, the journey map, a
touchpoint's scores over time, the Pareto of root causes and the chain of
CX value; follow-up answers as recovery (before -> after), never as
scores. Reads only.

The functions of the first section take the user and scope the data with
the apps' selectors (`cases_visible_to`, `feedback_visible_to`,
`touchpoints_visible_to`); pages and API call those same functions for the
figures both show. The others take querysets the caller has already scoped.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Avg, Count, F, Min, Prefetch, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from cases.choices import OPEN_STATUSES, CaseOutcome
from cases.insights.loop import GROUPS as LOOP_GROUPS
from cases.insights.loop import PERIODS as LOOP_PERIODS
from cases.insights.loop import loop_metrics
from cases.models import Case, FollowUp, RootCause
from cases.numbers import case_number
from cases.selectors import breached, cases_visible_to, complaints, opportunities_won
from cvx_site.db import grouped
from feedback.analytics import GROUPS as SCORE_GROUPS
from feedback.analytics import (
    clear_change,
    empty_figures,
    few_responses,
    score_metrics,
    score_metrics_from_summary,
    scored,
)
from feedback.choices import FeedbackKind, NpsCategory, SentimentLabel
from feedback.models import FeedbackResponse
from feedback.selectors import feedback_visible_to, journeys_visible_to, scored_touchpoints_of, touchpoints_visible_to
from feedback.sentiment import COMMENT_MAX_CHARS
from feedback.themes import Theme, comment_themes
from journeys.choices import JourneyState
from journeys.models import Journey, Touchpoint
from journeys.selectors import journey_is_live, live_condition
from journeys.services import ARCHIVED_NOTE

MAP_DAYS = (7, 30, 90)
GRANULARITIES = ("day", "week", "month")
SERIES_LENGTH = 26
EVENTS = ("churn", "repeat_purchase")
# Colour bands of the journey map, best first: (class, lowest value in band).
HEAT_BANDS = {
    "NPS": [("good", 30), ("fair", 0), ("poor", -30), ("bad", -100)],
    "CSAT %": [("good", 80), ("fair", 60), ("poor", 40), ("bad", 0)],
}
# Every key of a score row (`feedback.analytics`), as a period without responses shows it.
EMPTY_SCORES = empty_figures()


def pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


# --- what pages and API both show, scoped to the user -------------------------------


def visible_touchpoint(user, slug: str) -> Touchpoint | None:
    """The touchpoint `slug`, with its stage, journey and team, when the user
    may see its feedback; None otherwise."""
    if "\x00" in slug:  # in no slug, and PostgreSQL fails a query that holds one
        return None
    return touchpoints_visible_to(user).select_related("stage__journey", "team").filter(slug=slug).first()


def loop_rows(
    user,
    *,
    since: date | None = None,
    until: date | None = None,
    group_by: str | None = None,
    period: str | None = None,
    include_drafts: bool = False,
) -> list[dict]:
    """`loop_metrics` of the cases the user may see opened on the (local)
    days `since` to `until`, either may be None; drafts as `without_drafts`."""
    cases = opened_between(without_drafts(cases_visible_to(user), include_drafts), since, until)
    return loop_metrics(cases, group_by=group_by, period=period)


def score_rows(
    user,
    *,
    since: date | None = None,
    until: date | None = None,
    group_by: str | None = None,
    period: str | None = None,
    include_drafts: bool = False,
) -> list[dict] | None:
    """Score figures of the feedback the user may see on the UTC days
    `since` to `until`, from the score summary; None for a grouping that
    feedback has not (owner, root cause). Drafts as `without_drafts`."""
    if group_by and group_by not in SCORE_GROUPS:
        return None
    touchpoints = scored_touchpoints_of(user)
    if not include_drafts and Touchpoint.objects.exclude(live_condition("stage__journey")).exists():
        # Only then a condition: the summary reads fastest without one.
        touchpoints = Touchpoint.objects.all() if touchpoints is None else touchpoints
        touchpoints = touchpoints.filter(live_condition("stage__journey"))
    return score_metrics_from_summary(touchpoints, since=since, until=until, group_by=group_by, period=period)


def recovery_rows(
    user,
    *,
    since: date | None = None,
    until: date | None = None,
    group_by: str | None = None,
    period: str | None = None,
    include_drafts: bool = False,
) -> list[dict]:
    """`recovery_measures` of the cases the user may see opened on the
    (local) days `since` to `until`, keyed as `loop_rows` is."""
    cases = opened_between(without_drafts(cases_visible_to(user), include_drafts), since, until)
    return recovery_measures(cases, group_by=group_by, period=period)


def root_causes_of(user, since: date | None, until: date | None, *, include_drafts: bool = False) -> list[dict]:
    """`root_cause_pareto` of the cases the user may see; drafts as `without_drafts`."""
    return root_cause_pareto(without_drafts(cases_visible_to(user), include_drafts), since, until)


def without_drafts(cases: QuerySet[Case], include_drafts: bool = False) -> QuerySet[Case]:
    """`cases` at touchpoints of live journeys (`journeys.selectors`), or all
    of them when `include_drafts`: a future-state design or an inactive
    journey is modelled, not lived, and is left out of figures unless asked for."""
    return cases if include_drafts else cases.filter(live_condition("touchpoint__stage__journey"))


def value_chain_of(user, touchpoint: Touchpoint) -> dict:
    """`value_chain` of `touchpoint` over the feedback and cases the user may see."""
    return value_chain(touchpoint, feedback_visible_to(user), cases_visible_to(user))


# --- periods ---------------------------------------------------------------------


def period_starts(granularity: str, *, today: date, count: int = SERIES_LENGTH) -> list[date]:
    """The first days of the last `count` periods, oldest first, the current
    (partial) one last. Weeks start on Monday, as the database truncates them."""
    if granularity == "day":
        return [today - timedelta(days=i) for i in range(count - 1, -1, -1)]
    if granularity == "week":
        monday = today - timedelta(days=today.weekday())
        return [monday - timedelta(weeks=i) for i in range(count - 1, -1, -1)]
    if granularity == "month":
        months = [today.year * 12 + today.month - 1 - i for i in range(count - 1, -1, -1)]
        return [date(m // 12, m % 12 + 1, 1) for m in months]
    raise ValueError(f"unknown granularity {granularity!r}")


def period_label(start: date, granularity: str) -> str:
    return start.strftime("%b '%y") if granularity == "month" else f"{start.day} {start:%b}"


def start_of(day: date, tz=None) -> datetime:
    return datetime.combine(day, time.min, tz or timezone.get_current_timezone())


def _as_date(value) -> date:
    return value.date() if isinstance(value, datetime) else value


def opened_between(cases: QuerySet[Case], since: date | None, until: date | None) -> QuerySet[Case]:
    """Cases opened from the start of local day `since` to the end of `until` (either may be None)."""
    return _on_days(cases, "created_at", since, until)


def resolved_between(cases: QuerySet[Case], since: date | None, until: date | None) -> QuerySet[Case]:
    """Cases resolved from the start of `since` to the end of `until` (either may be None)."""
    return _on_days(cases, "resolved_at", since, until).filter(resolved_at__isnull=False)


def _on_days(cases: QuerySet[Case], field: str, since: date | None, until: date | None) -> QuerySet[Case]:
    if since:
        cases = cases.filter(**{f"{field}__gte": start_of(since)})
    if until:
        cases = cases.filter(**{f"{field}__lt": start_of(until + timedelta(days=1))})
    return cases


def score_series(
    responses: QuerySet[FeedbackResponse], granularity: str, *, today: date | None = None, count: int = SERIES_LENGTH
) -> list[dict]:
    """score_metrics for each of the last `count` periods, oldest first; a
    period without responses is present with empty scores. Periods are UTC
    days, weeks and months, as score_metrics truncates them."""
    today = today or timezone.now().astimezone(UTC).date()
    starts = period_starts(granularity, today=today, count=count)
    rows = score_metrics(responses.filter(occurred_at__gte=start_of(starts[0], UTC)), period=granularity)
    found = {_as_date(row["period"]): row for row in rows}
    return [
        {**EMPTY_SCORES, **found.get(start, {}), "period": start, "label": period_label(start, granularity)}
        for start in starts
    ]


# --- the journey map ----------------------------------------------------------------


# Each headline measure's figure, n and margin in a score row.
HEADLINES = {"NPS": ("nps", "nps_n", "nps_margin"), "CSAT %": ("csat_pct", "csat_n", "csat_margin")}


def headline(row: dict | None) -> tuple[str | None, float | None]:
    """What a touchpoint card is coloured by: NPS, or CSAT % without NPS answers."""
    if row and row.get("nps") is not None:
        return "NPS", row["nps"]
    if row and row.get("csat_pct") is not None:
        return "CSAT %", row["csat_pct"]
    return None, None


def heat(measure: str | None, value: float | None) -> str:
    if measure is None or value is None:
        return "none"
    for name, floor in HEAT_BANDS[measure]:
        if value >= floor:
            return name
    return HEAT_BANDS[measure][-1][0]


def _by_touchpoint(responses: QuerySet[FeedbackResponse]) -> dict:
    return {row["group"]: row for row in score_metrics(responses, group_by="touchpoint")}


def _count_by_touchpoint(cases: QuerySet[Case]) -> dict[int, int]:
    return dict(cases.order_by().values_list("touchpoint").annotate(n=Count("id")))


def touchpoint_card(touchpoint: Touchpoint, now: dict | None, before: dict | None) -> dict:
    """A card's scores and trend: the same measure in the period before. The
    headline's `n` and `margin`, `few` when n is below CVX_MIN_RESPONSES;
    `trend` is up or down only for a clear change (`clear_change`: both
    periods with enough responses, the change above their combined margin),
    `unclear` for any other change, None without an earlier figure."""
    measure, value = headline(now)
    figure, n_name, margin_name = HEADLINES.get(measure, (None, None, None))
    earlier = (before or {}).get(figure) if figure else None
    delta = round(value - earlier, 1) if value is not None and earlier is not None else None
    n, margin = (now or {}).get(n_name, 0), (now or {}).get(margin_name)
    clear = clear_change(delta, (n, margin), ((before or {}).get(n_name, 0), (before or {}).get(margin_name)))
    return {
        "touchpoint": touchpoint,
        "measure": measure,
        "value": value,
        "heat": heat(measure, value),
        "responses": (now or {}).get("responses", 0),
        # The mean VES beside the headline, when anyone answered it here.
        "ves": (now or {}).get("ves"),
        "ves_responses": (now or {}).get("ves_responses", 0),
        "ves_few": few_responses((now or {}).get("ves_responses", 0)),
        "n": n,
        "margin": margin,
        "few": measure is not None and few_responses(n),
        "previous": earlier,
        "previous_n": (before or {}).get(n_name, 0),
        "previous_margin": (before or {}).get(margin_name),
        "delta": delta,
        "trend": None if delta is None else ("up" if delta > 0 else "down") if clear else "unclear",
    }


def has_history(journey: Journey) -> bool:
    """Whether `journey` has lived: a live one, or one archived when a
    design replaced it (its history stays). A draft (future-state design,
    inactive journey) is modelled, not lived."""
    return journey_is_live(journey) or journey.state == JourneyState.ARCHIVED


@dataclass(frozen=True)
class Archiving:
    """When a journey was archived (None when no promotion recorded it) and
    the journey promoted in its place (None when gone or not the user's)."""

    at: datetime | None
    replaced_by: Journey | None


def journey_archiving(user, journey: Journey) -> Archiving | None:
    """How `journey` came to be archived, as the promotion recorded it
    (`journeys.services.journey_promote`): the time of its record on the
    journey's admin history, and the journey whose design replaced it (its
    `based_on`; a design still drafted from it is not one), when the user
    may see it. None when `journey` is not archived."""
    if journey.state != JourneyState.ARCHIVED:
        return None
    record = (
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Journey),
            object_id=str(journey.pk),
            change_message__startswith=ARCHIVED_NOTE,
        )
        .order_by("-action_time")
        .first()
    )
    replaced_by = (
        journeys_visible_to(user).filter(based_on=journey).exclude(state=JourneyState.FUTURE).order_by("pk").first()
    )
    return Archiving(record.action_time if record else None, replaced_by)


def journey_map(
    journey: Journey,
    responses: QuerySet[FeedbackResponse],
    cases: QuerySet[Case],
    *,
    days: int,
    now: datetime | None = None,
) -> list[dict]:
    """The stages of `journey` in order, each with a card per touchpoint:
    scores over the last `days` days and their change against the `days`
    before; open cases and the breached ones among them (as of now). A
    draft journey (not `has_history`) takes no feedback: its map is the
    design, without scores or cases. An archived journey's map is its
    history (pass `now`: when it was archived)."""
    now = now or timezone.now()
    if not has_history(journey):
        responses, cases = responses.none(), cases.none()
    span = timedelta(days=days)
    mine = responses.filter(touchpoint__stage__journey=journey)
    current = _by_touchpoint(mine.filter(occurred_at__gt=now - span, occurred_at__lte=now))
    previous = _by_touchpoint(mine.filter(occurred_at__gt=now - 2 * span, occurred_at__lte=now - span))
    open_cases = complaints(cases).filter(touchpoint__stage__journey=journey, status__in=OPEN_STATUSES)
    open_counts, breached_counts = _count_by_touchpoint(open_cases), _count_by_touchpoint(breached(open_cases))
    ordered = Touchpoint.objects.order_by("position", "id").select_related("team")
    stages = journey.stages.order_by("position", "id").prefetch_related(Prefetch("touchpoints", queryset=ordered))
    return [
        {
            "stage": stage,
            "cards": [
                {
                    **touchpoint_card(tp, current.get(tp.slug), previous.get(tp.slug)),
                    "open_cases": open_counts.get(tp.pk, 0),
                    "breached_cases": breached_counts.get(tp.pk, 0),
                }
                for tp in stage.touchpoints.all()
            ],
        }
        for stage in stages
    ]


# --- a touchpoint's page ---------------------------------------------------------------


def score_distribution(responses: QuerySet[FeedbackResponse], field: str, low: int, high: int) -> list[tuple]:
    """How many of the `scored` responses gave each score from `low` to `high`."""
    counts = dict(
        scored(responses).filter(**{f"{field}__isnull": False}).order_by().values_list(field).annotate(n=Count("id"))
    )
    return [(score, counts.get(score, 0)) for score in range(low, high + 1)]


def theme_examples(
    responses: QuerySet[FeedbackResponse], themes: list[Theme], *, per_theme: int = 2, sample: int = 500
) -> list[dict]:
    """Each theme with up to `per_theme` of the newest negative comments that
    contain it (a comment repeated word for word is shown once)."""
    examples: dict[str, list[dict]] = {theme.phrase: [] for theme in themes}
    negative = (
        responses.filter(sentiment_label=SentimentLabel.NEGATIVE)
        .exclude(comment="")
        .order_by("-occurred_at", "-id")
        .values("id", "comment", "occurred_at")[:sample]
    )
    for response in negative:
        for phrase in comment_themes(response["comment"][:COMMENT_MAX_CHARS]) & examples.keys():
            found = examples[phrase]
            if len(found) < per_theme and all(e["comment"] != response["comment"] for e in found):
                found.append(response)
        if all(len(found) >= per_theme for found in examples.values()):
            break
    return [{"phrase": t.phrase, "count": t.count, "examples": examples[t.phrase]} for t in themes]


def touchpoint_cases(cases: QuerySet[Case], touchpoint: Touchpoint, *, since: datetime, latest: int = 20) -> dict:
    """The touchpoint's complaints opened since `since`: how many per outcome
    (None: no outcome yet) and the latest ones."""
    opened = complaints(cases).filter(touchpoint=touchpoint, created_at__gte=since)
    counts = dict(opened.order_by().values_list("outcome").annotate(n=Count("id")))
    outcomes = [(label, counts.get(value, 0)) for value, label in CaseOutcome.choices]
    outcomes.append(("No outcome yet", counts.get(None, 0)))
    recent = list(opened.select_related("owner", "root_cause__parent").order_by("-created_at", "-id")[:latest])
    return {"outcomes": outcomes, "total": sum(counts.values()), "recent": recent}


# --- root causes ---------------------------------------------------------------------


def root_cause_pareto(cases_qs: QuerySet[Case], since: date | None, until: date | None) -> list[dict]:
    """Cases resolved in the period, per root cause, most cases first (ties by
    name), with the share and running (cumulative) share of all of them; the
    recovery rate = answered follow-ups that recovered / answered follow-ups;
    the three touchpoints with most such cases; and the resolution summaries
    of the three latest recovered ones."""
    resolved = resolved_between(complaints(cases_qs), since, until).filter(root_cause__isnull=False)
    counts = dict(resolved.order_by().values_list("root_cause").annotate(n=Count("id")))
    causes = {c.pk: str(c) for c in RootCause.objects.select_related("parent").filter(pk__in=counts)}
    follow_ups = {
        row["case__root_cause"]: row
        for row in FollowUp.objects.filter(case__in=resolved.values("pk"), answer__isnull=False)
        .order_by()
        .values("case__root_cause")
        .annotate(answered=Count("id"), recovered=Count("id", filter=Q(recovered=True)))
    }
    touchpoints, notes = _cause_touchpoints(resolved), _recovered_notes(resolved)
    total, running, rows = sum(counts.values()), 0, []
    for cause_id in sorted(counts, key=lambda pk: (-counts[pk], causes[pk].lower(), pk)):
        running += counts[cause_id]
        answered = follow_ups.get(cause_id, {}).get("answered", 0)
        recovered = follow_ups.get(cause_id, {}).get("recovered", 0)
        rows.append(
            {
                "root_cause_id": cause_id,
                "root_cause": causes[cause_id],
                "cases": counts[cause_id],
                "share_pct": pct(counts[cause_id], total),
                "cumulative_pct": pct(running, total),
                "answered": answered,
                "recovered": recovered,
                "recovery_rate": pct(recovered, answered),
                "touchpoints": touchpoints.get(cause_id, [])[:3],
                "notes": notes.get(cause_id, []),
            }
        )
    return rows


def _cause_touchpoints(resolved: QuerySet[Case]) -> dict[int, list[dict]]:
    found = defaultdict(list)
    rows = resolved.order_by().values("root_cause", "touchpoint__slug", "touchpoint__name").annotate(cases=Count("id"))
    for row in sorted(rows, key=lambda r: (-r["cases"], r["touchpoint__name"])):
        found[row["root_cause"]].append(
            {"slug": row["touchpoint__slug"], "name": row["touchpoint__name"], "cases": row["cases"]}
        )
    return found


def _recovered_notes(resolved: QuerySet[Case], per_cause: int = 3) -> dict[int, list[dict]]:
    ranked = (
        resolved.filter(outcome=CaseOutcome.RECOVERED)
        .exclude(resolution_summary="")
        .annotate(
            rank=Window(RowNumber(), partition_by=[F("root_cause")], order_by=[F("resolved_at").desc(), F("id").desc()])
        )
        .filter(rank__lte=per_cause)
        .order_by("root_cause", "rank")
    )
    found = defaultdict(list)
    for case in ranked.values("root_cause", "pk", "resolution_summary"):
        found[case["root_cause"]].append(
            {"case_id": case["pk"], "number": case_number(case["pk"]), "summary": case["resolution_summary"]}
        )
    return found


# --- the chain of CX value ------------------------------------------------------------

COHORTS = [
    ("recovered", "Had a case here that was recovered"),
    ("not_recovered", "Had a case here that was not recovered (or no answer)"),
    ("no_case", "Gave feedback here, had no case here"),
]
NOT_RECOVERED = {CaseOutcome.NOT_RECOVERED, CaseOutcome.NO_RESPONSE}


def value_chain(
    touchpoint: Touchpoint, responses_qs: QuerySet[FeedbackResponse], cases_qs: QuerySet[Case], *, window_days: int = 90
) -> dict:
    """Customers who gave feedback at `touchpoint`, in three cohorts by the
    outcome of their first case here: recovered; not recovered or no answer;
    no case here (customers whose first case is still open or was cancelled
    are left out and counted as `undecided`). Per cohort, the share of
    customers who within `window_days` after their first feedback here:
    gave detractor feedback anywhere (not the feedback that opened their
    case), had another case opened (after their case here), and, from
    inferred feedback's metadata.event, churned or bought again; and the
    revenue won: how many opportunities opened by their feedback anywhere
    in that window (from their first feedback here on) were won (`won`) and
    the sum of their amounts (`revenue_won`, a Decimal; none given counts 0).
    Cases here are complaints: an opportunity is neither a cohort's case nor
    a repeat case. Follow-up survey answers are not feedback here: they
    define recovery."""
    responses = scored(responses_qs)
    here = responses.filter(touchpoint=touchpoint, customer__isnull=False)
    anchors = dict(here.order_by().values_list("customer").annotate(first=Min("occurred_at")))
    who = here.values("customer")
    cases, later = _customer_cases(complaints(cases_qs), who), _later_signals(responses, who)
    won = _won_opportunities(cases_qs, who)
    window = timedelta(days=window_days)
    tally = {key: defaultdict(int) for key, _ in COHORTS}
    undecided = 0
    for customer, anchor in anchors.items():
        first_here = next((c for c in cases[customer] if c["touchpoint"] == touchpoint.pk), None)
        cohort = _cohort(first_here)
        if cohort is None:
            undecided += 1
            continue
        counts = tally[cohort]
        counts["customers"] += 1
        for signal, found in _signals(anchor, anchor + window, first_here, cases[customer], later[customer]).items():
            counts[signal] += found
        for amount, occurred_at in won[customer]:
            if anchor <= occurred_at <= anchor + window:
                counts["won"] += 1
                counts["revenue_won"] += amount or 0
    has_events = responses.filter(kind=FeedbackKind.INFERRED, metadata__event__in=EVENTS).exists()
    return {
        "window_days": window_days,
        "customers": len(anchors),
        "undecided": undecided,
        "has_events": has_events,
        "cohorts": [_cohort_row(key, label, tally[key], has_events) for key, label in COHORTS],
    }


def _customer_cases(cases_qs: QuerySet[Case], who) -> dict[int, list[dict]]:
    found = defaultdict(list)
    for case in (
        cases_qs.filter(customer__in=who)
        .order_by("created_at", "id")
        .values("id", "customer", "touchpoint", "created_at", "outcome", "feedback")
    ):
        found[case["customer"]].append(case)
    return found


def _won_opportunities(cases_qs: QuerySet[Case], who) -> dict[int, list[tuple]]:
    found = defaultdict(list)
    for customer, amount, occurred_at in (
        opportunities_won(cases_qs)
        .filter(customer__in=who)
        .order_by()
        .values_list("customer", "amount", "feedback__occurred_at")
    ):
        found[customer].append((amount, occurred_at))
    return found


def _later_signals(responses: QuerySet[FeedbackResponse], who) -> dict[int, list[dict]]:
    wanted = Q(nps_category=NpsCategory.DETRACTOR) | Q(kind=FeedbackKind.INFERRED, metadata__event__in=EVENTS)
    found = defaultdict(list)
    for row in (
        responses.filter(wanted, customer__in=who)
        .order_by()
        .values("id", "customer", "occurred_at", "nps_category", "kind", "metadata__event")
    ):
        found[row["customer"]].append(row)
    return found


def _cohort(first_case: dict | None) -> str | None:
    if first_case is None:
        return "no_case"
    if first_case["outcome"] == CaseOutcome.RECOVERED:
        return "recovered"
    return "not_recovered" if first_case["outcome"] in NOT_RECOVERED else None


def _signals(
    anchor: datetime, end: datetime, first_case: dict | None, cases: list[dict], responses: list[dict]
) -> dict[str, bool]:
    def within(at: datetime) -> bool:
        return anchor < at <= end

    opened_by = first_case["feedback"] if first_case else None
    after = first_case["created_at"] if first_case else anchor
    inferred = [r for r in responses if r["kind"] == FeedbackKind.INFERRED and within(r["occurred_at"])]
    return {
        "later_detractor": any(
            r["nps_category"] == NpsCategory.DETRACTOR and r["id"] != opened_by and within(r["occurred_at"])
            for r in responses
        ),
        "repeat_case": any(c is not first_case and c["created_at"] > after and within(c["created_at"]) for c in cases),
        "churn": any(r["metadata__event"] == "churn" for r in inferred),
        "repeat_purchase": any(r["metadata__event"] == "repeat_purchase" for r in inferred),
    }


def _cohort_row(key: str, label: str, counts: dict, has_events: bool) -> dict:
    customers = counts["customers"]
    row = {"key": key, "label": label, "customers": customers}
    for signal in ("later_detractor", "repeat_case", *EVENTS):
        shown = has_events or signal not in EVENTS
        row[signal] = counts[signal] if shown else None
        row[f"{signal}_pct"] = pct(counts[signal], customers) if shown else None
    row["won"] = counts["won"]
    row["revenue_won"] = Decimal(counts["revenue_won"]).quantize(Decimal("0.01"))
    return row


# --- recovery: follow-up answers, before -> after -------------------------------------

EMPTY_RECOVERY = {
    "answered": 0,
    "recovered": 0,
    "recovery_rate": None,
    "nps_n": 0,
    "nps_before": None,
    "nps_after": None,
    "csat_n": 0,
    "csat_before": None,
    "csat_after": None,
}


def recovery_measures(cases: QuerySet[Case], *, group_by: str | None = None, period: str | None = None) -> list[dict]:
    """The answered follow-ups of `cases` (resolved cases whose customer
    answered the follow-up survey), one row per group and/or period of the
    case (the loop metrics' keys: `cases.insights.loop.GROUPS`, period of
    opening), in key order; one overall row without either.

    Each row: `answered`, `recovered` and `recovery_rate` (%); per score, the
    mean before (the feedback that opened the case) and after (the answer)
    over the `<score>_n` cases that have both (`nps_before`, `nps_after`,
    `csat_before`, `csat_after`, 2 decimals; None without such a case).
    These answers are what `feedback.analytics.scored` keeps out of scores."""
    answers = FollowUp.objects.filter(case__in=complaints(cases).values("pk"), answer__isnull=False).order_by()
    keys = []
    if group_by:
        answers = answers.annotate(group=F(f"case__{LOOP_GROUPS[group_by]}"))
        keys.append("group")
    if period:
        answers = answers.annotate(period=LOOP_PERIODS[period]("case__created_at"))
        keys.append("period")
    pairs = {
        name: Q(**{f"case__feedback__{name}__isnull": False, f"answer__{name}__isnull": False})
        for name in ("nps", "csat")
    }
    rows = grouped(
        answers,
        keys,
        answered=Count("id"),
        recovered=Count("id", filter=Q(recovered=True)),
        **{
            aggregate: function
            for name, both in pairs.items()
            for aggregate, function in (
                (f"{name}_n", Count("id", filter=both)),
                (f"{name}_before", Avg(f"case__feedback__{name}", filter=both)),
                (f"{name}_after", Avg(f"answer__{name}", filter=both)),
            )
        },
    )
    return [_recovery_row(row, keys) for row in rows]


def _recovery_row(row: dict, keys: list[str]) -> dict:
    out = {key: row[key] for key in keys}
    out.update(answered=row["answered"] or 0, recovered=row["recovered"] or 0)
    out["recovery_rate"] = pct(out["recovered"], out["answered"])
    for name in ("nps", "csat"):
        out[f"{name}_n"] = row[f"{name}_n"] or 0
        for when in ("before", "after"):
            value = row[f"{name}_{when}"]
            out[f"{name}_{when}"] = None if value is None else round(float(value), 2)
    return out
