"""Who sees webhook deliveries and may redeliver them."""

from __future__ import annotations

from django.db.models import QuerySet

from cases import policy
from cases.webhooks.models import Delivery, DeliveryAttempt


def manages_deliveries(user) -> bool:
    """Deliveries carry customer data (comments, scores, case details) of
    every team and point to no case or customer row a team scope could
    follow: only those who act on every case (CX admins, superusers) see
    them, and only they redeliver."""
    return policy.is_case_admin(user)


def deliveries_visible_to(user) -> QuerySet[Delivery]:
    rows = Delivery.objects.select_related("webhook", "channel")
    return rows if manages_deliveries(user) else rows.none()


def delivery_attempts_visible_to(user) -> QuerySet[DeliveryAttempt]:
    rows = DeliveryAttempt.objects.all()
    return rows if manages_deliveries(user) else rows.none()
