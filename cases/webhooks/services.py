"""Sending deliveries: claim, send, log the attempt, retry or give up; and
redelivery from the admin.

A delivery is claimed by one conditional UPDATE (due and pending, or a
claim whose lease ran out) before anything is sent, so two workers given
the same delivery send it once: the second finds it claimed."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django_q.tasks import async_task

from cases.webhooks import guard, transport
from cases.webhooks.models import Delivery, DeliveryAttempt, DeliveryStatus
from cases.webhooks.selectors import manages_deliveries
from cvx_site.errors import PermissionDenied

EXCERPT_CHARS = 500
SWEEP_BATCH = 500
USER_AGENT = "CVX-Webhooks/1"


def sign(secret: str, timestamp: str, body: str) -> str:
    """X-CVX-Signature: hex HMAC-SHA256 of "<timestamp>.<body>" under the secret."""
    return hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()


def retry_delay(attempts: int) -> timedelta:
    """Exponential back-off after the `attempts`-th failure, capped."""
    base = settings.CVX_WEBHOOK_RETRY_SECONDS
    return timedelta(seconds=min(base * 2 ** (attempts - 1), settings.CVX_WEBHOOK_RETRY_MAX_SECONDS))


def _due(now: datetime) -> Q:
    return Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=DeliveryStatus.SENDING, claimed_until__lt=now
    )


def _claim(delivery_id: int, now: datetime) -> bool:
    lease = settings.CVX_WEBHOOK_CONNECT_TIMEOUT + settings.CVX_WEBHOOK_READ_TIMEOUT + 60
    claimed = Delivery.objects.filter(_due(now), pk=delivery_id).update(
        status=DeliveryStatus.SENDING, claimed_until=now + timedelta(seconds=lease), attempts=F("attempts") + 1
    )
    return claimed == 1


def _headers(delivery: Delivery) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-CVX-Event": delivery.event,
        "X-CVX-Delivery": str(delivery.event_id),
    }
    if delivery.webhook_id:
        timestamp = str(int(time.time()))
        headers["X-CVX-Timestamp"] = timestamp
        headers["X-CVX-Signature"] = sign(delivery.webhook.secret, timestamp, delivery.body)
    return headers


def _send(delivery: Delivery) -> tuple[int | None, str, str]:
    """(status code or None, response excerpt, error) of one POST."""
    target_row = delivery.target
    if not target_row.active:
        return None, "", f"“{target_row}” is inactive."
    try:
        target = guard.resolve(target_row.url)
        reply = transport.post(
            target,
            delivery.body.encode(),
            _headers(delivery),
            connect_timeout=settings.CVX_WEBHOOK_CONNECT_TIMEOUT,
            read_timeout=settings.CVX_WEBHOOK_READ_TIMEOUT,
        )
    except guard.UnsafeTarget as exc:
        return None, "", exc.message
    except (OSError, http.client.HTTPException) as exc:
        return None, "", f"{type(exc).__name__}: {exc}"[:EXCERPT_CHARS]
    # PostgreSQL text holds no NUL; the excerpt is for people to read.
    excerpt = reply.body.decode("utf-8", "replace").replace("\x00", "")[:EXCERPT_CHARS]
    if 200 <= reply.status < 300:
        return reply.status, excerpt, ""
    if 300 <= reply.status < 400:
        return reply.status, excerpt, f"HTTP {reply.status}: redirects are not followed."
    return reply.status, excerpt, f"HTTP {reply.status}."


def delivery_attempt(*, delivery_id: int, now: datetime | None = None) -> str | None:
    """Claim the delivery and send it once, if it is due and nobody holds it;
    log the attempt and return the delivery's new status (None: not claimed,
    nothing sent). A failure is retried after an exponential back-off until
    CVX_WEBHOOK_MAX_ATTEMPTS attempts, then the delivery is dead (a dead
    letter, redelivered only by hand)."""
    now = now or timezone.now()
    if not _claim(delivery_id, now):
        return None
    delivery = Delivery.objects.select_related("webhook", "channel").get(pk=delivery_id)
    started = time.monotonic()
    status_code, excerpt, error = _send(delivery)
    duration_ms = int((time.monotonic() - started) * 1000)
    if not error:
        fields = {"status": DeliveryStatus.DELIVERED, "delivered_at": timezone.now(), "last_error": ""}
    elif delivery.attempts >= settings.CVX_WEBHOOK_MAX_ATTEMPTS or not delivery.target.active:
        fields = {"status": DeliveryStatus.DEAD, "last_error": error}
    else:
        fields = {
            "status": DeliveryStatus.PENDING,
            "next_attempt_at": now + retry_delay(delivery.attempts),
            "last_error": error,
        }
    with transaction.atomic():
        DeliveryAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempts,
            started_at=now,
            duration_ms=duration_ms,
            status_code=status_code,
            response_excerpt=excerpt,
            error=error,
        )
        Delivery.objects.filter(pk=delivery.pk).update(claimed_until=None, **fields)
    return fields["status"]


def deliveries_sweep(*, now: datetime | None = None) -> int:
    """Queue a send of every delivery that is due (a retry whose time has
    come, a task that was lost, a claim whose worker died); returns how many.
    Each send claims its delivery first, so queuing one twice sends it once."""
    now = now or timezone.now()
    ids = list(
        Delivery.objects.filter(_due(now)).order_by("next_attempt_at").values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    for pk in ids:
        async_task("cases.webhooks.tasks.deliver", pk)
    return len(ids)


def deliveries_redeliver(*, actor, delivery_ids: list[int]) -> int:
    """Send these deliveries again from their first attempt (same body, same
    envelope id, so a receiver can tell a repeat), except those being sent
    right now; record it in each one's admin history. Returns how many were
    queued. PermissionDenied unless the actor manages deliveries."""
    if not manages_deliveries(actor):
        raise PermissionDenied("Only CX admins may redeliver webhooks and chat alerts.")
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            Delivery.objects.select_for_update()
            .filter(pk__in=delivery_ids)
            .exclude(status=DeliveryStatus.SENDING)
            .order_by("pk")
        )
        for row in rows:
            was = row.get_status_display()
            Delivery.objects.filter(pk=row.pk).update(
                status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now, claimed_until=None
            )
            LogEntry.objects.log_actions(
                user_id=actor.pk,
                queryset=[row],
                action_flag=CHANGE,
                change_message=f"Redelivered (was {was}).",
                single_object=True,
            )
        ids = [row.pk for row in rows]
        transaction.on_commit(lambda: [async_task("cases.webhooks.tasks.deliver", pk) for pk in ids])
    return len(ids)
