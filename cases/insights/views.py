"""Insight pages for managers: the loop metrics table, the journey map,
journey and touchpoint scores over time, root causes and the chain of CX
value. The numbers come from cases.insights.queries (the functions the API
calls too); these views parse the query, scope the data with the
selectors and render."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, timedelta
from functools import wraps

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from cases.insights import pillars as loyalty
from cases.insights import queries as insights
from cases.insights.charts import Sample, bar_chart, line_chart, nice_ceiling
from cases.insights.loop import GROUPS, PERIODS
from cases.insights.params import MetricsQuerySerializer, PillarsQuerySerializer
from cases.models import Case
from cases.selectors import cases_visible_to, is_manager
from cvx_site.csv_export import csv_export, csv_response
from feedback.analytics import few_responses, min_responses, share_margin
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
# The page's table: fewer, wider cells so that it fits a laptop's width. Each
# cell is one figure (a key of METRIC_COLUMNS, whose label heads it) and, in
# small print under it, the figures that qualify it (format, key); counts of
# exceptions (EXCEPTIONS) only when there are some.
EXCEPTIONS = {"unreachable", "fcr_pending"}
METRIC_CELLS = [
    ("cases", []),
    ("resolved", [("{} unreachable", "unreachable")]),
    ("first_contact_median_h", [("p90 {}", "first_contact_p90_h")]),
    ("resolution_median_h", [("p90 {}", "resolution_p90_h")]),
    ("sla_met_pct", [("n {}", "resolved")]),
    ("fcr", [("±{}", "fcr_margin"), ("n {}", "fcr_n"), ("{} not yet decidable", "fcr_pending")]),
    ("aht_minutes", [("±{}", "aht_margin"), ("n {}", "aht_n")]),
    ("aht_case_minutes", [("±{}", "aht_case_margin"), ("n {}", "aht_case_n")]),
    ("follow_up_response_rate", [("of {}", "followed_up")]),
    ("recovery_rate", [("n {}", "responded")]),
    ("nps_change", []),
    ("csat_change", []),
]
# Loop metrics over time: (title, figure, its n, its margin, unit); shares in %.
LOOP_CHARTS = [
    ("SLA met %", "sla_met_pct", "resolved", None, "%"),
    ("FCR %", "fcr", "fcr_n", "fcr_margin", "%"),
    ("AHT per contact, minutes", "aht_minutes", "aht_n", "aht_margin", ""),
    ("Recovery %", "recovery_rate", "responded", "recovery_margin", "%"),
]
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


# What `include_drafts` adds: every journey that is not live (journeys.selectors).
DRAFTS_LABEL = "Include draft and archived journeys (future-state designs, inactive and archived journeys)"


def _drafts_field() -> forms.BooleanField:
    return forms.BooleanField(required=False, label=DRAFTS_LABEL)


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
    group_by = query.validated_data.get("group_by") if not errors else None
    names = _group_names(group_by, [row["group"] for row in rows]) if group_by else {}
    labels = dict(METRIC_COLUMNS)
    return render(
        request,
        "cases/metrics.html",
        {
            "table": table,
            "columns": METRIC_COLUMNS,
            "headers": [labels[key] for key, _ in METRIC_CELLS],
            "rows": [
                {
                    "name": names.get(row.get("group"), row.get("group")),
                    "period": row.get("period"),
                    "cells": [_cell(row, key, details, labels[key]) for key, details in METRIC_CELLS],
                }
                for row in rows
            ],
            "group_by": group_by,
            "group_label": (group_by or "").replace("_", " ").capitalize(),
            "min_responses": min_responses(),
            "charts": [] if errors else _loop_charts(request.user, query.validated_data),
            "errors": errors,
            "params": request.GET,
            "groups": list(GROUPS),
            "periods": list(PERIODS),
            "nav_section": "metrics",
            "query": request.GET.urlencode(),
            "fcr_days": settings.CVX_FCR_REPEAT_DAYS,
        },
    )


def _group_names(group_by: str, keys: list) -> dict:
    """What people call each group of the loop rows, by the key the rows (and
    the API) carry: a team's, touchpoint's or journey's name for its slug, a
    person's full name for their username. Two groups of the same name keep
    their key beside it, so that neither is mistaken for the other."""
    relation, _, field = GROUPS[group_by].partition("__")
    model = Case._meta.get_field(relation).related_model
    found = {}
    for obj in model.objects.filter(**{f"{field}__in": [k for k in keys if k is not None]}):
        full_name = obj.get_full_name() if hasattr(obj, "get_full_name") else ""
        found[getattr(obj, field)] = full_name or getattr(obj, "name", None) or getattr(obj, field)
    counts = Counter(found.values())
    return {key: name if counts[name] == 1 or name == key else f"{name} ({key})" for key, name in found.items()}


def _cell(row: dict, key: str, details: list[tuple[str, str]], label: str) -> dict:
    """One cell of the metrics table: its figure and the qualifying figures that have a value."""
    return {
        "label": label,
        "value": row.get(key),
        "details": [
            text.format(row[k]) for text, k in details if row.get(k) is not None and (row[k] or k not in EXCEPTIONS)
        ],
    }


def _loop_charts(user, query: dict) -> list[tuple[str, str]]:
    """Loop metrics per period (the page's period, by default weeks) over the
    last insights.SERIES_LENGTH periods up to `until`, not before `since`, of
    the cases the page counts, as line charts with each point's n and margin."""
    granularity = query.get("period") or "week"
    end = query.get("until") or timezone.localdate()
    starts = insights.period_starts(granularity, today=end)
    if query.get("since"):
        first = insights.period_starts(granularity, today=query["since"], count=1)[0]
        starts = [start for start in starts if start >= first] or starts[-1:]
    rows = insights.loop_rows(
        user,
        since=max(starts[0], query.get("since") or starts[0]),
        until=end,
        period=granularity,
        include_drafts=query.get("include_drafts", False),
    )
    found = {timezone.localtime(row["period"]).date(): row for row in rows}
    series = [found.get(start, {}) for start in starts]
    labels = [insights.period_label(start, granularity) for start in starts]
    for row in series:
        if row:
            row["recovery_margin"] = share_margin(row["recovered"], row["responded"])
    per = f"per {granularity}, last {len(starts)}"
    charts = []
    for title, key, n_key, margin_key, unit in LOOP_CHARTS:
        values = [row.get(key) for row in series]
        top = 100 if unit == "%" else nice_ceiling(max([v for v in values if v is not None] or [0]))
        charts.append(
            (
                title,
                line_chart(
                    list(zip(labels, values)),
                    y_min=0,
                    y_max=top,
                    unit=unit,
                    title=f"{title} {per}",
                    samples=[
                        Sample(row.get(n_key) or 0, row.get(margin_key), few_responses(row.get(n_key) or 0))
                        for row in series
                    ],
                ),
            )
        )
    return charts


@managers_only
def index(request):
    # Journeys that are not live (drafts, archived ones) only when asked for.
    include_drafts = _drafts_field().clean(request.GET.get("include_drafts"))
    journeys = journeys_visible_to(request.user).order_by("position", "name")
    if not include_drafts:
        journeys = journeys.filter(live_condition())
    return render(
        request,
        "insights/index.html",
        {
            "journeys": journeys,
            "include_drafts": include_drafts,
            "drafts_label": DRAFTS_LABEL,
            "nav_section": "insights",
        },
    )


@managers_only
def journey_map(request, slug: str):
    journey = _journey_for(request.user, slug)
    query, errors = _query(MapQuery, request, {"period": 30})
    archiving = insights.journey_archiving(request.user, journey)
    stages = insights.journey_map(
        journey,
        feedback_visible_to(request.user),
        cases_visible_to(request.user),
        days=query["period"],
        now=archiving.at if archiving else None,
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
            "archiving": archiving,
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
            "archiving": insights.journey_archiving(request.user, journey),
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
            "drafts_label": DRAFTS_LABEL,
            "errors": errors,
            "total": sum(row["cases"] for row in rows),
            "nav_section": "insights",
        },
    )


