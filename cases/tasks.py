"""django-q2 entry points: take ids, load, call a service. No rules here."""

from __future__ import annotations

import logging

from cases import services
from cases.notifications import send_event_notifications

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


def follow_up_sweep() -> dict:
    return services.follow_up_sweep()
