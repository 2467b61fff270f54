"""Customer replies: one service for the inbound endpoint and `fetch_mail`."""

from __future__ import annotations

import email
import hashlib
from dataclasses import dataclass
from email import policy as email_policy
from email.utils import parseaddr

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.html import strip_tags

from cases.choices import CaseStatus, EventKind
from cases.messaging.models import BODY_MAX_CHARS, SUBJECT_MAX_CHARS, DeliveryStatus, Direction, Message, UnmatchedEmail
from cases.messaging.services import content_hash
from cases.messaging.tokens import case_id_from_addresses
from cases.models import Case
from cases.services._record import record

# Where a reply address may be found: To (a direct reply), and the headers a
# mail server adds when it delivers to a plus-address or forwards.
TOKEN_HEADERS = ("To", "Delivered-To", "X-Original-To")
REOPENABLE = {CaseStatus.RESOLVED, CaseStatus.AWAITING_FOLLOW_UP, CaseStatus.CLOSED}


@dataclass(frozen=True)
class Received:
    status: str  # "attached", "duplicate" or "unmatched"
    message: Message | None = None
    unmatched: UnmatchedEmail | None = None
    reason: str = ""


def _clean(text: str, limit: int) -> str:
    # NUL and lone surrogates cannot be stored (cvx_site.inputs.text_problem);
    # a customer's email is kept, not refused, so they are dropped here.
    text = text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _body(parsed) -> str:
    part = parsed.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # unknown charset or broken encoding
        content = part.get_payload(decode=True).decode("utf-8", "replace")
    return strip_tags(content) if part.get_content_type() == "text/html" else content


def inbound_email_receive(raw: bytes) -> Received:
    """Attach the raw RFC 822 email to the case its reply token names (a
    customer message event; stored once per Message-ID; a resolved case
    reopened when CVX_REOPEN_ON_REPLY; the owner notified), or keep it as
    an UnmatchedEmail when the token is missing, forged or expired."""
    parsed = email.message_from_bytes(raw, policy=email_policy.default)
    message_id = _clean(str(parsed.get("Message-ID") or ""), 255).strip() or (
        f"<{hashlib.sha256(raw).hexdigest()}@no-message-id.cvx>"
    )
    from_email = _clean(parseaddr(str(parsed.get("From") or ""))[1], 320)
    subject = _clean(str(parsed.get("Subject") or ""), SUBJECT_MAX_CHARS)
    body = _clean(_body(parsed).strip(), BODY_MAX_CHARS)
    headers = [str(v) for name in TOKEN_HEADERS for v in (parsed.get_all(name) or [])]
    case_id, reason = case_id_from_addresses(headers)
    if case_id is not None and not Case.objects.filter(pk=case_id).exists():
        case_id, reason = None, "the reply token names no existing case"
    if case_id is None:
        unmatched, _ = UnmatchedEmail.objects.get_or_create(
            message_id=message_id,
            defaults={
                "from_email": from_email,
                "to_email": _clean(", ".join(headers), 2000),
                "subject": subject,
                "body": body,
                "reason": reason,
            },
        )
        return Received("unmatched", unmatched=unmatched, reason=unmatched.reason)
    existing = Message.objects.filter(message_id=message_id).first()
    if existing is not None:
        return Received("duplicate", message=existing)
    try:
        return Received("attached", message=_attach(case_id, message_id, from_email, subject, body))
    except IntegrityError:  # the same email delivered twice at once: the other one stored it
        return Received("duplicate", message=Message.objects.get(message_id=message_id))


def _attach(case_id: int, message_id: str, from_email: str, subject: str, body: str) -> Message:
    with transaction.atomic():
        case = Case.objects.select_for_update(of=("self",)).get(pk=case_id)
        now = timezone.now()
        to_email = settings.CVX_REPLY_MAILBOX
        digest = content_hash(
            direction=Direction.IN, to_email=to_email, from_email=from_email, subject=subject, body=body
        )
        message = Message.objects.create(
            case=case,
            direction=Direction.IN,
            created_at=now,
            to_email=to_email,
            from_email=from_email,
            subject=subject,
            body=body,
            content_hash=digest,
            status=DeliveryStatus.RECEIVED,
            message_id=message_id,
        )
        record(
            case,
            kind=EventKind.CUSTOMER_REPLIED,
            actor=None,
            now=now,
            note=f"Email from the customer: {subject}"[:SUBJECT_MAX_CHARS],
            data={"message": message.pk, "message_sha256": digest, "from": from_email},
        )
        if settings.CVX_REOPEN_ON_REPLY and case.status in REOPENABLE:
            record(
                case,
                kind=EventKind.REOPENED,
                actor=None,
                now=now,
                note="The customer replied.",
                status=CaseStatus.REOPENED,
                outcome=None,
                resolved_at=None,
                closed_at=None,
            )
    return message
