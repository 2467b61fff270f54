"""Writes of case messaging: sending a message to the customer (a logged
contact on the case) and delivering it after commit."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from cases import handling
from cases.choices import CaseStatus, ContactChannel, EventKind
from cases.messaging.models import BODY_MAX_CHARS, SUBJECT_MAX_CHARS, DeliveryStatus, Direction, Message, ReplyTemplate
from cases.messaging.render import placeholder_values, render
from cases.messaging.tokens import reply_address
from cases.models import Case
from cases.services._record import record
from cases.services.transitions import acting_on
from cvx_site.errors import InvalidInput
from cvx_site.inputs import text_problem
from feedback.choices import IdentityKind

log = logging.getLogger(__name__)


def content_hash(*, direction: str, to_email: str, from_email: str, subject: str, body: str) -> str:
    """SHA-256 of the message's canonical content; the recording event carries it."""
    canonical = json.dumps(
        {"direction": direction, "to": to_email, "from": from_email, "subject": subject, "body": body},
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def customer_email(case: Case) -> str | None:
    identity = case.customer.identities.filter(kind=IdentityKind.EMAIL).order_by("id").first()
    return identity.value if identity else None


def templates_for(case: Case):
    """The active reply templates offered on this case: its team's and everyone's."""
    return ReplyTemplate.objects.filter(active=True).filter(team__isnull=True) | ReplyTemplate.objects.filter(
        active=True, team_id=case.team_id
    )


def _text(value, *, field: str, limit: int, required: str) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if text is None:
        raise InvalidInput("Must be text.", field=field)
    if not text:
        raise InvalidInput(required, field=field)
    if len(text) > limit:
        raise InvalidInput(f"At most {limit} characters (this has {len(text)}).", field=field)
    problem = text_problem(text)
    if problem:
        raise InvalidInput(f"The text {problem}.", field=field)
    return text


def _from_template(template_id, case: Case, actor) -> tuple[str, str, ReplyTemplate]:
    try:
        template = templates_for(case).get(pk=int(template_id))
    except (TypeError, ValueError, OverflowError, ReplyTemplate.DoesNotExist):
        raise InvalidInput("Choose one of the reply templates offered on this case.", field="template") from None
    values = placeholder_values(case=case, agent=actor, email=customer_email(case) or "")
    return render(template.subject, values, field="subject"), render(template.body, values, field="body"), template


def case_message_send(
    *,
    case_id: int,
    actor,
    subject: str = "",
    body: str = "",
    template_id=None,
    handling_minutes=None,
    opened: str = "",
) -> Message:
    """Email the case's customer: recorded as a contact by email (the state
    table's `log_contact`, which the actor must be allowed), the message
    stored queued with its hash in that event, and delivered after commit
    (cases.tasks.deliver_message). With `template_id`, an empty subject or
    body is taken from the rendered template. The contact's handling time is
    recorded on the event as cases.handling says (`handling_minutes` as
    entered, else measured from the composer's signed `opened` time). Raises
    InvalidInput naming the field (no customer email, empty or too long
    text, a broken placeholder, a bad handling time)."""
    minutes = handling.parse_minutes(handling_minutes)
    with acting_on(case_id, actor, "log_contact") as case:
        to_email = customer_email(case)
        if not to_email:
            raise InvalidInput(
                "The customer has no email address; call them and log a phone contact instead.", field="to"
            )
        template = None
        if template_id not in (None, ""):
            t_subject, t_body, template = _from_template(template_id, case, actor)
            subject, body = subject or t_subject, body or t_body
        subject = _text(subject, field="subject", limit=SUBJECT_MAX_CHARS, required="Give the email a subject.")
        body = _text(body, field="body", limit=BODY_MAX_CHARS, required="Write the email's text.")
        from_email = settings.DEFAULT_FROM_EMAIL
        digest = content_hash(
            direction=Direction.OUT, to_email=to_email, from_email=from_email, subject=subject, body=body
        )
        now = timezone.now()
        timed = handling.handling_data(minutes=minutes, opened=opened, case_id=case.pk, now=now)
        message = Message.objects.create(
            case=case,
            direction=Direction.OUT,
            author=actor,
            created_at=now,
            to_email=to_email,
            from_email=from_email,
            subject=subject,
            body=body,
            content_hash=digest,
            status=DeliveryStatus.QUEUED,
            message_id=make_msgid(domain=from_email.rpartition("@")[2] or "cvx.invalid"),
        )
        data = {"channel": ContactChannel.EMAIL, "message": message.pk, "message_sha256": digest, **timed}
        if template is not None:
            data["template"] = template.name
        record(
            case,
            kind=EventKind.CONTACTED,
            actor=actor,
            now=now,
            note=f"Email: {subject}",
            data=data,
            status=CaseStatus.CONTACTED,
            first_contact_at=case.first_contact_at or now,
            contact_count=case.contact_count + 1,
        )
        transaction.on_commit(lambda: async_task("cases.tasks.deliver_message", message.pk))
    return message


def message_deliver(*, message_id: int) -> str:
    """Send a queued message through Django's email backend, trying
    CVX_MAIL_SEND_ATTEMPTS times; a message already sent or failed is left
    alone (a retried task sends nothing twice). When every attempt fails the
    message is marked failed with the error and the case records it."""
    message = Message.objects.select_related("case").get(pk=message_id)
    if message.status != DeliveryStatus.QUEUED:
        return message.status
    email = EmailMessage(
        subject=message.subject,
        body=message.body,
        from_email=message.from_email,
        to=[message.to_email],
        reply_to=[a for a in [reply_address(message.case_id)] if a],
        headers={"Message-ID": message.message_id},
    )
    error = ""
    attempts = settings.CVX_MAIL_SEND_ATTEMPTS
    for attempt in range(1, attempts + 1):
        try:
            email.send(fail_silently=False)
        except Exception as exc:  # any backend error: SMTP, socket, TLS
            error = f"{type(exc).__name__}: {exc}"[:1000]
            log.warning("message %s: attempt %d failed: %s", message_id, attempt, error)
            if attempt < attempts:
                time.sleep(settings.CVX_MAIL_RETRY_SECONDS * attempt)
            continue
        Message.objects.filter(pk=message_id).update(
            status=DeliveryStatus.SENT, attempts=attempt, sent_at=timezone.now(), error=""
        )
        return DeliveryStatus.SENT
    _record_failure(message_id=message_id, attempts=attempts, error=error)
    return DeliveryStatus.FAILED


def _record_failure(*, message_id: int, attempts: int, error: str) -> None:
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=message_id)
        if message.status != DeliveryStatus.QUEUED:
            return
        message.status, message.attempts, message.error = DeliveryStatus.FAILED, attempts, error
        message.save(update_fields=["status", "attempts", "error"])
        case = Case.objects.select_for_update(of=("self",)).get(pk=message.case_id)
        record(
            case,
            kind=EventKind.MESSAGE_FAILED,
            actor=None,
            now=timezone.now(),
            note=f"The email “{message.subject}” could not be sent: {error}",
            data={"message": message.pk, "error": error},
        )
