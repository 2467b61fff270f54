"""Writes of a person's notifications: marking them read and choosing which
kinds come by email. Each person changes only their own."""

from __future__ import annotations

import logging
from collections.abc import Collection

from django.db import transaction
from django.utils import timezone

from cases.choices import NotificationKind
from cases.models import Notification, NotificationPreference
from cases.notifications.selectors import notifications_of
from cvx_site.errors import InvalidInput, NotFound

logger = logging.getLogger(__name__)


def notifications_mark_read(*, user, ids: Collection[int] | None = None) -> int:
    """Mark the user's unread notifications read: those of `ids` (others'
    ids and unknown ones are ignored) or, when None, all of them. Returns
    how many were marked."""
    with transaction.atomic():
        rows = Notification.objects.filter(user=user, read_at__isnull=True)
        if ids is not None:
            rows = rows.filter(pk__in=list(ids))
        marked = rows.update(read_at=timezone.now())
        logger.info("user %s marked %d notifications read", user.pk, marked)
    return marked


def notification_open(*, user, notification_id: int) -> Notification:
    """The user's notification, marked read; NotFound for anyone else's
    (or one of a case the user may no longer see)."""
    with transaction.atomic():
        note = notifications_of(user).filter(pk=notification_id).first()
        if note is None:
            raise NotFound("No such notification of yours.")
        if note.read_at is None:
            note.read_at = timezone.now()
            Notification.objects.filter(pk=note.pk, read_at__isnull=True).update(read_at=note.read_at)
    return note


def notification_preferences_save(
    *, user, email: Collection[str], weekly_digest: bool | None = None
) -> NotificationPreference:
    """Email the user the kinds in `email` (NotificationKind values) and no
    others; in the app every kind is shown. `weekly_digest`: whether the
    user gets the weekly digest (cases.digest); None leaves it as it is.
    InvalidInput names an unknown kind."""
    unknown = sorted(set(email) - set(NotificationKind.values))
    if unknown:
        raise InvalidInput(
            f"Unknown kind {unknown[0][:40]!r}: choose from {', '.join(NotificationKind.values)}.", field="email"
        )
    off = [kind for kind in NotificationKind.values if kind not in set(email)]
    changes = {"email_off": off, "updated_at": timezone.now()}
    if weekly_digest is not None:
        changes["weekly_digest"] = bool(weekly_digest)
    with transaction.atomic():
        pref, _ = NotificationPreference.objects.update_or_create(user=user, defaults=changes)
        logger.info(
            "user %s notification email off: %s; weekly digest %s",
            user.pk,
            ", ".join(off) or "none",
            "on" if pref.weekly_digest else "off",
        )
    return pref
