"""Webhook subscriptions, chat channels and their deliveries."""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q
from django.utils import timezone

from journeys.models import Team


class WebhookEvent(models.TextChoices):
    """What a subscription may hear of; the value is the envelope's `event`."""

    FEEDBACK_CREATED = "feedback.created", "Feedback created"
    CASE_OPENED = "case.opened", "Case opened"
    CASE_ASSIGNED = "case.assigned", "Case assigned"
    CASE_RESOLVED = "case.resolved", "Case resolved"
    CASE_CLOSED = "case.closed", "Case closed"
    CASE_BREACHED = "case.breached", "Case breached an SLA"
    SURVEY_ANSWERED = "survey.answered", "Survey answered"


class ChatAlert(models.TextChoices):
    """What a team's chat channel may be told of."""

    BREACHED = "breached", "A case breached an SLA"
    URGENT = "urgent", "A case is (or became) urgent"
    NOT_RECOVERED = "not_recovered", "A follow-up says the customer was not recovered"


class ChatKind(models.TextChoices):
    SLACK = "slack", "Slack (or Slack-compatible: Mattermost, Rocket.Chat)"
    TEAMS = "teams", "Microsoft Teams"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    DELIVERED = "delivered", "Delivered"
    DEAD = "dead", "Dead letter"


class Webhook(models.Model):
    """A subscription: CVX POSTs each chosen event to `url`, signed with `secret`."""

    name = models.CharField(max_length=100, unique=True)
    url = models.URLField(max_length=500, help_text="https:// only; private and internal addresses are refused.")
    events = models.JSONField(default=list, help_text="The events sent here (WebhookEvent values).")
    secret = models.CharField(
        max_length=128,
        default=secrets.token_urlsafe,  # 32 random bytes; stdlib, so migrations can name it
        help_text="Signs every delivery (X-CVX-Signature); give it to the receiver, change it to rotate.",
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ChatChannel(models.Model):
    """A team's Slack or Teams incoming webhook, told of the team's chosen alerts."""

    name = models.CharField(max_length=100, unique=True)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="chat_channels")
    kind = models.CharField(max_length=10, choices=ChatKind.choices)
    url = models.URLField(max_length=500, help_text="The channel's incoming-webhook address (https://).")
    events = models.JSONField(default=list, help_text="The alerts sent here (ChatAlert values).")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["team__name", "name"]

    def __str__(self) -> str:
        return self.name


class Delivery(models.Model):
    """One event for one target (a webhook or a chat channel), with its body
    as first built: every attempt sends the same body."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries")
    channel = models.ForeignKey(ChatChannel, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries")
    event = models.CharField(max_length=40)
    event_id = models.UUIDField(help_text="The envelope's id: the same on every attempt and redelivery.")
    # Whose personal data the body may hold (an id, not a key: deliveries are
    # not scoped by customer), so erasing the customer erases the copies.
    customer_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Attempts since it was queued (or redelivered).")
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.CheckConstraint(
                condition=Q(webhook__isnull=False, channel__isnull=True)
                | Q(webhook__isnull=True, channel__isnull=False),
                name="delivery_one_target",
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]

    def __str__(self) -> str:
        return f"{self.event} → {self.target}"

    @property
    def target(self) -> Webhook | ChatChannel:
        return self.webhook if self.webhook_id else self.channel


class DeliveryAttempt(models.Model):
    """One try at sending a delivery: what came back, or why nothing did."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["started_at", "id"]

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.status_code or self.error[:40]}"
