"""Reads of notifications with their access rule: a person sees only their
own, and only of cases they may still see (cases.selectors)."""

from __future__ import annotations

from collections.abc import Collection

from django.db.models import QuerySet

from cases.choices import NotificationKind
from cases.models import Notification, NotificationPreference
from cases.selectors import cases_visible_to, memberships_of

PAGE_SIZE = 25


def notifications_of(user, *, team_ids: Collection[int] | None = None) -> QuerySet[Notification]:
    """The user's notifications, newest first (by id, the keyset of the list).
    `team_ids`: the user's teams, already read (cases_visible_to)."""
    if not user.is_authenticated:
        return Notification.objects.none()
    return (
        Notification.objects.filter(user=user, event__case__in=cases_visible_to(user, team_ids=team_ids))
        .select_related("event__case")
        .order_by("-id")
    )


def unread_count(user) -> int:
    """The header's bell: on every page, so the user's teams are the list
    the page read already (memberships_of), not a subquery to plan again."""
    if not user.is_authenticated:
        return 0
    team_ids = list(memberships_of(user).team_ids)
    return notifications_of(user, team_ids=team_ids).filter(read_at__isnull=True).count()


def notifications_page(
    user, *, before: int | None = None, size: int = PAGE_SIZE
) -> tuple[list[Notification], int | None]:
    """One page of the user's notifications older than id `before` (None:
    the newest), and the id to pass as `before` for the next page (None: no more)."""
    rows = notifications_of(user)
    if before is not None:
        rows = rows.filter(pk__lt=before)
    items = list(rows[: size + 1])
    return items[:size], (items[size - 1].pk if len(items) > size else None)


def email_off_of(user) -> set[str]:
    """The notification kinds the user does not want by email."""
    pref = NotificationPreference.objects.filter(user=user).first()
    return set(pref.email_off) if pref else set()


def digest_wanted(user) -> bool:
    """Whether the user wants the weekly digest (on unless they opted out)."""
    pref = NotificationPreference.objects.filter(user=user).first()
    return pref.weekly_digest if pref else True


def email_wanted(user, kind: str) -> bool:
    return kind not in email_off_of(user)


def email_choices_of(user) -> list[tuple[str, str, bool]]:
    """Each notification kind, its label and whether the user wants it by email."""
    off = email_off_of(user)
    return [(value, label, value not in off) for value, label in NotificationKind.choices]
