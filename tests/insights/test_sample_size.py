"""Sample-size honesty: every score carries its n and 95% margin of error,
a figure from fewer than CVX_MIN_RESPONSES responses is muted as "few
responses", and a trend arrow is drawn only for a change above the
combined margin. The expected numbers are worked out by hand from the
formulas (issue 18), not by the code under test."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from cases.insights import queries as insights
from cases.insights.charts import Sample, line_chart
from cases.models import Case
from feedback.analytics import (
    clear_change,
    combined_margin,
    few_responses,
    nps_margin,
    score_metrics,
    score_metrics_from_summary,
    share_margin,
)
from feedback.models import FeedbackResponse
from feedback.services import feedback_ingest_many
from feedback.summaries import rebuild_daily_scores

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
MARGIN_FIELDS = ("nps_n", "nps_margin", "nps_few", "csat_n", "csat_margin", "csat_few", "ces_n", "ces_few")


def ingest(scores: list[dict], *, days_ago: int = 1, prefix: str = "s") -> None:
    at = (timezone.now() - timedelta(days=days_ago)).isoformat()
    items = [
        {"touchpoint": "fault-line", "source": "survey", "external_id": f"{prefix}{i}", "occurred_at": at, **score}
        for i, score in enumerate(scores)
    ]
    assert {o.status for o in feedback_ingest_many(items=items)} == {"created"}


def hundred() -> list[dict]:
    """40 promoters, 40 passives, 20 detractors; CSAT 4-5 from 80 of the 100."""
    nps = [10] * 40 + [8] * 40 + [3] * 20
    csat = [5] * 80 + [2] * 20
    return [{"nps": n, "csat": c} for n, c in zip(nps, csat)]


# --- the margins, by hand -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("promoters", "detractors", "n", "expected"),
    [
        # p_pro .4, p_det .2: 1.96 * sqrt((.4 + .2 - .2^2) / 100) * 100 = 1.96 * sqrt(.0056) * 100 = 14.667
        (40, 20, 100, 14.7),
        # p_pro .25, p_det .05: 1.96 * sqrt((.3 - .04) / 200) * 100 = 1.96 * .036056 * 100 = 7.067
        (50, 10, 200, 7.1),
        # all promoters: no spread at all
        (30, 0, 30, 0.0),
        # one promoter, one detractor: 1.96 * sqrt(1 / 2) * 100 = 138.59
        (1, 1, 2, 138.6),
        (0, 0, 0, None),
    ],
)
def test_nps_margin_is_the_variance_of_the_promoter_detractor_difference(promoters, detractors, n, expected):
    assert nps_margin(promoters, detractors, n) == expected


@pytest.mark.parametrize(
    ("part", "n", "expected"),
    [
        (80, 100, 7.8),  # 1.96 * sqrt(.8 * .2 / 100) * 100 = 1.96 * .04 * 100 = 7.84
        (50, 400, 3.2),  # p = .125: 1.96 * sqrt(.125 * .875 / 400) * 100 = 1.96 * .016536 * 100 = 3.24
        (1, 4, 42.4),  # p = .25: 1.96 * sqrt(.25 * .75 / 4) * 100 = 1.96 * .216506 * 100 = 42.44
        (0, 0, None),
    ],
)
def test_csat_margin_is_that_of_a_share(part, n, expected):
    assert share_margin(part, n) == expected


def test_score_rows_carry_n_and_margin_raw_and_from_the_summary(touchpoint):
    ingest(hundred())
    rebuild_daily_scores()
    [raw] = score_metrics(FeedbackResponse.objects.all())
    # NPS (40 - 20) / 100 = 20.0 ± 14.7; CSAT 80.0 % ± 7.8; no CES answers.
    assert (raw["nps"], raw["nps_n"], raw["nps_margin"], raw["nps_few"]) == (20.0, 100, 14.7, False)
    assert (raw["csat_pct"], raw["csat_n"], raw["csat_margin"], raw["csat_few"]) == (80.0, 100, 7.8, False)
    assert (raw["ces_n"], raw["ces_low_effort_margin"], raw["ces_few"]) == (0, None, True)
    assert score_metrics_from_summary(None) == [raw]


# --- few responses and the arrow, at their boundaries -------------------------------------------


def test_few_responses_is_below_the_minimum(settings):
    settings.CVX_MIN_RESPONSES = 30
    assert (few_responses(29), few_responses(30)) == (True, False)
    settings.CVX_MIN_RESPONSES = 5
    assert (few_responses(4), few_responses(5)) == (True, False)


def test_an_arrow_needs_a_change_above_the_combined_margin(settings):
    settings.CVX_MIN_RESPONSES = 30
    # Margins 3 and 4 combine to sqrt(9 + 16) = 5.
    assert combined_margin(3.0, 4.0) == 5.0
    assert clear_change(5.0, (30, 3.0), (30, 4.0)) is False  # equal to the margin: not above it
    assert clear_change(-5.0, (30, 3.0), (30, 4.0)) is False
    assert clear_change(5.1, (30, 3.0), (30, 4.0)) is True
    assert clear_change(-5.1, (30, 3.0), (30, 4.0)) is True
    # ... and enough responses on both sides: 29 is too few, whatever the change.
    assert clear_change(150.0, (29, 3.0), (30, 4.0)) is False
    assert clear_change(150.0, (30, 3.0), (29, 4.0)) is False
    assert clear_change(None, (30, 3.0), (30, 4.0)) is False


@pytest.fixture
def map_of(journey):
    def read(now=None) -> dict:
        [stage] = insights.journey_map(journey, FeedbackResponse.objects.all(), Case.objects.none(), days=30, now=now)
        [card] = stage["cards"]
        return card

    return read


def test_a_card_is_muted_below_the_minimum_and_not_at_it(settings, touchpoint, map_of, api, lead):
    settings.CVX_MIN_RESPONSES = 4
    ingest([{"nps": 10}] * 3)  # n = min - 1
    card = map_of()
    assert (card["n"], card["few"], card["margin"]) == (3, True, 0.0)
    page = api(lead).get("/cases/insights/journeys/get-connected/map/")
    assert b"tp-score few muted" in page.content and b"few responses (3)" in page.content
    ingest([{"nps": 10}], prefix="more")  # n = min
    card = map_of()
    assert (card["n"], card["few"]) == (4, False)
    page = api(lead).get("/cases/insights/journeys/get-connected/map/")
    assert b"few responses (" not in page.content and b"\xc2\xb10" in page.content  # "±0"


def test_the_card_arrow_follows_the_combined_margin(settings, touchpoint, map_of, api, lead):
    settings.CVX_MIN_RESPONSES = 2
    # The period before: 2 promoters, NPS 100 ± 0. Now: 1 promoter and 1 detractor,
    # NPS 0 ± 1.96 * sqrt(1 / 2) * 100 = 138.6: the change -100 is within sqrt(138.6^2 + 0^2).
    ingest([{"nps": 10}, {"nps": 9}], days_ago=40, prefix="before")
    ingest([{"nps": 10}, {"nps": 0}], prefix="now")
    card = map_of()
    assert (card["delta"], card["margin"], card["previous_margin"], card["trend"]) == (-100.0, 138.6, 0.0, "unclear")
    page = api(lead).get("/cases/insights/journeys/get-connected/map/")
    assert b'tp-trend trend-unclear">no clear change' in page.content and "▼".encode() not in page.content
    # Two more detractors now: 1 promoter, 3 detractors of 4: NPS -50,
    # margin 1.96 * sqrt((.25 + .75 - .25) / 4) * 100 = 84.9; -150 is beyond 84.9: an arrow.
    ingest([{"nps": 1}, {"nps": 2}], prefix="later")
    card = map_of()
    assert (card["delta"], card["margin"], card["trend"]) == (-150.0, 84.9, "down")
    page = api(lead).get("/cases/insights/journeys/get-connected/map/")
    assert "▼".encode() in page.content and b"trend-unclear" not in page.content
    # The same change from one response fewer than the minimum on a side: no arrow.
    settings.CVX_MIN_RESPONSES = 3
    assert map_of()["trend"] == "unclear"


# --- charts, API, CSV ---------------------------------------------------------------------------


def test_a_chart_point_from_few_responses_is_hollow_and_says_so():
    svg = line_chart(
        [("1 Jan", 20.0), ("8 Jan", -100.0)],
        y_min=-100,
        y_max=100,
        title="NPS",
        samples=[Sample(100, 14.7, False), Sample(1, 0.0, True)],
    )
    assert svg.count('class="few"') == 1 and "8 Jan: -100 ± 0 (n = 1, few responses)" in svg
    assert "1 Jan: 20 ± 14.7 (n = 100)" in svg and svg.count('class="margin"') == 1
    assert "1 of them from few responses (muted)" in svg


def test_the_metrics_api_returns_n_and_margin_beside_each_score(api, integration, touchpoint, settings):
    settings.CVX_MIN_RESPONSES = 30
    ingest(hundred())
    rebuild_daily_scores()
    reply = api(token=integration).get("/api/v1/metrics/", {"group_by": "touchpoint"}).json()
    assert reply["min_responses"] == 30
    [row] = reply["scores"]
    assert {k: row[k] for k in MARGIN_FIELDS} == {
        "nps_n": 100,
        "nps_margin": 14.7,
        "nps_few": False,
        "csat_n": 100,
        "csat_margin": 7.8,
        "csat_few": False,
        "ces_n": 0,
        "ces_few": True,
    }
    schema = api(token=integration).get("/api/v1/schema/", {"format": "json"}).json()
    documented = schema["components"]["schemas"]["ScoreRow"]["properties"]
    assert {*MARGIN_FIELDS, "ces_low_effort_margin"} <= documented.keys()
    assert "min_responses" in schema["components"]["schemas"]["MetricsReply"]["properties"]


def test_the_score_csv_has_the_margins(api, lead, touchpoint):
    ingest(hundred())
    reply = api(lead).get("/cases/insights/touchpoints/fault-line/", {"granularity": "month", "download": "csv"})
    lines = b"".join(reply.streaming_content).decode().splitlines()
    header = lines[0].split(",")
    assert {"nps_n", "nps_margin", "nps_few", "csat_margin"} <= set(header)
    [row] = [dict(zip(header, line.split(","))) for line in lines[1:] if line.split(",")[1] != "0"]
    assert (row["nps"], row["nps_margin"], row["csat_margin"]) == ("20.0", "14.7", "7.8")


@pytest.mark.parametrize(("value", "expected"), [("many", "expected a whole number"), ("0", "must be at least 1")])
def test_a_bad_minimum_stops_startup_naming_the_setting(tmp_path, value, expected):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_URL"))}
    env.update(CVX_DATA_DIR=str(tmp_path), DJANGO_SECRET_KEY="x" * 60, CVX_MIN_RESPONSES=value)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert f"CVX configuration error: CVX_MIN_RESPONSES: {expected}" in result.stderr