PILLAR_COLUMNS = [
    "subject",
    "since",
    "until",
    "pillar",
    "measure",
    "value",
    "n",
    "margin",
    "few",
    "mean",
    "previous_since",
    "previous_until",
    "previous",
    "previous_n",
    "previous_margin",
    "previous_few",
    "change",
    "clear",
    "moved_most",
]


@csv_export
@managers_only
def pillars(request):
    """The loyalty pillars of one journey, touchpoint or team (GET
    /api/v1/pillars/'s figures), and a journey's value dimensions."""
    query = PillarsQuerySerializer(data=request.GET)
    context = {
        "nav_section": "insights",
        "params": request.GET,
        "pickers": [
            ("journey", journeys_visible_to(request.user).filter(live_condition()).order_by("position", "name")),
            ("team", loyalty.visible_teams(request.user).order_by("name")),
        ],
        "min_responses": min_responses(),
        "since": request.GET.get("since", ""),
        "until": request.GET.get("until", ""),
    }
    if not query.is_valid():
        errors = [f"{name}: {' '.join(map(str, messages))}" for name, messages in query.errors.items()]
        return render(request, "insights/pillars.html", {**context, "errors": errors}, status=400)
    params = query.validated_data
    subject = loyalty.subject_for(request.user, params["kind"], params["slug"], include_drafts=params["include_drafts"])
    if subject is None:
        raise Http404(f"No such {params['kind']}, or not one of your teams'.")
    figures = loyalty.pillars(subject, params["period"])
    if request.GET.get("download") == "csv":
        rows = [
            {
                **row,
                "subject": subject.name,
                "pillar": row["name"],
                **{key: figures[key] for key in ("since", "until", "previous_since", "previous_until")},
                "moved_most": row["key"] == figures["moved_most"],
            }
            for row in figures["pillars"]
        ]
        return csv_response(f"cvx-pillars-{subject.kind}-{subject.slug}.csv", PILLAR_COLUMNS, rows)
    dimensions = (
        loyalty.value_dimensions(request.user, subject, params["period"]) if subject.kind == "journey" else None
    )
    moved = next((row for row in figures["pillars"] if row["key"] == figures["moved_most"]), None)
    return render(
        request,
        "insights/pillars.html",
        {
            **context,
            "subject": subject,
            "figures": figures,
            "moved": moved,
            "dimensions": dimensions,
            "query": request.GET.urlencode(),
            "since": figures["since"].isoformat(),
            "until": figures["until"].isoformat(),
        },
    )
