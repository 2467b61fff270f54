"""Insight pages for managers: the loop metrics table, the journey map,
journey and touchpoint scores over time, root causes and the chain of CX
value. The numbers come from cases.insights.queries (the functions the API
calls too); these views parse the query, scope the data with the
selectors and render."""

from __future__ import annotations

from datetime import UTC, timedelta
from functools import wraps

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from cases.insights import queries as insights
from cases.insights.charts import Sample, bar_chart, line_chart
from cases.insights.loop import GROUPS, PERIODS
from cases.insights.params import MetricsQuerySerializer
from cases.selectors import cases_visible_to, is_manager
from cvx_site.csv_export import csv_export, csv_response
from feedback.analytics import min_responses
from feedback.scores import (
    CES_HIGH_EFFORT_MAX,
    CES_LOW_EFFORT_MIN,
    CES_RANGE,
    CSAT_DISSATISFIED_MAX,
    CSAT_RANGE,
    CSAT_SATISFIED_MIN,
    DETRACTOR_MAX,
    NPS_RANGE,
    PROMOTER_MIN,
    VES_ENHANCED_MIN,
    VES_LOW_MAX,
    VES_RANGE,
    Band,
    band_text,
    scores_in,
)
from feedback.selectors import feedback_visible_to, journeys_visible_to, touchpoints_visible_to
from feedback.themes import topic_figures, unassigned_terms
from journeys.models import Journey
from journeys.selectors import journey_is_live, live_condition

ROOT_CAUSE_DAYS = 90
SERIES_COLUMNS = ["period", *insights.EMPTY_SCORES]
METRIC_COLUMNS = [
    ("cases", "Cases"),
    ("resolved", "Resolved"),
    ("unreachable", "Unreachable"),
    ("first_contact_median_h", "1st contact median h"),
    ("first_contact_p90_h", "1st contact p90 h"),
    ("resolution_median_h", "Resolution median h"),
    ("resolution_p90_h", "Resolution p90 h"),
    ("sla_met_pct", "SLA met %"),
    ("fcr", "FCR %"),
    ("fcr_n", "FCR n"),
    ("fcr_pending", "FCR not yet decidable"),
    ("aht_minutes", "AHT per contact min"),
    ("aht_n", "AHT contacts n"),
    ("aht_case_minutes", "AHT per case min"),
    ("aht_case_n", "AHT cases n"),
    ("follow_up_response_rate", "Follow-up response %"),
    ("recovery_rate", "Recovery %"),
    ("nps_change", "NPS change"),
    ("csat_change", "CSAT change"),
]
# In the CSV beside the table's columns: 95% margins of error.
METRIC_MARGINS = ["fcr_margin", "aht_margin", "aht_case_margin"]
PARETO_COLUMNS = [
    "root_cause",
    "cases",
    "share_pct",
    "cumulative_pct",
    "answered",
    "recovered",
    "recovery_rate",
    "touchpoints",
    "recovered_notes",
]
RED, AMBER, GREEN = "#c4320a", "#b8860b", "#15803d"


def _band_colours(scale: Band, red_max: int, green_min: int) -> list[str]:
    return [RED if score <= red_max else GREEN if score >= green_min else AMBER for score in scores_in(scale)]


# Bar colours: detractor / passive / promoter; dissatisfied / neutral / satisfied; high effort / low effort.
NPS_COLOURS = _band_colours(NPS_RANGE, DETRACTOR_MAX, PROMOTER_MIN)
CSAT_COLOURS = _band_colours(CSAT_RANGE, CSAT_DISSATISFIED_MAX, CSAT_SATISFIED_MIN)
CES_COLOURS = _band_colours(CES_RANGE, CES_HIGH_EFFORT_MAX, CES_LOW_EFFORT_MIN)
VES_COLOURS = _band_colours(VES_RANGE, VES_LOW_MAX, VES_ENHANCED_MIN)


class MapQuery(forms.Form):
    period = forms.TypedChoiceField(
        choices=[(d, f"{d} days") for d in insights.MAP_DAYS], coerce=int, required=False, empty_value=30
    )


class SeriesQuery(forms.Form):
    granularity = forms.ChoiceField(choices=[(g, g.capitalize()) for g in insights.GRANULARITIES], required=False)


def _drafts_field() -> forms.BooleanField:
    return forms.BooleanField(required=False, label="Include draft journeys (future state, inactive)")


class PeriodQuery(forms.Form):
    since = forms.DateField(required=False, label="Resolved from")
    until = forms.DateField(required=False, label="to")
    include_drafts = _drafts_field()

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", "Must not be before the start.")
        return data


def _query(form_class, request, fallback: dict) -> tuple[dict, list[str]]:
    """The cleaned query; the fallback values and the messages when it is invalid."""
    form = form_class(request.GET)
    if form.is_valid():
        return {k: v or fallback.get(k) for k, v in form.cleaned_data.items()}, []
    messages = [
        f"{form.fields[name].label or name.capitalize()}: {' '.join(errors)}" for name, errors in form.errors.items()
    ]
    return fallback, [*messages, "Showing the default view instead."]


