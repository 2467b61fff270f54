"""Re-score stored comments with the current CX lexicon, in batches."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from feedback.lexicon import current_lexicon, responses_rescore_batch, responses_retag_batch, responses_to_rescore

DEFAULT_BATCH = 500
MAX_BATCH = 10_000


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--since: expected a date as YYYY-MM-DD, got {value!r}") from None


def _batch(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= MAX_BATCH:
        raise CommandError(f"--batch: expected a whole number from 1 to {MAX_BATCH}, got {value!r}")
    return number


class Command(BaseCommand):
    help = (
        "Re-score the comments of responses that occurred since a UTC day with the current CX lexicon "
        "(sentiment, label, intents, explanation, lexicon version), in batches, one transaction each, "
        "refreshing the score summary where a label changes. Responses already scored with the current "
        "lexicon are skipped, so a second run does nothing and an interrupted run continues where it "
        "stopped. With --topics, responses are then tagged with the current topics. Nothing is routed again: "
        "cases already opened or not stay as they are."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--since", required=True, help="Responses that occurred on or after this UTC day (YYYY-MM-DD)."
        )
        parser.add_argument(
            "--batch",
            default=str(DEFAULT_BATCH),
            help=f"Responses per batch and transaction (default {DEFAULT_BATCH}).",
        )
        parser.add_argument(
            "--topics",
            action="store_true",
            help="Then tag every response since the day with the current topics (after topics "
            "were added or changed; idempotent, topics have no version, so all are read).",
        )
        parser.add_argument("--no-progress", action="store_true", help="Do not show the progress bar.")

    def handle(self, *args, since: str, batch: str, no_progress: bool, topics: bool, **options):
        start = datetime.combine(_day(since), time.min, tzinfo=UTC)
        size = _batch(batch)
        version = current_lexicon().version
        total = responses_to_rescore(since=start, version=version).count()
        examined = changed = 0
        last_id = 0
        bar = tqdm(
            total=total,
            unit="response",
            desc="rescore",
            disable=no_progress,
            file=getattr(self.stderr, "_out", sys.stderr),
        )
        with bar:
            while True:
                result = responses_rescore_batch(since=start, after_id=last_id, size=size)
                if result.last_id is None:
                    break
                examined, changed, last_id = examined + result.examined, changed + result.changed, result.last_id
                bar.update(result.examined)
        self.stdout.write(
            f"Re-scored {examined} response(s) since {start.date()} with lexicon {version}: "
            f"{changed} changed label, score or intents."
        )
        if topics:
            self._retag(start, size, no_progress)

    def _retag(self, start: datetime, size: int, no_progress: bool) -> None:
        examined = changed = last_id = 0
        bar = tqdm(unit="response", desc="topics", disable=no_progress, file=getattr(self.stderr, "_out", sys.stderr))
        with bar:
            while (result := responses_retag_batch(since=start, after_id=last_id, size=size)).last_id is not None:
                examined, changed, last_id = examined + result.examined, changed + result.changed, result.last_id
                bar.update(result.examined)
        self.stdout.write(
            f"Tagged {examined} response(s) since {start.date()} with the current topics: {changed} changed topics."
        )
