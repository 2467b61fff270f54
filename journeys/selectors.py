from __future__ import annotations

from django.db.models import Q, QuerySet

from journeys.models import Team


def teams_of(user) -> QuerySet[Team]:
    """Teams the user belongs to or leads."""
    if not user.is_authenticated:
        return Team.objects.none()
    return Team.objects.filter(Q(members=user) | Q(lead=user)).distinct()


def teams_led_by(user) -> QuerySet[Team]:
    if not user.is_authenticated:
        return Team.objects.none()
    return Team.objects.filter(lead=user)
