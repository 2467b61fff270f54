"""django-q2 entry points of webhooks and chat alerts: ids in, a service call."""

from __future__ import annotations

from cases.webhooks.services import deliveries_sweep, delivery_attempt


def deliver(delivery_id: int) -> str | None:
    return delivery_attempt(delivery_id=delivery_id)


def sweep() -> int:
    return deliveries_sweep()
