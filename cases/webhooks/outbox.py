"""The two hook points where events become deliveries.

Both run inside the transaction that records the event, so a delivery row
exists exactly when its event committed (an outbox: a lost task is picked up
by the sweep, a rolled-back event sends nothing). Sending is queued after
commit. An event no target listens to costs nothing but a small query of
the active targets; an event kind nothing can hear of costs no query."""

from __future__ import annotations

from django.db import transaction
from django_q.tasks import async_task

from cases.choices import EventKind, Priority
from cases.models import Case, CaseEvent
from cases.webhooks import payloads
from cases.webhooks.models import ChatAlert, ChatChannel, Delivery, Webhook, WebhookEvent
from feedback.models import FeedbackResponse

# The case audit events a webhook may subscribe to, by their webhook name.
CASE_EVENTS = {
    EventKind.OPENED: WebhookEvent.CASE_OPENED,
    EventKind.ASSIGNED: WebhookEvent.CASE_ASSIGNED,
    EventKind.RESOLVED: WebhookEvent.CASE_RESOLVED,
    EventKind.CLOSED: WebhookEvent.CASE_CLOSED,
    EventKind.SLA_BREACHED: WebhookEvent.CASE_BREACHED,
}
FEEDBACK_EVENTS = (WebhookEvent.FEEDBACK_CREATED, WebhookEvent.SURVEY_ANSWERED)


def chat_alerts(event: CaseEvent) -> list[str]:
    """The chat alerts a case event raises (ChatAlert values)."""
    alerts = []
    if event.kind == EventKind.SLA_BREACHED:
        alerts.append(ChatAlert.BREACHED)
    priority = (event.changes or {}).get("priority")
    if priority and priority[1] == Priority.URGENT and priority[0] != Priority.URGENT:
        alerts.append(ChatAlert.URGENT)
    if event.kind == EventKind.FOLLOW_UP_ANSWERED and (event.data or {}).get("recovered") is False:
        alerts.append(ChatAlert.NOT_RECOVERED)
    return alerts


def _subscribed(events) -> list[Webhook]:
    # A handful of rows: filtering the JSON list in Python works alike on
    # SQLite and PostgreSQL.
    return [hook for hook in Webhook.objects.filter(active=True) if set(events) & set(hook.events)]


def _queue(rows: list[Delivery]) -> None:
    if not rows:
        return
    Delivery.objects.bulk_create(rows)
    ids = [row.pk for row in rows]
    transaction.on_commit(lambda: [async_task("cases.webhooks.tasks.deliver", pk) for pk in ids])


def case_event_recorded(case: Case, event: CaseEvent) -> None:
    """Hook of cases.services._record.record: queue the webhooks and chat
    alerts this event raises, in the caller's transaction."""
    name = CASE_EVENTS.get(event.kind)
    alerts = chat_alerts(event)
    rows: list[Delivery] = []
    hooks = _subscribed([name]) if name else []
    if hooks:
        event_id, body = payloads.envelope(name, event.at, payloads.case_event_data(case, event))
        rows += [
            Delivery(webhook=hook, event=name, event_id=event_id, body=body, customer_id=case.customer_id)
            for hook in hooks
        ]
    if alerts:
        for channel in ChatChannel.objects.filter(active=True, team_id=case.team_id):
            for alert in alerts:
                if alert in channel.events:
                    event_id, _ = payloads.envelope(alert, event.at, {})
                    body = payloads.chat_body(channel.kind, alert, case)
                    rows.append(Delivery(channel=channel, event=f"chat.{alert}", event_id=event_id, body=body))
    _queue(rows)


def responses_ingested(sender, response_ids, **kwargs) -> None:
    """Receiver of feedback.signals.responses_ingested (inside the ingesting
    transaction): feedback.created for every new response, survey.answered
    too for one that answers a survey invitation."""
    hooks = _subscribed(FEEDBACK_EVENTS)
    if not hooks:
        return
    rows: list[Delivery] = []
    responses = FeedbackResponse.objects.filter(pk__in=list(response_ids)).select_related("touchpoint")
    for response in responses.order_by("pk"):
        names = [WebhookEvent.FEEDBACK_CREATED]
        if response.invitation_id:
            names.append(WebhookEvent.SURVEY_ANSWERED)
        data = payloads.feedback_data(response)
        for name in names:
            listening = [hook for hook in hooks if name in hook.events]
            if listening:
                event_id, body = payloads.envelope(name, response.received_at, data)
                rows += [
                    Delivery(webhook=hook, event=name, event_id=event_id, body=body, customer_id=response.customer_id)
                    for hook in listening
                ]
    _queue(rows)


def customer_erased(customer_id: int) -> int:
    """Hook of feedback.privacy.customer_erase (in its transaction): the
    deliveries that may copy the customer's data (feedback comments, case
    details) go, sent or not, with their attempts. Returns how many."""
    deleted, _ = Delivery.objects.filter(customer_id=customer_id).delete()
    return deleted
