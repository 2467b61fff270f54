"""Reads with access rules: one selector per resource, used by the list and
the detail, pages and API alike."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from cases.choices import OPEN_STATUSES
from cases.models import Case, CaseEvent
from cases.policy import is_case_admin
from journeys.selectors import teams_of


def cases_visible_to(user) -> QuerySet[Case]:
    """CX admins (and integrations, read-only) see every case; everyone else
    the cases of teams they are in or lead; people in no team see none."""
    cases = Case.objects.all()
    if not user.is_authenticated:
        return cases.none()
    if is_case_admin(user) or user.has_perm("cases.view_all_cases"):
        return cases
    return cases.filter(team__in=teams_of(user))


def case_access(user, case: Case) -> tuple[bool, bool]:
    """(may see it, is in or leads its team) for one case, by the same rules
    as cases_visible_to, from one query: the services' check on a locked row."""
    if not user.is_authenticated:
        return False, False
    member = teams_of(user).filter(pk=case.team_id).exists()
    return member or is_case_admin(user) or user.has_perm("cases.view_all_cases"), member


def case_events_visible_to(user) -> QuerySet[CaseEvent]:
    return CaseEvent.objects.filter(case__in=cases_visible_to(user))


def is_team_member(user, case: Case) -> bool:
    return teams_of(user).filter(pk=case.team_id).exists()


def breached(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Open and past due now, or marked breached by the SLA sweep."""
    return cases.filter(
        Q(status__in=OPEN_STATUSES, due_at__lt=timezone.now())
        | Q(first_contact_breached_at__isnull=False)
        | Q(resolution_breached_at__isnull=False)
    )


def is_manager(user) -> bool:
    """CX admins and team leads: they see All cases and the audit pages."""
    from journeys.selectors import teams_led_by

    return is_case_admin(user) or teams_led_by(user).exists()


def queue(user, name: str) -> QuerySet[Case]:
    """The cases of one queue: `mine` (open, mine), `team` (open, unassigned,
    of my teams) or `all` (everything I may see)."""
    visible = cases_visible_to(user)
    if name == "mine":
        return visible.filter(owner=user, status__in=OPEN_STATUSES)
    if name == "team":
        return visible.filter(owner__isnull=True, status__in=OPEN_STATUSES, team__in=teams_of(user))
    return visible


def status_counts(cases: QuerySet[Case]) -> dict[str, int]:
    return dict(cases.order_by().values_list("status").annotate(n=Count("id")))


@dataclass
class Page:
    items: list = field(default_factory=list)
    next_cursor: str | None = None


def keyset_page(cases: QuerySet[Case], *, after: str | None, size: int) -> Page:
    """One page of cases by (due_at, id) after the cursor: each page is an
    index range scan, as fast deep in the list as at its start."""
    position = decode_cursor(after)
    if position is not None:
        due, pk = position
        cases = cases.filter(Q(due_at__gt=due) | Q(due_at=due, pk__gt=pk))
    rows = list(cases.order_by("due_at", "id")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return Page(rows, encode_cursor(rows[-1]) if more and rows else None)


def encode_cursor(case: Case) -> str:
    raw = f"{case.due_at.isoformat()}|{case.pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    """The position in a cursor; None for no cursor or one that does not parse."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        due, pk = raw.split("|")
        return datetime.fromisoformat(due), int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
