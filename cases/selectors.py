"""Reads with access rules: one selector per resource, used by the list and
the detail, pages and API alike."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone

from cases.choices import OPEN_STATUSES
from cases.models import Case, CaseEvent
from cases.policy import is_case_admin
from journeys.selectors import teams_of


def cases_visible_to(user) -> QuerySet[Case]:
    """CX admins see every case; everyone else the cases of teams they are in
    or lead; people in no team see none."""
    cases = Case.objects.all()
    if not user.is_authenticated:
        return cases.none()
    if is_case_admin(user):
        return cases
    return cases.filter(team__in=teams_of(user))


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