def managers_only(view):
    """Log in first; then team leads and CX admins only (403 for anyone else)."""

    @login_required
    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not is_manager(request.user):
            raise PermissionDenied("Only team leads and CX admins see this page.")
        return view(request, *args, **kwargs)

    return guarded


def _journey_for(user, slug: str) -> Journey:
    journey = journeys_visible_to(user).filter(slug=slug).first()
    if journey is None:
        raise Http404("No such journey, or none of its touchpoints is yours.")
    return journey


@csv_export
@managers_only
def metrics(request):
    """The loop metrics table: the `loop` rows of GET /api/v1/metrics/."""
    query = MetricsQuerySerializer(data=request.GET)
    rows, errors = [], {}
    if query.is_valid():
        rows = insights.loop_rows(request.user, **query.validated_data)
    else:
        errors = query.errors
    if request.GET.get("download") == "csv" and not errors:
        columns = ["group", "period", *[k for k, _ in METRIC_COLUMNS], *METRIC_MARGINS]
        return csv_response("cvx-loop-metrics.csv", columns, rows)
    table = [(row.get("group"), row.get("period"), [row.get(k) for k, _ in METRIC_COLUMNS]) for row in rows]
    return render(
        request,
        "cases/metrics.html",
        {
            "table": table,
            "columns": METRIC_COLUMNS,
            "errors": errors,
            "params": request.GET,
            "groups": list(GROUPS),
            "periods": list(PERIODS),
            "nav_section": "metrics",
            "query": request.GET.urlencode(),
            "fcr_days": settings.CVX_FCR_REPEAT_DAYS,
        },
    )


@managers_only
def index(request):
    # Draft journeys (future-state designs, inactive ones) only when asked for.
    include_drafts = _drafts_field().clean(request.GET.get("include_drafts"))
    journeys = journeys_visible_to(request.user).order_by("position", "name")
    if not include_drafts:
        journeys = journeys.filter(live_condition())
    return render(
        request,
        "insights/index.html",
        {"journeys": journeys, "include_drafts": include_drafts, "nav_section": "insights"},
    )


@managers_only
def journey_map(request, slug: str):
    journey = _journey_for(request.user, slug)
    query, errors = _query(MapQuery, request, {"period": 30})
    stages = insights.journey_map(
        journey, feedback_visible_to(request.user), cases_visible_to(request.user), days=query["period"]
    )
    linked = set(touchpoints_visible_to(request.user).values_list("pk", flat=True))
    for stage in stages:
        for card in stage["cards"]:
            card["linked"] = card["touchpoint"].pk in linked
    return render(
        request,
        "insights/journey_map.html",
        {
            "journey": journey,
            "live": journey_is_live(journey),
            "stages": stages,
            "days": query["period"],
            "choices": insights.MAP_DAYS,
            "errors": errors,
            "nav_section": "insights",
            "bands": insights.HEAT_BANDS,
            "min_responses": min_responses(),
            "ves_scale": band_text("ves"),
            "ves_max": VES_RANGE[1],
        },
    )


@csv_export
@managers_only
def journey_detail(request, slug: str):
    journey = _journey_for(request.user, slug)
    responses = feedback_visible_to(request.user).filter(touchpoint__stage__journey=journey)
    scores, errors, download = _series_page(request, responses, f"journey-{journey.slug}")
    if download:
        return download
    touchpoints = (
        touchpoints_visible_to(request.user).select_related("stage__journey", "team").filter(stage__journey=journey)
    )
    return render(
        request,
        "insights/journey.html",
        {
            "journey": journey,
            "touchpoints": touchpoints,
            "errors": errors,
            "nav_section": "insights",
            **scores,
            "recovery": _recovery(request.user, "journey", journey.slug, scores["series"][0]["period"]),
        },
    )


@csv_export
@managers_only
def touchpoint_detail(request, slug: str):
    touchpoint = insights.visible_touchpoint(request.user, slug)
    if touchpoint is None:
        raise Http404("No such touchpoint, or not one of your teams'.")
    responses = feedback_visible_to(request.user).filter(touchpoint=touchpoint)
    scores, errors, download = _series_page(request, responses, f"touchpoint-{touchpoint.slug}")
    if download:
        return download
    return render(
        request,
        "insights/touchpoint.html",
        {
            "touchpoint": touchpoint,
            "errors": errors,
            "nav_section": "insights",
            **scores,
            "recovery": _recovery(request.user, "touchpoint", touchpoint.slug, scores["series"][0]["period"]),
            "cases": insights.touchpoint_cases(cases_visible_to(request.user), touchpoint, since=scores["since"]),
            "chain": insights.value_chain_of(request.user, touchpoint),
        },
    )


