"""What one person's weekly digest holds, read with that person's access
rules: the pillars of their teams for the week (from the insights' own
score and loop rows, so every figure equals the insight pages' and the
metrics API's for the same days), the cases that breached an SLA and those
closed not recovered in the week, the topics of the week's negative
feedback, the weekly score charts, and a link to each page. Reads only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from cases.choices import CaseOutcome
from cases.insights import queries as insights
from cases.insights.charts import Sample, line_chart
from cases.models import Case
from cases.selectors import ALL_CASES, case_scope, cases_visible_to
from feedback.analytics import few_responses, responses_between, scored, week_start
from feedback.choices import SentimentLabel
from feedback.scores import CES_RANGE, VES_RANGE
from feedback.selectors import feedback_visible_to
from feedback.themes import TopicFigures, topic_figures
from journeys.models import Team
from journeys.selectors import live_condition, teams_of

# How many cases of each list and how many topics the digest names; the
# counts are always complete, and the links lead to the rest.
LISTED = 10
TOPICS = 5
CHART_WEEKS = 8


@dataclass(frozen=True)
class Pillar:
    """One pillar's figure for the week: its value, n, 95 % margin (None:
    none) and whether n is too few to read; `detail` says more (a mean)."""

    name: str
    value: float | None
    unit: str
    n: int
    margin: float | None
    detail: str = ""

    @property
    def few(self) -> bool:
        return few_responses(self.n)

    @property
    def figure(self) -> str:
        """The value with its margin, as the insight pages write it; "no
        figure yet" without one."""
        if self.value is None:
            return "no figure yet"
        margin = "" if self.margin is None else f" ± {self.margin}"
        return f"{self.value}{self.unit}{margin}"

    @property
    def sample(self) -> str:
        """n, "few responses" below CVX_MIN_RESPONSES, and the detail."""
        parts = (
            [f"n = {self.n}"]
            + (["few responses"] if self.few and self.n else [])
            + ([self.detail] if self.detail else [])
        )
        return ", ".join(parts)


@dataclass
class Digest:
    user: object
    week: date  # its Monday
    last_day: date  # its Sunday
    overall: list[Pillar]
    teams: list[tuple[Team, list[Pillar]]]
    breaches: list[Case]
    breach_count: int
    not_recovered: list[Case]
    not_recovered_count: int
    topics: list[TopicFigures]
    charts: list[tuple[str, str, list[dict]]]  # (name, inline SVG, the weekly rows it draws)
    links: dict[str, str] = field(default_factory=dict)


def digest_week(today: date | None = None) -> date:
    """The Monday of the last whole week before `today` (default: today, local)."""
    today = today or timezone.localdate()
    return week_start(today) - timedelta(days=7)


def url(name: str, *args, query: dict | None = None) -> str:
    """The absolute address of a page, from CVX_BASE_URL."""
    path = reverse(name, args=args)
    return settings.CVX_BASE_URL.rstrip("/") + path + (f"?{urlencode(query)}" if query else "")


def pillars(scores: dict, loop: dict) -> list[Pillar]:
    """CSAT, FCR, CES, VES and NPS of one score row and one loop row of the
    insights (`score_rows`, `loop_rows`), each with its n and margin. CES
    and VES are their good shares (low effort, enhanced), which have a
    margin; their means are the detail."""

    def mean(value) -> str:
        return "" if value is None else f"mean {value}"

    return [
        Pillar("CSAT", scores.get("csat_pct"), "%", scores.get("csat_n", 0), scores.get("csat_margin")),
        Pillar("FCR", loop.get("fcr"), "%", loop.get("fcr_n", 0), loop.get("fcr_margin")),
        Pillar(
            "CES low effort",
            scores.get("ces_low_effort_pct"),
            "%",
            scores.get("ces_n", 0),
            scores.get("ces_low_effort_margin"),
            mean(scores.get("ces_mean")),
        ),
        Pillar(
            "VES enhanced",
            scores.get("ves_enhanced_pct"),
            "%",
            scores.get("ves_n", 0),
            scores.get("ves_enhanced_margin"),
            mean(scores.get("ves")),
        ),
        Pillar("NPS", scores.get("nps"), "", scores.get("nps_n", 0), scores.get("nps_margin")),
    ]


