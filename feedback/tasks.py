"""django-q2 entry points for feedback: take ids, call a service."""

from datetime import date

from feedback import summaries
from feedback.surveys import invitation_send


def send_invitation(invitation_id: int, reminder: bool = False) -> bool:
    return invitation_send(invitation_id=invitation_id, reminder=reminder)


def refresh_daily_scores(keys: list[list]) -> int:
    """`keys` as queued by ingestion: [touchpoint id, "YYYY-MM-DD"] pairs."""
    return summaries.refresh_daily_scores((int(touchpoint), date.fromisoformat(day)) for touchpoint, day in keys)
