"""The score scales and bands live in feedback.scores alone: every reader
(the SQL counters of the score figures and their summary, the Python
categorisation, validation at each entry path, routing rule bounds,
recovery, the survey form, chart colours) agrees with it for every score."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from rest_framework.exceptions import ValidationError as DrfValidationError

from cases.insights import views as insight_views
from cases.models import RoutingRule
from cases.services.follow_up import is_recovered
from feedback import scores
from feedback.analytics import score_metrics, score_metrics_from_summary
from feedback.choices import CsatBand, NpsCategory
from feedback.forms import SurveyForm
from feedback.models import FeedbackResponse
from feedback.services import CREATED, feedback_ingest_many
from feedback.summaries import rebuild_daily_scores
from feedback.validation import FeedbackInSerializer

UTC = UTC
FIRST_DAY = datetime(2025, 1, 6, 12, tzinfo=UTC)
RANGES = {"nps": scores.NPS_RANGE, "csat": scores.CSAT_RANGE, "ces": scores.CES_RANGE}
# Each field's scores on days of their own: (field, score) -> the day's offset.
DAYS = {
    key: offset
    for offset, key in enumerate((field, score) for field, band in RANGES.items() for score in scores.scores_in(band))
}


def _around(band: tuple[int, int]) -> range:
    """The band's scores and one beyond each end."""
    return range(band[0] - 1, band[1] + 2)


@pytest.fixture
def one_answer_a_day(touchpoint):
    """One response per score of each scale, each alone on its UTC day."""
    items = [
        {
            "touchpoint": touchpoint.slug,
            "source": "survey",
            "external_id": f"{field}-{score}",
            field: score,
            "occurred_at": (FIRST_DAY + timedelta(days=offset)).isoformat(),
        }
        for (field, score), offset in DAYS.items()
    ]
    assert [o.status for o in feedback_ingest_many(items=items)] == [CREATED] * len(items)
    return {offset: key for key, offset in DAYS.items()}


def _by_score(rows: list[dict], answers: dict) -> dict:
    return {answers[(row["period"] - FIRST_DAY.date()).days]: row for row in rows}


@pytest.mark.django_db
@pytest.mark.parametrize("read", ["raw", "summary"])
def test_the_sql_counters_categorise_every_score_as_the_python_does(one_answer_a_day, read):
    if read == "raw":
        rows = score_metrics(FeedbackResponse.objects.all(), period="day")
    else:
        rebuild_daily_scores()  # the refresh task runs after commit, which a test transaction never does
        rows = score_metrics_from_summary(None, period="day")
    rows = _by_score(rows, one_answer_a_day)
    assert set(rows) == set(DAYS)
    low_effort = scores.BANDS["low_effort"]
    for (field, score), row in rows.items():
        if field == "nps":
            category = scores.nps_category(score)
            assert (row["promoters"], row["detractors"]) == (
                int(category == NpsCategory.PROMOTER),
                int(category == NpsCategory.DETRACTOR),
            ), score
        elif field == "csat":
            assert row["csat_satisfied"] == int(scores.csat_band(score) == CsatBand.SATISFIED), score
        else:
            assert row["ces_low_effort_pct"] == (100.0 if low_effort[0] <= score <= low_effort[1] else 0.0), score


def test_the_bands_split_each_scale_without_gap_or_overlap():
    for parts, scale in (
        (("detractor", "passive", "promoter"), "nps"),
        (("dissatisfied", "csat_neutral", "satisfied"), "csat"),
    ):
        covered = [score for part in parts for score in scores.scores_in(scores.BANDS[part])]
        assert covered == list(scores.scores_in(scores.BANDS[scale]))
    assert [scores.nps_category(s) for s in scores.scores_in(scores.NPS_RANGE)] == (
        [NpsCategory.DETRACTOR] * 7 + [NpsCategory.PASSIVE] * 2 + [NpsCategory.PROMOTER] * 2
    )
    assert [scores.csat_band(s) for s in scores.scores_in(scores.CSAT_RANGE)] == (
        [CsatBand.DISSATISFIED] * 2 + [CsatBand.NEUTRAL] + [CsatBand.SATISFIED] * 2
    )
    assert scores.band_text("low_effort") == "5–7" and scores.band_text("csat_neutral") == "3"