def _recovery(user, group_by: str, slug: str, since) -> dict:
    """The recovery row (the metrics API's `recovery`) of one journey or
    touchpoint, over the cases opened from `since` on."""
    rows = insights.recovery_rows(user, since=since, group_by=group_by)
    return next((row for row in rows if row["group"] == slug), {**insights.EMPTY_RECOVERY, "group": slug})


def _series_page(request, responses, name: str) -> tuple[dict, dict, HttpResponse | None]:
    """The scores of a journey or touchpoint page for the asked granularity,
    the query's errors, and the CSV of the series when it is asked for."""
    query, errors = _query(SeriesQuery, request, {"granularity": "week"})
    scores = _scores(responses, query["granularity"])
    download = None
    if request.GET.get("download") == "csv" and not errors:
        download = csv_response(f"cvx-{name}-{query['granularity']}.csv", SERIES_COLUMNS, scores["series"])
    return scores, errors, download


def _scores(responses, granularity: str) -> dict:
    """The time series of `responses` and its charts, the score distributions
    and the topics and unassigned terms over the same periods."""
    series = insights.score_series(responses, granularity)
    since = insights.start_of(series[0]["period"], UTC)
    window = responses.filter(occurred_at__gte=since)
    per = f"per {granularity}, last {len(series)}"
    charts = [
        (
            "NPS",
            line_chart(
                [(r["label"], r["nps"]) for r in series],
                y_min=-100,
                y_max=100,
                title=f"NPS {per}",
                samples=[Sample(r["nps_n"], r["nps_margin"], r["nps_few"]) for r in series],
            ),
        ),
        (
            "CSAT %",
            line_chart(
                [(r["label"], r["csat_pct"]) for r in series],
                y_min=0,
                y_max=100,
                unit="%",
                title=f"CSAT % {per}",
                samples=[Sample(r["csat_n"], r["csat_margin"], r["csat_few"]) for r in series],
            ),
        ),
        (
            "CES mean",
            line_chart(
                [(r["label"], r["ces_mean"]) for r in series],
                y_min=CES_RANGE[0],
                y_max=CES_RANGE[1],
                title=f"CES mean ({band_text('ces')}, {CES_RANGE[1]} = least effort) {per}",
                # The mean has no margin yet (the summary keeps no sum of squares): n and few only.
                samples=[Sample(r["ces_n"], None, r["ces_few"]) for r in series],
            ),
        ),
        (
            "VES mean",
            line_chart(
                [(r["label"], r["ves"]) for r in series],
                y_min=VES_RANGE[0],
                y_max=VES_RANGE[1],
                title=f"VES mean ({band_text('ves')}, after this I am better able to ...) {per}",
                samples=[Sample(r["ves_n"], None, r["ves_few"]) for r in series],  # as the CES mean: n and few
            ),
        ),
    ]
    distributions = [
        (
            f"{name} answers",
            bar_chart(
                insights.score_distribution(window, field, *scale),
                colours=colours,
                title=f"How many answered each {name} score, {band_text(field)}, since {series[0]['label']}",
            ),
        )
        for name, field, scale, colours in (
            ("NPS", "nps", NPS_RANGE, NPS_COLOURS),
            ("CSAT", "csat", CSAT_RANGE, CSAT_COLOURS),
            ("CES", "ces", CES_RANGE, CES_COLOURS),
            ("VES", "ves", VES_RANGE, VES_COLOURS),
        )
    ]
    themes, read = unassigned_terms(window, top=8)
    return {
        "series": series,
        "granularity": granularity,
        "granularities": insights.GRANULARITIES,
        "since": since,
        "charts": charts,
        "distributions": distributions,
        "topics": topic_figures(window),
        "themes": insights.theme_examples(window.filter(topic_links__isnull=True), themes),
        "comments_read": read,
        "min_responses": min_responses(),
    }


@csv_export
@managers_only
def root_causes(request):
    today = timezone.localdate()
    query, errors = _query(PeriodQuery, request, {"since": today - timedelta(days=ROOT_CAUSE_DAYS - 1), "until": today})
    rows = insights.root_causes_of(
        request.user, query["since"], query["until"], include_drafts=bool(query.get("include_drafts"))
    )
    if request.GET.get("download") == "csv" and not errors:
        return csv_response(
            "cvx-root-causes.csv",
            PARETO_COLUMNS,
            [
                {
                    **row,
                    "touchpoints": "; ".join(f"{t['name']} ({t['cases']})" for t in row["touchpoints"]),
                    "recovered_notes": " | ".join(f"{n['number']}: {n['summary']}" for n in row["notes"]),
                }
                for row in rows
            ],
        )
    return render(
        request,
        "insights/root_causes.html",
        {
            "rows": rows,
            "since": query["since"],
            "until": query["until"],
            "include_drafts": bool(query.get("include_drafts")),
            "errors": errors,
            "total": sum(row["cases"] for row in rows),
            "nav_section": "insights",
        },
    )
