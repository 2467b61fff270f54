"""django-q2 entry points: take ids, load, call a service. No rules here."""

from __future__ import annotations

import logging

from cases import services
from cases.digest import digest_send_all
from cases.messaging.services import message_deliver
from cases.models import VerificationRun
from cases.notifications import send_event_notifications
from cases.services.audit import audit_checkpoint_create, verification_start, verification_step
from cvx_site.errors import Conflict

log = logging.getLogger(__name__)


def route_responses(response_ids: list[int]) -> int:
    rules = services.routing.load_rules()
    routed = sum(services.response_route(response_id=pk, rules=rules) is not None for pk in response_ids)
    log.info("routed %d of %d responses", routed, len(response_ids))
    return routed


def route_pending() -> int:
    return services.responses_route_pending()


def sla_sweep() -> int:
    return services.sla_sweep()


def notify_event(event_id: int) -> int:
    return send_event_notifications(event_id=event_id)


def deliver_message(message_id: int) -> str:
    return message_deliver(message_id=message_id)


def follow_up_sweep() -> dict:
    return services.follow_up_sweep()


def send_weekly_digests() -> int:
    """Weekly: the last whole week's digest to every lead and CX admin who has not had it."""
    return digest_send_all()


def audit_checkpoint() -> str:
    """Hourly: verify the trail since the last good checkpoint, which makes a
    new signed checkpoint first; when a verification is already running,
    only the checkpoint."""
    try:
        return f"verification #{verification_start(kind=VerificationRun.Kind.INCREMENTAL).pk} queued"
    except Conflict:
        return f"checkpoint #{audit_checkpoint_create().number} (a verification was running)"


def audit_verify_full() -> str:
    """Daily: every chain verified from its first event."""
    try:
        return f"verification #{verification_start(kind=VerificationRun.Kind.FULL).pk} queued"
    except Conflict as exc:
        return exc.message


def audit_verification_step(run_id: int) -> str:
    return verification_step(run_id=run_id)
