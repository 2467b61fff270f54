"""Rebuild the score summary (daily and weekly rows) from the raw feedback."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from feedback.summaries import rebuild_daily_scores


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--since: expected YYYY-MM-DD, got {value!r}") from None


class Command(BaseCommand):
    help = (
        "Recompute the score summary (DailyScore, and the WeeklyScore rows of the same weeks) from the "
        "raw responses, by UTC day, in chunks of days; buckets left without responses are removed. "
        "Safe while feedback arrives."
    )

    def add_arguments(self, parser):
        parser.add_argument("--since", type=str, help="Only days from this UTC day on (YYYY-MM-DD).")
        parser.add_argument("--chunk-days", type=int, default=31, help="Days per transaction (default 31).")

    def handle(self, *args, since: str | None, chunk_days: int, **options):
        if chunk_days < 1:
            raise CommandError("--chunk-days must be at least 1")
        result = rebuild_daily_scores(since=_day(since) if since else None, chunk_days=chunk_days)
        self.stdout.write(
            f"Rebuilt {result.days} day(s) from {result.responses} responses: "
            f"{result.buckets} daily buckets written, {result.removed} removed."
        )
