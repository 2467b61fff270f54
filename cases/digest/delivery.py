"""Sending the weekly digest: to whom (`digest_recipients`), the email
itself (`digest_email`: an HTML part with the charts as inline SVG and a
complete text part), and sending it once per person and week
(`digest_send`, `digest_send_all`, run by the schedule through
`cases.tasks.send_weekly_digests`).

The WeeklyDigest row is inserted before the digest is built and its
unique (user, week) constraint is the claim, as notification delivery
does: a second run of the task, or a second worker running it at the same
moment, finds the claim taken and sends nothing."""

from __future__ import annotations

import logging
from datetime import date

from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from cases.digest.content import Digest, digest_for, digest_week
from cases.models import WeeklyDigest
from cases.selectors import is_manager

logger = logging.getLogger(__name__)


def digest_recipients() -> list:
    """Who gets the digest: active people with an email address who lead a
    team or are CX admins (`cases.selectors.is_manager`) and have not opted
    out (NotificationPreference.weekly_digest), in id order."""
    people = (
        get_user_model()
        .objects.filter(is_active=True)
        .exclude(email="")
        .exclude(notification_preference__weekly_digest=False)
        .order_by("pk")
    )
    return [user for user in people if is_manager(user)]


def digest_subject(digest: Digest) -> str:
    return f"[CVX] Your weekly digest: {digest.week:%-d %b} to {digest.last_day:%-d %b %Y}"


def digest_email(digest: Digest) -> EmailMultiAlternatives:
    """The digest as an email to its person: the text part holds every
    figure, list and link (many mail clients show no SVG), the HTML part the
    same with the charts drawn inline."""
    context = {"digest": digest}
    email = EmailMultiAlternatives(
        subject=digest_subject(digest),
        body=render_to_string("cases/digest/email.txt", context),
        to=[digest.user.email],
    )
    email.attach_alternative(render_to_string("cases/digest/email.html", context), "text/html")
    return email


def digest_send(*, user, week: date) -> bool:
    """Email `user` the digest of the week starting on Monday `week`, once:
    True when sent now; False when it had been claimed already (sent, or
    being sent by another worker). If building or sending fails, the claim
    is released so that a later run sends it, and the error is raised."""
    try:
        with transaction.atomic():
            claim = WeeklyDigest.objects.create(user=user, week=week, recipient=user.email)
    except IntegrityError:
        return False
    try:
        digest_email(digest_for(user, week=week)).send()
    except Exception:
        WeeklyDigest.objects.filter(pk=claim.pk, sent_at__isnull=True).delete()
        raise
    WeeklyDigest.objects.filter(pk=claim.pk).update(sent_at=timezone.now())
    logger.info("weekly digest of %s sent to user %s", week, user.pk)
    return True


def digest_send_all(*, week: date | None = None) -> int:
    """Send the digest of `week` (default: the last whole week) to every
    recipient who has not had it; returns how many were sent now."""
    week = week or digest_week()
    sent = sum(digest_send(user=user, week=week) for user in digest_recipients())
    logger.info("weekly digest of %s: %d sent", week, sent)
    return sent
