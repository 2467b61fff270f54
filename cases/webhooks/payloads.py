"""What a delivery says: the webhook envelope and the chat message shapes.

Webhook body (README, *Webhooks and chat alerts*):
    {"id": "<uuid>", "event": "case.opened", "occurred_at": "<ISO 8601>",
     "data": {...}}
`data` holds `case` and `audit_event` for case events, `feedback` for
feedback.created and survey.answered.

Chat bodies follow the documented incoming-webhook shapes: Slack's
`{"text": ..., "blocks": [...]}` (text is the notification's fallback) and
Teams' message with one Adaptive Card attachment."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.urls import reverse

from cases.models import Case, CaseEvent
from cases.webhooks.models import ChatAlert, ChatKind
from feedback.models import FeedbackResponse


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def dumps(payload: dict) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, sort_keys=True, cls=DjangoJSONEncoder)


def envelope(event: str, occurred_at: datetime, data: dict) -> tuple[uuid.UUID, str]:
    """(the envelope's id, its JSON body)."""
    event_id = uuid.uuid4()
    return event_id, dumps({"id": str(event_id), "event": event, "occurred_at": _iso(occurred_at), "data": data})


def case_url(case: Case) -> str:
    return settings.CVX_BASE_URL.rstrip("/") + reverse("cases:detail", args=[case.pk])


def case_data(case: Case) -> dict:
    """The case as integrations read it in the API (ids, slugs, usernames);
    the customer by id only (`GET /api/v1/customers/{id}/` for the rest)."""
    return {
        "id": case.pk,
        "number": case.number,
        "status": case.status,
        "outcome": case.outcome,
        "priority": case.priority,
        "team": case.team.slug,
        "owner": case.owner.username if case.owner_id else None,
        "touchpoint": case.touchpoint.slug,
        "journey": case.journey_id,
        "customer": case.customer_id,
        "feedback": case.feedback_id,
        "first_contact_due": _iso(case.first_contact_due),
        "resolve_due": _iso(case.resolve_due),
        "url": case_url(case),
    }


def case_event_data(case: Case, event: CaseEvent) -> dict:
    return {
        "case": case_data(case),
        "audit_event": {
            "id": event.pk,
            "kind": event.kind,
            "actor": event.actor.username if event.actor_id else None,
            "changes": event.changes,
        },
    }


def feedback_data(response: FeedbackResponse) -> dict:
    return {
        "feedback": {
            "id": response.pk,
            "touchpoint": response.touchpoint.slug,
            "customer": response.customer_id,
            "kind": response.kind,
            "source": response.source,
            "external_id": response.external_id,
            "occurred_at": _iso(response.occurred_at),
            "received_at": _iso(response.received_at),
            "nps": response.nps,
            "csat": response.csat,
            "ces": response.ces,
            "ves": response.ves,
            "nps_category": response.nps_category,
            "comment": response.comment,
            "sentiment": response.sentiment,
            "sentiment_label": response.sentiment_label,
            "intents": response.intents,
            "invitation": response.invitation_id,
        }
    }


_ALERT_WORDS = {
    ChatAlert.BREACHED: "breached its SLA",
    ChatAlert.URGENT: "is urgent",
    ChatAlert.NOT_RECOVERED: "closed its follow-up: the customer was not recovered",
}


def chat_text(alert: str, case: Case) -> str:
    """One line in words; no customer details leave for the chat."""
    where = f"{case.touchpoint.name}, team {case.team.name}, priority {case.priority}"
    return f"{case.number} {_ALERT_WORDS[alert]} ({where})."


def chat_body(kind: str, alert: str, case: Case) -> str:
    text = chat_text(alert, case)
    url = case_url(case)
    if kind == ChatKind.SLACK:
        return dumps(
            {
                "text": f"{text} {url}",
                "blocks": [
                    {"type": "section", "text": {"type": "mrkdwn", "text": f"*{text}*"}},
                    {
                        "type": "actions",
                        "elements": [
                            {
                                "type": "button",
                                "text": {"type": "plain_text", "text": f"Open {case.number}"},
                                "url": url,
                            }
                        ],
                    },
                ],
            }
        )
    return dumps(
        {
            "type": "message",
            "attachments": [
                {
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "contentUrl": None,
                    "content": {
                        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                        "type": "AdaptiveCard",
                        "version": "1.2",
                        "body": [{"type": "TextBlock", "text": text, "wrap": True, "weight": "Bolder"}],
                        "actions": [{"type": "Action.OpenUrl", "title": f"Open {case.number}", "url": url}],
                    },
                }
            ],
        }
    )
