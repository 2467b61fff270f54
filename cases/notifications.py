"""Emails about case events: to the new owner on assignment, to the team
lead on escalation and SLA breach. Each (event, recipient) is claimed in the
database before sending, so a retried task never sends an email twice."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from cases.choices import EventKind
from cases.models import CaseEvent, Notification


def recipients_for(event: CaseEvent) -> list:
    case = event.case
    if event.kind == EventKind.ASSIGNED:
        owner_id = event.changes.get("owner", [None, None])[1]
        return list(get_user_model().objects.filter(pk=owner_id))
    if event.kind in (EventKind.ESCALATED, EventKind.SLA_BREACHED) and case.team.lead_id:
        return [case.team.lead]
    if event.kind in (EventKind.CUSTOMER_REPLIED, EventKind.MESSAGE_FAILED) and case.owner_id:
        return [case.owner]
    return []


def message_for(event: CaseEvent) -> tuple[str, str]:
    case = event.case
    link = settings.CVX_BASE_URL.rstrip("/") + reverse("cases:detail", args=[case.pk])
    if event.kind == EventKind.ASSIGNED:
        subject = f"[CVX] {case.number} is yours: {case.touchpoint.name}"
        lead = "A case has been assigned to you."
    elif event.kind == EventKind.CUSTOMER_REPLIED:
        subject = f"[CVX] {case.number}: the customer replied"
        lead = "The customer of your case replied by email; the reply is on the case."
    elif event.kind == EventKind.MESSAGE_FAILED:
        subject = f"[CVX] {case.number}: an email to the customer was not delivered"
        lead = "An email you sent from your case could not be delivered; the error is on the case."
    elif event.kind == EventKind.SLA_BREACHED:
        subject = f"[CVX] {case.number} breached its {event.data.get('sla', '').replace('_', ' ')} SLA"
        lead = "A case of your team is past its due time and has been escalated to you."
    else:
        subject = f"[CVX] {case.number} escalated"
        lead = "A case of your team has been escalated to you."
    body = (
        f"{lead}\n\nCase: {case.number} ({case.get_priority_display()} priority)\n"
        f"Touchpoint: {case.touchpoint.name}\nDue: {case.due_at:%Y-%m-%d %H:%M %Z}\n\n{link}\n"
    )
    return subject, body


def send_event_notifications(*, event_id: int) -> int:
    """Send the event's emails that were not sent before; returns how many."""
    event = CaseEvent.objects.select_related("case__team__lead", "case__owner", "case__touchpoint").get(pk=event_id)
    subject, body = message_for(event)
    sent = 0
    for user in recipients_for(event):
        if not user.email:
            continue
        try:
            with transaction.atomic():
                note = Notification.objects.create(event=event, recipient=user.email, subject=subject)
        except IntegrityError:
            continue  # claimed by an earlier run of this task
        send_mail(subject, body, None, [user.email])
        Notification.objects.filter(pk=note.pk).update(sent_at=timezone.now())
        sent += 1
    return sent
