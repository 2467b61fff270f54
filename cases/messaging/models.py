"""Tables of case messaging; imported by cases.models (app label `cases`)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from journeys.models import Team

SUBJECT_MAX_CHARS = 200
BODY_MAX_CHARS = 20_000


class ReplyTemplate(models.Model):
    """An admin-managed reply; `{{ customer.name }}`-style placeholders are
    filled by cases.messaging.render, never by Django's template engine."""

    name = models.CharField(max_length=120, unique=True)
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, null=True, blank=True, help_text="Empty: offered on every team's cases."
    )
    subject = models.CharField(max_length=SUBJECT_MAX_CHARS)
    body = models.TextField(max_length=BODY_MAX_CHARS)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from cases.messaging.render import placeholder_errors

        errors = placeholder_errors({"subject": self.subject, "body": self.body})
        if errors:
            raise ValidationError(errors)


class Direction(models.TextChoices):
    OUT = "out", "To the customer"
    IN = "in", "From the customer"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    RECEIVED = "received", "Received"


class Message(models.Model):
    """One email to or from the customer of a case. Its content hash is in
    the case event that records it, so the audit chain covers the text."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="messages")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    to_email = models.CharField(max_length=320)
    from_email = models.CharField(max_length=320)
    subject = models.CharField(max_length=SUBJECT_MAX_CHARS, blank=True)
    body = models.TextField()
    content_hash = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The RFC 5322 Message-ID: ours for outgoing, the sender's for incoming
    # (a replayed delivery of the same email is stored once).
    message_id = models.CharField(max_length=255, unique=True)

    class Meta:
        ordering = ["case", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_direction_display()}: {self.subject}"


class UnmatchedEmail(models.Model):
    """An inbound email whose reply token is missing, forged or expired:
    kept for a CX admin to look at, never attached to a case."""

    received_at = models.DateTimeField(default=timezone.now)
    message_id = models.CharField(max_length=255, unique=True)
    from_email = models.CharField(max_length=320, blank=True)
    to_email = models.TextField(blank=True)
    subject = models.CharField(max_length=SUBJECT_MAX_CHARS, blank=True)
    body = models.TextField(blank=True)
    reason = models.CharField(max_length=200)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.from_email}: {self.subject} ({self.reason})"
