"""What feedback says of touchpoints, for the journeys admin's side-by-side
page (`journeys.selectors.touchpoint_figures`, filled in `FeedbackConfig.ready`):
the recent scores with their n, margin and "few responses" flag
(`feedback.analytics.score_metrics`) and the top negative topics
(`feedback.themes.topic_figures`), over the feedback the user may see."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from feedback.analytics import score_metrics
from feedback.choices import SentimentLabel
from feedback.selectors import feedback_visible_to
from feedback.themes import topic_figures
from journeys.models import Touchpoint

# The scores beside a touchpoint cover this many days up to now.
FIGURE_DAYS = 90
TOP_TOPICS = 3


def touchpoint_scores_and_topics(user, touchpoints: list[Touchpoint]) -> dict[int, dict]:
    """{touchpoint id: {"scores": the score_metrics row or None without
    feedback, "topics": its top negative TopicFigures, "days": FIGURE_DAYS}}."""
    since = timezone.now() - timedelta(days=FIGURE_DAYS)
    responses = feedback_visible_to(user).filter(touchpoint__in=[tp.pk for tp in touchpoints], occurred_at__gte=since)
    scores = {row["group"]: row for row in score_metrics(responses, group_by="touchpoint")}
    negative = responses.filter(sentiment_label=SentimentLabel.NEGATIVE)
    return {
        tp.pk: {
            "scores": scores.get(tp.slug),
            "topics": topic_figures(negative.filter(touchpoint=tp), top=TOP_TOPICS),
            "days": FIGURE_DAYS,
        }
        for tp in touchpoints
    }
