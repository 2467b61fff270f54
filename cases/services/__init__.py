"""Every write to a case. UI views, API views, admin actions, tasks and
commands call these; nothing else changes a case."""

from cases.services.follow_up import follow_up_sweep, is_recovered
from cases.services.routing import response_route, responses_route_pending
from cases.services.sla import sla_sweep
from cases.services.transitions import (
    case_acknowledge,
    case_cancel,
    case_escalate,
    case_log_contact,
    case_lose,
    case_no_answer,
    case_note,
    case_reassign,
    case_reopen,
    case_resolve,
    case_transition,
    case_win,
)

__all__ = [
    "case_acknowledge",
    "case_cancel",
    "case_escalate",
    "case_log_contact",
    "case_lose",
    "case_no_answer",
    "case_note",
    "case_reassign",
    "case_reopen",
    "follow_up_sweep",
    "is_recovered",
    "case_resolve",
    "case_transition",
    "case_win",
    "response_route",
    "responses_route_pending",
    "sla_sweep",
]
