"""Reads of case messaging with their access rules."""

from __future__ import annotations

from django.db.models import QuerySet

from cases import policy
from cases.messaging.models import Message, UnmatchedEmail
from cases.models import Case


def unmatched_emails_visible_to(user) -> QuerySet[UnmatchedEmail]:
    """Unmatched inbound email belongs to no case, so no team: only those who
    act on every case (CX admins) see it."""
    rows = UnmatchedEmail.objects.all()
    return rows if policy.is_case_admin(user) else rows.none()


def case_messages(case: Case) -> QuerySet[Message]:
    """The messages of a case the caller already may see (cases.selectors)."""
    return case.messages.select_related("author").order_by("created_at", "id")
