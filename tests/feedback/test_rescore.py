"""`manage.py rescore_feedback --since DATE [--batch N]`: stored comments
re-read with the current CX lexicon, in batches, idempotent and resumable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from cvx_site.db import bulk_insert
from feedback import lexicon, summaries
from feedback.lexicon import current_lexicon, lexicon_term_save
from feedback.models import DailyScore, FeedbackResponse
from feedback.privacy import customer_erase
from feedback.sentiment import vader_sentiment
from feedback.services import feedback_ingest
from feedback.signals import responses_ingested
from feedback.text import analyse

pytestmark = pytest.mark.django_db

DAY = datetime(2026, 5, 4, 12, tzinfo=UTC)
COMPLAINTS = [
    "Your agent hung up on me",
    "Never again. Cancel my contract.",
    "I waited 3 weeks for an engineer who never showed up",
    "Great service but the app keeps crashing",
    "Had to call four times to get it sorted",
    "👎",
    "I'm reporting you to the ombudsman",
]


def old_row(touchpoint, n: int, comment: str, *, at: datetime = DAY) -> FeedbackResponse:
    """A response as stored before the CX layer: plain VADER, no intents."""
    score = vader_sentiment(comment)
    return FeedbackResponse(
        touchpoint=touchpoint,
        source="legacy",
        external_id=f"old{n}",
        occurred_at=at,
        comment=comment,
        content_hash=f"h{n}",
        sentiment=score.compound,
        sentiment_label=score.label,
    )


@pytest.fixture
def legacy(touchpoint):
    rows = bulk_insert([old_row(touchpoint, n, text) for n, text in enumerate(COMPLAINTS * 3)])
    summaries.rebuild_daily_scores()
    return rows


def rescore(*args: str) -> str:
    out = StringIO()
    call_command("rescore_feedback", *args, "--no-progress", stdout=out, stderr=StringIO())
    return out.getvalue()


def stored(pk: int) -> FeedbackResponse:
    return FeedbackResponse.objects.get(pk=pk)


def test_rescoring_writes_what_the_cx_layer_reads_now(legacy):
    assert stored(legacy[0].pk).sentiment_label == "neutral"  # plain VADER missed it

    output = rescore("--since", "2026-05-01")

    version = current_lexicon().version
    for row in legacy:
        expected = analyse(row.comment)
        back = stored(row.pk)
        assert (back.sentiment, back.sentiment_label) == (expected.compound, expected.label)
        assert back.intents == list(expected.intents)
        assert back.explanation == [list(pair) for pair in expected.explanation]
        assert back.lexicon_version == version
    assert all(stored(row.pk).sentiment_label == "negative" for row in legacy)
    assert f"Re-scored {len(legacy)} response(s)" in output


def test_a_second_run_changes_nothing(legacy, django_assert_max_num_queries):
    rescore("--since", "2026-05-01")
    before = list(FeedbackResponse.objects.order_by("pk").values())

    with django_assert_max_num_queries(4):  # version stamp and count; version stamp and an empty batch
        output = rescore("--since", "2026-05-01")

    assert "Re-scored 0 response(s)" in output
    assert list(FeedbackResponse.objects.order_by("pk").values()) == before


def test_an_interrupted_run_keeps_its_committed_batches_and_a_restart_finishes_the_rest(legacy, monkeypatch):
    real = lexicon.CXLexicon.analyse
    calls = {"n": 0}

    def failing_after_two_batches(self, text):
        calls["n"] += 1
        if calls["n"] > 2 * 5:
            raise RuntimeError("killed")
        return real(self, text)

    monkeypatch.setattr(lexicon.CXLexicon, "analyse", failing_after_two_batches)
    with pytest.raises(RuntimeError):
        rescore("--since", "2026-05-01", "--batch", "5")
    monkeypatch.setattr(lexicon.CXLexicon, "analyse", real)

    version = current_lexicon().version
    done = FeedbackResponse.objects.filter(lexicon_version=version).order_by("pk")
    assert list(done.values_list("pk", flat=True)) == [row.pk for row in legacy[:10]]

    output = rescore("--since", "2026-05-01", "--batch", "5")

    assert f"Re-scored {len(legacy) - 10} response(s)" in output
    assert FeedbackResponse.objects.filter(lexicon_version=version).count() == len(legacy)


def test_a_lexicon_edit_is_applied_by_the_next_run(legacy, touchpoint):
    rescore("--since", "2026-05-01")
    plain = bulk_insert([old_row(touchpoint, 99, "The flibbertigibbet again")])[0]
    rescore("--since", "2026-05-01")
    assert stored(plain.pk).sentiment_label == "neutral"

    lexicon_term_save(actor=None, term="flibbertigibbet", valence=-3)
    output = rescore("--since", "2026-05-01")

    assert stored(plain.pk).sentiment_label == "negative"
    assert stored(plain.pk).lexicon_version == current_lexicon().version
    assert f"Re-scored {len(legacy) + 1} response(s)" in output and "1 changed" in output


def test_only_responses_since_the_day_are_rescored(touchpoint):
    early, late = bulk_insert(
        [
            old_row(touchpoint, 1, COMPLAINTS[0], at=DAY - timedelta(days=10)),
            old_row(touchpoint, 2, COMPLAINTS[0], at=DAY),
        ]
    )

    rescore("--since", DAY.date().isoformat())

    assert stored(early.pk).lexicon_version == "" and stored(early.pk).sentiment_label == "neutral"
    assert stored(late.pk).sentiment_label == "negative"


def test_responses_without_a_comment_or_erased_are_left_alone(touchpoint):
    scored_only = bulk_insert(
        [
            FeedbackResponse(
                touchpoint=touchpoint, source="legacy", external_id="s", occurred_at=DAY, nps=9, content_hash="h"
            )
        ]
    )[0]
    erased = feedback_ingest(
        item={
            "touchpoint": "fault-line",
            "source": "chat",
            "external_id": "e",
            "nps": 2,
            "occurred_at": DAY.isoformat(),
            "comment": "Your agent hung up on me",
            "customer": {"email": "gone@example.com"},
        }
    ).response
    FeedbackResponse.objects.filter(pk=erased.pk).update(lexicon_version="old")
    customer_erase(customer_id=erased.customer_id, actor_label="test")
    kept = stored(erased.pk)

    rescore("--since", "2026-01-01")

    assert stored(scored_only.pk).lexicon_version == "" and stored(scored_only.pk).sentiment is None
    back = stored(erased.pk)
    assert (back.sentiment, back.sentiment_label, back.explanation) == (kept.sentiment, "negative", [])
    assert back.lexicon_version == "old"


def test_the_score_summary_follows_the_new_labels(legacy):
    assert DailyScore.objects.get().negative == 0

    rescore("--since", "2026-05-01")

    assert DailyScore.objects.get().negative == len(legacy)
    fresh = {(d.touchpoint_id, d.day): d.negative for d in DailyScore.objects.all()}
    summaries.rebuild_daily_scores()
    assert fresh == {(d.touchpoint_id, d.day): d.negative for d in DailyScore.objects.all()}


def test_rescoring_routes_nothing(legacy):
    sent = []

    def receiver(**kwargs):
        sent.append(kwargs)

    responses_ingested.connect(receiver)
    try:
        rescore("--since", "2026-05-01")
    finally:
        responses_ingested.disconnect(receiver)

    assert sent == []


def test_the_progress_bar_counts_the_responses_to_rescore(legacy):
    err = StringIO()
    call_command("rescore_feedback", "--since", "2026-05-01", stdout=StringIO(), stderr=err)

    assert f"{len(legacy)}/{len(legacy)}" in err.getvalue()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "04/05/2026"], "--since: expected a date as YYYY-MM-DD"),
        (["--since", "2026-05-01", "--batch", "0"], "--batch: expected a whole number from 1 to"),
        (["--since", "2026-05-01", "--batch", "many"], "--batch: expected a whole number from 1 to"),
    ],
)
def test_bad_arguments_are_refused_with_the_option_named(db, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("rescore_feedback", *args, "--no-progress", stdout=StringIO(), stderr=StringIO())


def test_since_is_required(db):
    with pytest.raises(CommandError, match="--since"):
        call_command("rescore_feedback", "--no-progress", stdout=StringIO(), stderr=StringIO())
