"""Delivering a case event's notifications: one row per (event, person),
shown in the app, and an email when the person's preference for its kind
says so. The row is inserted before anything is sent and its unique
constraint is the claim, so a retried task, or two workers running the same
task at once, tell each person once and email them at most once."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from cases.models import CaseEvent, Notification
from cases.notifications.rules import LEAD, NEW_OWNER, OWNER, RULES, Rule
from cases.notifications.selectors import email_wanted
from cases.selectors import cases_visible_to


def _named(event: CaseEvent, rule: Rule) -> list[int]:
    """The ids of the people the rule names, in its order, each once."""
    case = event.case
    ids = {
        OWNER: case.owner_id,
        NEW_OWNER: (event.changes.get("owner") or [None, None])[1],
        LEAD: case.team.lead_id,
    }
    return list(dict.fromkeys(ids[who] for who in rule.to if ids[who] is not None))


def recipients_for(event: CaseEvent) -> list:
    """The people to tell of `event`: those its rule names, active, able to
    see the case now, and not the event's own actor. Empty when no rule
    covers the event or its condition does not hold."""
    rule = RULES.get(event.kind)
    if rule is None or not rule.when(event):
        return []
    people = []
    for user in get_user_model().objects.filter(pk__in=_named(event, rule), is_active=True).order_by("pk"):
        if user.pk != event.actor_id and cases_visible_to(user).filter(pk=event.case_id).exists():
            people.append(user)
    return people


def message_for(event: CaseEvent) -> tuple[str, str]:
    """The subject and the email body of the event's notification."""
    case, rule = event.case, RULES[event.kind]
    link = settings.CVX_BASE_URL.rstrip("/") + reverse("cases:detail", args=[case.pk])
    subject = rule.subject.format(number=case.number, sla=str(event.data.get("sla", "")).replace("_", " "))
    subject = f"{subject}: {case.touchpoint.name}"[: Notification._meta.get_field("subject").max_length]
    body = (
        f"{rule.lead}\n\nCase: {case.number} ({case.get_priority_display()} priority)\n"
        f"Touchpoint: {case.touchpoint.name}\nDue: {case.due_at:%Y-%m-%d %H:%M %Z}\n\n{link}\n"
    )
    return subject, body


def send_event_notifications(*, event_id: int) -> int:
    """Tell each recipient of the event (recipients_for) once, in the app,
    and email those whose preference for the kind says so; returns how many
    emails were sent now. Running it again, or at once elsewhere, adds
    nothing: a person already told is skipped."""
    event = CaseEvent.objects.select_related("case__team", "case__touchpoint").get(pk=event_id)
    people = recipients_for(event)
    if not people:
        return 0
    kind = RULES[event.kind].kind
    subject, body = message_for(event)
    sent = 0
    for user in people:
        try:
            with transaction.atomic():
                note = Notification.objects.create(
                    event=event, user=user, kind=kind, recipient=user.email, subject=subject
                )
        except IntegrityError:
            continue  # told by an earlier or concurrent run of this task
        if user.email and email_wanted(user, kind):
            send_mail(subject, body, None, [user.email])
            Notification.objects.filter(pk=note.pk).update(sent_at=timezone.now())
            sent += 1
    return sent