def test_the_csat_band_labels_name_the_bands():
    # The labels are stored in the migrations' state, so they are text; they must say what the bands are.
    for value, name in (
        (CsatBand.SATISFIED, "satisfied"),
        (CsatBand.NEUTRAL, "csat_neutral"),
        (CsatBand.DISSATISFIED, "dissatisfied"),
    ):
        assert f"({scores.band_text(name)})" in CsatBand(value).label


@pytest.mark.parametrize("field", sorted(RANGES))
def test_the_api_accepts_exactly_the_scale(field):
    serializer_field = FeedbackInSerializer().fields[field]
    for score in _around(RANGES[field]):
        inside = RANGES[field][0] <= score <= RANGES[field][1]
        if inside:
            assert serializer_field.run_validation(score) == score
        else:
            with pytest.raises(DrfValidationError):
                serializer_field.run_validation(score)


@pytest.mark.django_db
@pytest.mark.parametrize("field", sorted(RANGES))
def test_the_database_constraint_holds_exactly_the_scale(field):
    constraint = next(c for c in FeedbackResponse._meta.constraints if c.name == f"feedback_{field}_range")
    for score in _around(RANGES[field]):
        response = FeedbackResponse(**{field: score}, comment="x")
        if RANGES[field][0] <= score <= RANGES[field][1]:
            constraint.validate(FeedbackResponse, response)
        else:
            with pytest.raises(ValidationError):
                constraint.validate(FeedbackResponse, response)


@pytest.mark.parametrize("field", sorted(RANGES))
def test_a_routing_rule_bound_takes_exactly_the_scale(field):
    model_field = RoutingRule._meta.get_field(f"{field}_at_most")
    for score in _around(RANGES[field]):
        if RANGES[field][0] <= score <= RANGES[field][1]:
            model_field.run_validators(score)
        else:
            with pytest.raises(ValidationError):
                model_field.run_validators(score)


def test_the_survey_form_offers_the_scales():
    form = SurveyForm()
    assert [value for value, _label in form.fields["nps"].choices] == list(scores.scores_in(scores.NPS_RANGE))
    assert sorted(value for value, _label in form.fields["csat"].choices) == list(scores.scores_in(scores.CSAT_RANGE))


def test_recovered_means_no_longer_detractor_nor_dissatisfied_for_every_answer():
    for nps in scores.scores_in(scores.NPS_RANGE):
        recovered = is_recovered(FeedbackResponse(nps=0), FeedbackResponse(nps=nps))
        assert recovered == (scores.nps_category(nps) != NpsCategory.DETRACTOR), nps
    for csat in scores.scores_in(scores.CSAT_RANGE):
        recovered = is_recovered(FeedbackResponse(csat=1), FeedbackResponse(csat=csat))
        assert recovered == (scores.csat_band(csat) != CsatBand.DISSATISFIED), csat


def test_the_answer_charts_colour_each_score_by_its_band():
    red, amber, green = insight_views.RED, insight_views.AMBER, insight_views.GREEN
    colour = {
        NpsCategory.DETRACTOR: red,
        NpsCategory.PASSIVE: amber,
        NpsCategory.PROMOTER: green,
        CsatBand.DISSATISFIED: red,
        CsatBand.NEUTRAL: amber,
        CsatBand.SATISFIED: green,
    }
    assert insight_views.NPS_COLOURS == [colour[scores.nps_category(s)] for s in scores.scores_in(scores.NPS_RANGE)]
    assert insight_views.CSAT_COLOURS == [colour[scores.csat_band(s)] for s in scores.scores_in(scores.CSAT_RANGE)]
    low_effort = scores.BANDS["low_effort"]
    assert [c == green for c in insight_views.CES_COLOURS] == [
        low_effort[0] <= s <= low_effort[1] for s in scores.scores_in(scores.CES_RANGE)
    ]