def digest_teams(user) -> QuerySet[Team]:
    """Whose pillars the digest shows: every team for those who see every
    case (CX admins), else the user's own teams (journeys.selectors.teams_of)."""
    teams = Team.objects.all() if case_scope(user) == ALL_CASES else teams_of(user)
    return teams.order_by("name", "pk")


def digest_for(user, *, week: date) -> Digest:
    """The digest of the week starting on Monday `week`, as `user` may see it."""
    last = week + timedelta(days=6)
    days = {"since": week, "until": last}
    overall = pillars((insights.score_rows(user, **days) or [{}])[0], (insights.loop_rows(user, **days) or [{}])[0])
    scores = {row["group"]: row for row in insights.score_rows(user, group_by="team", **days) or []}
    loop = {row["group"]: row for row in insights.loop_rows(user, group_by="team", **days)}
    teams = [(team, pillars(scores.get(team.slug, {}), loop.get(team.slug, {}))) for team in digest_teams(user)]
    cases = insights.without_drafts(cases_visible_to(user))
    start, end = insights.start_of(week), insights.start_of(last + timedelta(days=1))
    breaches = cases.filter(
        Q(first_contact_breached_at__gte=start, first_contact_breached_at__lt=end)
        | Q(resolution_breached_at__gte=start, resolution_breached_at__lt=end)
    ).order_by("due_at", "pk")
    not_recovered = cases.filter(outcome=CaseOutcome.NOT_RECOVERED, closed_at__gte=start, closed_at__lt=end).order_by(
        "-closed_at", "-pk"
    )
    responses = scored(feedback_visible_to(user).filter(live_condition("touchpoint__stage__journey")))
    negative = responses_between(responses, week, last).filter(sentiment_label=SentimentLabel.NEGATIVE)
    return Digest(
        user=user,
        week=week,
        last_day=last,
        overall=overall,
        teams=teams,
        breaches=_linked(breaches),
        breach_count=breaches.count(),
        not_recovered=_linked(not_recovered),
        not_recovered_count=not_recovered.count(),
        topics=topic_figures(negative, top=TOPICS),
        charts=_charts(responses, last),
        links=_links(week, last),
    )


def _linked(cases: QuerySet[Case]) -> list[Case]:
    """The first LISTED of `cases`, each with `link`: its page's address."""
    listed = list(cases.select_related("touchpoint", "team", "owner")[:LISTED])
    for case in listed:
        case.link = url("cases:detail", case.pk)
    return listed


def _charts(responses, last: date) -> list[tuple[str, str, list[dict]]]:
    """The insight pages' weekly score charts over the last CHART_WEEKS weeks."""
    series = insights.score_series(responses, "week", today=last, count=CHART_WEEKS)
    per = f"per week, last {len(series)}"
    charts = []
    for name, value, n, margin, few, low, high, unit in (
        ("NPS", "nps", "nps_n", "nps_margin", "nps_few", -100, 100, ""),
        ("CSAT %", "csat_pct", "csat_n", "csat_margin", "csat_few", 0, 100, "%"),
        ("CES mean", "ces_mean", "ces_n", None, "ces_few", *CES_RANGE, ""),
        ("VES mean", "ves", "ves_n", None, "ves_few", *VES_RANGE, ""),
    ):
        svg = line_chart(
            [(row["label"], row[value]) for row in series],
            y_min=low,
            y_max=high,
            unit=unit,
            title=f"{name} {per}",
            samples=[Sample(row[n], row[margin] if margin else None, row[few]) for row in series],
        )
        rows = [
            {"label": row["label"], "value": row[value], "n": row[n], "margin": row[margin] if margin else None}
            for row in series
        ]
        charts.append((name, svg, rows))
    return charts


def _links(week: date, last: date) -> dict[str, str]:
    period = {"since": week.isoformat(), "until": last.isoformat()}
    return {
        "metrics": url("cases:metrics", query={"group_by": "team", **period}),
        "insights": url("cases:insights"),
        "root_causes": url("cases:insights-root-causes", query=period),
        "breached": url("cases:queue", "all", query={"breached": "true"}),
        "settings": url("cases:notification-settings"),
    }
