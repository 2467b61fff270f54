"""Closing the loop: the follow-up survey of a resolved case, its answer,
its one reminder and its expiry."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django_q.tasks import async_task

from cases.choices import CaseOutcome, CaseStatus, EventKind, Priority
from cases.models import Case, FollowUp
from cases.services._record import raise_priority, record
from feedback.choices import SurveyPurpose
from feedback.models import FeedbackResponse
from feedback.scores import CSAT_DISSATISFIED_MAX, DETRACTOR_MAX
from feedback.surveys import SurveyNotAllowed, invitation_create, invitation_send, survey_reminders_due

# Recovered: no longer a detractor (NPS above the detractor band) nor
# dissatisfied (CSAT above the dissatisfied band).
RECOVERED_NPS = DETRACTOR_MAX + 1
RECOVERED_CSAT = CSAT_DISSATISFIED_MAX + 1


def start_follow_up(case: Case, *, now: datetime) -> None:
    """Invite the customer of the locked, just-resolved case to say whether
    they were won back; record why not when the contact rules forbid it."""
    if case.customer_id is None:
        record(
            case, kind=EventKind.FOLLOW_UP_SKIPPED, actor=None, now=now, data={"reason": "The feedback was anonymous."}
        )
        return
    try:
        invitation = invitation_create(
            customer=case.customer, touchpoint=case.touchpoint, purpose=SurveyPurpose.FOLLOW_UP, now=now
        )
    except SurveyNotAllowed as exc:
        record(case, kind=EventKind.FOLLOW_UP_SKIPPED, actor=None, now=now, data={"reason": exc.message})
        return
    FollowUp.objects.create(case=case, invitation=invitation, created_at=now)
    record(
        case,
        kind=EventKind.FOLLOW_UP_SENT,
        actor=None,
        now=now,
        status=CaseStatus.AWAITING_FOLLOW_UP,
        data={"invitation": invitation.pk, "expires_at": invitation.expires_at},
    )
    transaction.on_commit(lambda: async_task("feedback.tasks.send_invitation", invitation.pk))


def is_recovered(original: FeedbackResponse, answer: FeedbackResponse) -> bool:
    """Whether the follow-up answer is no longer a detractor / dissatisfied on
    the measures the original feedback had (any given, when it had none)."""
    checks = []
    if original.nps is not None and answer.nps is not None:
        checks.append(answer.nps >= RECOVERED_NPS)
    if original.csat is not None and answer.csat is not None:
        checks.append(answer.csat >= RECOVERED_CSAT)
    if not checks:
        checks = [
            s >= limit for s, limit in ((answer.nps, RECOVERED_NPS), (answer.csat, RECOVERED_CSAT)) if s is not None
        ]
    return bool(checks) and all(checks)


def follow_up_record_answer(*, response: FeedbackResponse) -> Case | None:
    """Record a follow-up answer on its case and close (or reopen) the case.
    None when the response answers no follow-up. Runs in the caller's
    transaction (routing)."""
    follow = FollowUp.objects.filter(invitation_id=response.invitation_id).first()
    if follow is None:
        return None
    case = Case.objects.select_for_update(of=("self",)).select_related("feedback", "team").get(pk=follow.case_id)
    recovered = is_recovered(case.feedback, response)
    FollowUp.objects.filter(pk=follow.pk).update(answer=response, recovered=recovered)
    now = timezone.now()
    scores = {
        "original": {"nps": case.feedback.nps, "csat": case.feedback.csat},
        "follow_up": {"nps": response.nps, "csat": response.csat},
        "recovered": recovered,
        "response": response.pk,
    }
    record(case, kind=EventKind.FOLLOW_UP_ANSWERED, actor=None, now=now, data=scores)
    if case.status != CaseStatus.AWAITING_FOLLOW_UP:
        return case  # reopened or closed meanwhile: the answer is recorded, nothing more
    if recovered:
        record(
            case,
            kind=EventKind.CLOSED,
            actor=None,
            now=now,
            status=CaseStatus.CLOSED,
            outcome=CaseOutcome.RECOVERED,
            closed_at=now,
        )
    elif settings.CVX_REOPEN_NOT_RECOVERED:
        record(
            case,
            kind=EventKind.REOPENED,
            actor=None,
            now=now,
            note="The follow-up shows the customer was not recovered.",
            status=CaseStatus.REOPENED,
            resolved_at=None,
        )
        record(
            case,
            kind=EventKind.ESCALATED,
            actor=None,
            now=now,
            status=CaseStatus.ESCALATED,
            priority=raise_priority(case.priority, Priority.HIGH),
        )
    else:
        record(
            case,
            kind=EventKind.CLOSED,
            actor=None,
            now=now,
            status=CaseStatus.CLOSED,
            outcome=CaseOutcome.NOT_RECOVERED,
            closed_at=now,
        )
    return case


def follow_up_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Send the one reminder that is due (follow-ups and ordinary surveys
    alike), and close as no_response the cases whose follow-up expired
    unanswered. Running it again does nothing more."""
    now = now or timezone.now()
    reminders, expired = follow_ups_due(now=now)
    due = list(reminders.values_list("invitation_id", flat=True))
    due += list(survey_reminders_due(now=now).values_list("pk", flat=True))
    reminded = sum(invitation_send(invitation_id=pk, reminder=True) for pk in due)
    closed = sum(_close_unanswered(case_id, now) for case_id in list(expired.values_list("case_id", flat=True)))
    return {"reminded": reminded, "closed": closed}


def follow_ups_due(*, now: datetime) -> tuple[QuerySet[FollowUp], QuerySet[FollowUp]]:
    """The sweep's work at `now`: unanswered follow-ups whose one reminder is
    due, and those expired, to close as no_response (the admin home shows
    both: left undone, the sweep is not running)."""
    waiting = FollowUp.objects.filter(case__status=CaseStatus.AWAITING_FOLLOW_UP, answer__isnull=True)
    reminders = waiting.filter(
        invitation__sent_at__isnull=False,
        invitation__reminded_at__isnull=True,
        invitation__expires_at__gt=now,
        invitation__created_at__lte=now - timedelta(days=settings.CVX_SURVEY_REMINDER_DAYS),
    )
    return reminders, waiting.filter(invitation__expires_at__lte=now)


def _close_unanswered(case_id: int, now: datetime) -> bool:
    with transaction.atomic():
        case = Case.objects.select_for_update(of=("self",)).get(pk=case_id)
        if case.status != CaseStatus.AWAITING_FOLLOW_UP:
            return False
        record(
            case,
            kind=EventKind.CLOSED,
            actor=None,
            now=now,
            status=CaseStatus.CLOSED,
            outcome=CaseOutcome.NO_RESPONSE,
            closed_at=now,
            data={"reason": "The follow-up expired unanswered."},
        )
    return True
