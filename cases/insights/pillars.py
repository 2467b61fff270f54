"""The loyalty pillars side by side, and scores by value dimension. Reads only.

A subject is one journey, touchpoint or team the user may see (the apps'
selectors decide: `touchpoints_visible_to`, `cases_visible_to`). Its pillars
are CSAT, FCR, CES, VES and NPS over one period, each with its n, 95% margin
and "few responses" flag, beside the previous period of equal length, and
the pillar that moved most: of the pillars whose change is clear
(`feedback.analytics.clear_change`), the largest change in points. Every
pillar is a share in percent or NPS points, so their changes compare.

No figure is computed here: scores come from `feedback.analytics`'s summary
read, FCR from `cases.insights.loop.loop_metrics`, topics from
`feedback.themes.topic_figures`; this module picks and sets them side by side.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from cases.insights.loop import loop_metrics
from cases.insights.queries import opened_between, without_drafts
from cases.models import Case
from cases.selectors import cases_visible_to
from feedback.analytics import (
    clear_change,
    few_responses,
    responses_between,
    score_metrics_from_summary,
    scored,
)
from feedback.choices import SentimentLabel
from feedback.selectors import (
    feedback_visible_to,
    journeys_visible_to,
    sees_all_feedback,
    touchpoints_visible_to,
)
from feedback.themes import topic_figures
from journeys.choices import ValueDimension
from journeys.models import Journey, Team, Touchpoint
from journeys.selectors import live_condition, teams_of

SUBJECTS = ("journey", "touchpoint", "team")
DEFAULT_DAYS = 30
TOP_TOPICS = 5
# Each pillar: its name, what its value is, and its (value, n, margin) keys in
# the row it is read from (a score row of feedback.analytics, or a loop row).
PILLARS = (
    ("csat", "CSAT", "CSAT answers scoring 4-5, %", ("csat_pct", "csat_n", "csat_margin")),
    ("fcr", "FCR", "First-contact resolution, % of decidable resolved cases", ("fcr", "fcr_n", "fcr_margin")),
    ("ces", "CES", "CES answers scoring 5-7 (low effort), %", ("ces_low_effort_pct", "ces_n", "ces_low_effort_margin")),
    ("ves", "VES", "VES answers scoring 4-5 (value enhanced), %", ("ves_enhanced_pct", "ves_n", "ves_enhanced_margin")),
    ("nps", "NPS", "% promoters minus % detractors", ("nps", "nps_n", "nps_margin")),
)
PILLAR_KEYS = tuple(key for key, *_rest in PILLARS)  # one choice set (the API's PillarEnum)
# The means beside their pillar's share, for reading (they have no margin yet).
MEANS = {"ces": "ces_mean", "ves": "ves"}
# Score figures reported per value dimension: (value, n, margin, few) keys of a score row.
DIMENSION_SCORES = (
    ("nps", "nps", "nps_n", "nps_margin", "nps_few"),
    ("csat", "csat_pct", "csat_n", "csat_margin", "csat_few"),
    ("ces", "ces_low_effort_pct", "ces_n", "ces_low_effort_margin", "ces_few"),
    ("ves", "ves_enhanced_pct", "ves_n", "ves_enhanced_margin", "ves_few"),
)


@dataclass(frozen=True)
class Subject:
    """What the pillars are of: `kind` (journey, touchpoint or team), its
    slug and name, the touchpoints whose feedback counts and the cases
    whose FCR counts, both already scoped to the user."""

    kind: str
    slug: str
    name: str
    touchpoints: QuerySet[Touchpoint]
    cases: QuerySet[Case]
    journey: Journey | None = None


@dataclass(frozen=True)
class Period:
    since: date
    until: date

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1

    def before(self) -> Period:
        """The period of equal length just before this one."""
        return Period(self.since - timedelta(days=self.days), self.since - timedelta(days=1))


def default_period(today: date | None = None) -> Period:
    """The last DEFAULT_DAYS UTC days, today included."""
    today = today or timezone.now().astimezone(UTC).date()
    return Period(today - timedelta(days=DEFAULT_DAYS - 1), today)


def period_of(since: date | None, until: date | None) -> Period:
    """The period the query asked for: a missing end is DEFAULT_DAYS from the other, or from today."""
    if since and until:
        return Period(since, until)
    if since:
        return Period(since, since + timedelta(days=DEFAULT_DAYS - 1))
    if until:
        return Period(until - timedelta(days=DEFAULT_DAYS - 1), until)
    return default_period()


def visible_teams(user) -> QuerySet[Team]:
    """Teams whose pillars `user` may read: every team for those who see all
    feedback (CX admins, integrations), their own teams for anyone else."""
    return Team.objects.all() if sees_all_feedback(user) else teams_of(user)


def subject_for(user, kind: str, slug: str, *, include_drafts: bool = False) -> Subject | None:
    """The journey, touchpoint or team `slug` (by `kind`) as the user may
    see it; None when there is none or it is not the user's. Touchpoints of
    draft journeys count only when `include_drafts` (as elsewhere in insights)."""
    if kind not in SUBJECTS:
        raise ValueError(f"kind must be one of {SUBJECTS}, not {kind!r}")
    if "\x00" in slug:  # in no slug, and PostgreSQL fails a query that holds one
        return None
    touchpoints = touchpoints_visible_to(user)
    cases = without_drafts(cases_visible_to(user), include_drafts)
    journey = None
    if kind == "journey":
        journey = journeys_visible_to(user).filter(slug=slug).first()
        if journey is None:
            return None
        touchpoints, name = touchpoints.filter(stage__journey=journey), journey.name
        cases = cases.filter(touchpoint__in=touchpoints)
    elif kind == "touchpoint":
        touchpoint = touchpoints.filter(slug=slug).select_related("stage__journey").first()
        if touchpoint is None:
            return None
        touchpoints, name, journey = touchpoints.filter(pk=touchpoint.pk), touchpoint.name, touchpoint.stage.journey
        cases = cases.filter(touchpoint=touchpoint)
    else:
        team = visible_teams(user).filter(slug=slug).first()
        if team is None:
            return None
        touchpoints, name = touchpoints.filter(team=team), team.name
        cases = cases.filter(team=team)
    if not include_drafts:
        touchpoints = touchpoints.filter(live_condition("stage__journey"))
    return Subject(kind, slug, name, touchpoints, cases, journey)


def _scores(touchpoints: QuerySet[Touchpoint], period: Period) -> dict:
    return score_metrics_from_summary(touchpoints, since=period.since, until=period.until)[0]


def _fcr(cases: QuerySet[Case], period: Period) -> dict:
    rows = loop_metrics(opened_between(cases, period.since, period.until))
    return rows[0] if rows else {"fcr": None, "fcr_n": 0, "fcr_margin": None}


def _figures(subject: Subject, period: Period) -> dict:
    """The score row and the FCR figures of `subject` in `period`, as one mapping."""
    return {**_scores(subject.touchpoints, period), **_fcr(subject.cases, period)}


def pillars(subject: Subject, period: Period) -> dict:
    """The pillars of `subject` in `period` and in the period before.

    `pillars`: one row per pillar (CSAT, FCR, CES, VES, NPS) with `key`,
    `name`, `measure`, `value`, `n`, `margin`, `few`, the same of the previous
    period (`previous`, `previous_n`, `previous_margin`, `previous_few`),
    `change` (value minus previous, 1 decimal; None without both) and
    `clear` (`clear_change`); `mean` for CES and VES. `moved_most`: the key
    of the pillar with the largest clear change (the first in pillar order
    on a tie), None when no change is clear."""
    previous = period.before()
    now, before = _figures(subject, period), _figures(subject, previous)
    rows = [pillar_row(spec, now, before) for spec in PILLARS]
    return {
        "kind": subject.kind,
        "slug": subject.slug,
        "name": subject.name,
        "since": period.since,
        "until": period.until,
        "previous_since": previous.since,
        "previous_until": previous.until,
        "pillars": rows,
        "moved_most": moved_most(rows),
    }


def moved_most(rows: list[dict]) -> str | None:
    """The key of the pillar row with the largest clear change (|change| in
    points; the first in `rows` on a tie); None when no change is clear."""
    moved = None
    for row in rows:
        if row["clear"] and (moved is None or abs(row["change"]) > abs(moved["change"])):
            moved = row
    return moved and moved["key"]


def pillar_row(spec: tuple, now: dict, before: dict) -> dict:
    """One pillar (`spec`, one of PILLARS) from the figures of this period
    (`now`) and the one before: see `pillars`."""
    key, name, measure, (value_key, n_key, margin_key) = spec
    value, n, margin = now.get(value_key), now.get(n_key) or 0, now.get(margin_key)
    earlier, earlier_n, earlier_margin = before.get(value_key), before.get(n_key) or 0, before.get(margin_key)
    change = round(value - earlier, 1) if value is not None and earlier is not None else None
    return {
        "key": key,
        "name": name,
        "measure": measure,
        "value": value,
        "n": n,
        "margin": margin,
        "few": few_responses(n),
        "mean": now.get(MEANS[key]) if key in MEANS else None,
        "previous": earlier,
        "previous_n": earlier_n,
        "previous_margin": earlier_margin,
        "previous_few": few_responses(earlier_n),
        "change": change,
        "clear": clear_change(change, (n, margin), (earlier_n, earlier_margin)),
    }


# --- value dimensions --------------------------------------------------------------


def value_dimensions(user, subject: Subject, period: Period, *, top: int = TOP_TOPICS) -> list[dict]:
    """Per value dimension (functional, economic, experiential, symbolic, in
    that order): the subject's touchpoints that serve it (a touchpoint in
    two dimensions counts in both), their NPS, CSAT, CES and VES in `period`
    (each with n, margin and few) and their `top` topics of negative
    feedback, most negative responses first."""
    by_dimension: dict[str, list[Touchpoint]] = {value: [] for value in ValueDimension.values}
    # Read in Python: the JSON list's `contains` lookup has no SQLite form.
    for touchpoint in subject.touchpoints.order_by("stage__position", "position", "id"):
        for dimension in touchpoint.value_dimensions or ():
            if dimension in by_dimension:
                by_dimension[dimension].append(touchpoint)
    feedback = responses_between(scored(feedback_visible_to(user)), period.since, period.until)
    rows = []
    for value, label in ValueDimension.choices:
        members = by_dimension[value]
        ids = [tp.pk for tp in members]
        figures = _scores(Touchpoint.objects.filter(pk__in=ids), period)
        negative = feedback.filter(touchpoint__in=ids, sentiment_label=SentimentLabel.NEGATIVE)
        row = {
            "dimension": value,
            "label": label,
            "touchpoints": [{"slug": tp.slug, "name": tp.name} for tp in members],
            "responses": figures["responses"],
            "topics": [
                {"topic": t.name, "negative": t.volume} for t in (topic_figures(negative, top=top) if ids else [])
            ],
        }
        for key, value_key, n_key, margin_key, few_key in DIMENSION_SCORES:
            row[key] = figures[value_key]
            row[f"{key}_n"], row[f"{key}_margin"], row[f"{key}_few"] = (
                figures[n_key],
                figures[margin_key],
                figures[few_key],
            )
        row["ces_mean"], row["ves_mean"] = figures["ces_mean"], figures["ves"]
        rows.append(row)
    return rows
