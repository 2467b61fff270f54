"""Notifications (issue 17): each case event reaches exactly the people its
rule names (cases.notifications.rules), only those who may see the case,
once per person however often the task runs, in the app always and by email
as each person chooses."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from cases import services
from cases.choices import EventKind, NotificationKind
from cases.models import FollowUp, Notification
from cases.notifications import send_event_notifications
from cases.notifications.services import notification_preferences_save
from cvx_site.errors import InvalidInput
from feedback.services import feedback_ingest
from feedback.surveys import invitation_token, survey_answer

pytestmark = pytest.mark.django_db

K = NotificationKind


def deliver(case) -> int:
    """Run the notification task for every event of the case, as the worker
    would after commit; returns the emails sent."""
    return sum(send_event_notifications(event_id=pk) for pk in case.events.values_list("pk", flat=True))


def told(case=None) -> set[tuple[str, str]]:
    """(username, kind) of every notification (of the case)."""
    rows = Notification.objects.all() if case is None else Notification.objects.filter(event__case=case)
    return {(n.user.username, n.kind) for n in rows.select_related("user")}


def emailed() -> list[tuple[str, str]]:
    return sorted((m.to[0].split("@")[0], m.subject) for m in mail.outbox)


def test_an_assigned_case_tells_its_new_owner_alone_in_the_app_and_by_email(make_case, agent, lead, mailoutbox):
    case = make_case()
    assert deliver(case) == 1
    assert told() == {("agent", K.ASSIGNED)}
    note = Notification.objects.get()
    assert note.read_at is None and note.sent_at is not None and note.recipient == agent.email
    assert [m.to for m in mailoutbox] == [[agent.email]] and case.number in mailoutbox[0].subject


def test_an_unassigned_new_case_tells_the_team_lead_and_an_assigned_one_does_not(make_case, agent, lead, mailoutbox):
    queued = make_case(owner=None)
    deliver(queued)
    assert told(queued) == {("lead", K.TEAM_QUEUE)}
    owned = make_case()
    deliver(owned)
    assert told(owned) == {("agent", K.ASSIGNED)}


def test_a_case_taken_before_the_task_runs_tells_the_lead_nothing(make_case, agent, lead):
    case = make_case(owner=None)
    services.case_reassign(case_id=case.pk, actor=agent, owner=agent)
    deliver(case)
    # Taking it yourself is nothing to be told of; it no longer waits in the queue.
    assert told(case) == set()


def test_a_lead_assigning_a_case_tells_the_new_owner(make_case, agent, lead):
    case = make_case(owner=None)
    services.case_reassign(case_id=case.pk, actor=lead, owner=agent)
    deliver(case)
    assert told(case) == {("agent", K.ASSIGNED)}


def test_new_negative_feedback_on_an_open_case_tells_its_owner(make_case, agent, lead, mailoutbox):
    case = make_case(customer={"email": "again@example.com"})
    deliver(case)
    mailoutbox.clear()
    for n, nps in ((1, 9), (2, 1)):  # a promoter matches no rule; the detractor is attached
        outcome = feedback_ingest(
            item={
                "touchpoint": "fault-line",
                "source": "survey",
                "external_id": f"again-{n}",
                "nps": nps,
                "comment": "Still broken",
                "customer": {"email": "again@example.com"},
            }
        )
        services.response_route(response_id=outcome.response.pk)
    deliver(case)
    assert told(case) == {("agent", K.ASSIGNED), ("agent", K.NEGATIVE_FEEDBACK)}
    assert emailed() == [("agent", f"[CVX] {case.number}: the customer gave new negative feedback: Fault line")]


@pytest.fixture
def answered(make_case, agent, root_cause, django_capture_on_commit_callbacks):
    """answered(nps) -> the case, resolved by its owner and its follow-up
    answered with `nps`, every task run."""

    def make(nps: int):
        case = make_case(nps=3)
        with django_capture_on_commit_callbacks(execute=True):
            services.case_log_contact(case_id=case.pk, actor=agent, channel="phone", note="Called")
            services.case_resolve(case_id=case.pk, actor=agent, root_cause=root_cause, note="Fixed")
        invitation = FollowUp.objects.get(case=case).invitation
        with django_capture_on_commit_callbacks(execute=True):
            outcome = survey_answer(token=invitation_token(invitation), nps=nps, csat=None, comment="")
        assert outcome.response is not None, outcome.errors
        case.refresh_from_db()
        return case

    return make


def test_a_case_closed_not_recovered_tells_its_owner(answered, agent, lead, mailoutbox):
    case = answered(4)
    assert case.outcome == "not_recovered"
    assert told(case) == {("agent", K.NOT_RECOVERED)}
    assert ("agent", f"[CVX] {case.number}: the customer was not recovered: Fault line") in emailed()


def test_a_recovered_case_tells_no_one(answered, agent, lead):
    case = answered(10)
    assert case.outcome == "recovered"
    assert told(case) == set()


def test_a_breach_tells_the_owner_and_the_team_lead(make_case, agent, lead, other_agent, mailoutbox):
    case = make_case()
    services.sla_sweep(now=case.first_contact_due + timedelta(minutes=1))
    breach = case.events.get(kind=EventKind.SLA_BREACHED)
    assert send_event_notifications(event_id=breach.pk) == 2
    assert told(case) == {("agent", K.BREACHED), ("lead", K.BREACHED)}
    assert [s for _, s in emailed()] == [f"[CVX] {case.number} breached its first contact SLA: Fault line"] * 2


def test_an_escalation_tells_the_lead_not_the_owner_who_escalated(make_case, agent, lead):
    case = make_case()
    services.case_escalate(case_id=case.pk, actor=agent)
    deliver(case)
    assert told(case) == {("agent", K.ASSIGNED), ("lead", K.ESCALATED)}


def test_a_customer_reply_and_a_failed_message_tell_the_owner(make_case, agent, lead):
    from django.db import transaction
    from django.utils import timezone

    from cases.models import Case
    from cases.services._record import record

    case = make_case()
    for kind in (EventKind.CUSTOMER_REPLIED, EventKind.MESSAGE_FAILED):
        with transaction.atomic():
            record(Case.objects.select_for_update().get(pk=case.pk), kind=kind, actor=None, now=timezone.now())
    deliver(case)
    assert told(case) == {("agent", K.ASSIGNED), ("agent", K.CUSTOMER_REPLIED), ("agent", K.MESSAGE_FAILED)}


def test_no_one_who_cannot_see_the_case_is_told(make_case, agent, lead, team, other_team, other_agent):
    """The owner moved to another team, and the lead no longer leads it."""
    case = make_case()
    team.members.remove(agent)
    other_team.members.add(agent)
    team.members.remove(lead)
    team.lead = other_agent  # leads it, but is not active
    team.save(update_fields=["lead"])
    other_agent.is_active = False
    other_agent.save(update_fields=["is_active"])
    services.sla_sweep(now=case.first_contact_due + timedelta(minutes=1))
    deliver(case)
    assert told(case) == set()


def test_email_goes_only_for_the_kinds_a_person_chose(make_case, agent, lead, mailoutbox):
    notification_preferences_save(user=agent, email=[k for k in K.values if k != K.ASSIGNED])
    case = make_case()
    deliver(case)
    assert told(case) == {("agent", K.ASSIGNED)}  # in the app all the same
    assert Notification.objects.get().sent_at is None
    assert mailoutbox == []
    services.sla_sweep(now=case.first_contact_due + timedelta(minutes=1))
    deliver(case)
    assert sorted(m.to[0] for m in mailoutbox) == [agent.email, lead.email]


def test_a_person_without_an_email_address_is_told_in_the_app(make_case, agent, mailoutbox):
    agent.email = ""
    agent.save(update_fields=["email"])
    case = make_case()
    assert deliver(case) == 0
    assert told(case) == {("agent", K.ASSIGNED)} and mailoutbox == []


def test_a_task_run_twice_tells_and_emails_each_person_once(make_case, agent, lead, mailoutbox):
    case = make_case()
    services.sla_sweep(now=case.first_contact_due + timedelta(minutes=1))
    assert deliver(case) == 3
    assert deliver(case) == 0
    assert Notification.objects.count() == 3 and len(mailoutbox) == 3


def test_preferences_refuse_an_unknown_kind_naming_the_field(agent):
    with pytest.raises(InvalidInput) as refused:
        notification_preferences_save(user=agent, email=["assigned", "gossip"])
    assert refused.value.field == "email" and "gossip" in refused.value.message


def test_record_queues_delivery_for_every_kind_the_rules_name():
    from cases.notifications.rules import RULES
    from cases.services._record import NOTIFIED

    assert NOTIFIED == frozenset(RULES)
    assert {rule.kind for rule in RULES.values()} == set(K.values)  # every kind someone may choose is sent


# --- two workers at once (PostgreSQL: real threads on real connections) --------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_delivering_the_same_event_at_once_tell_and_email_each_person_once(
    pg_audit_cleanup, make_case, agent, lead, mailoutbox
):
    from tests.cases.test_concurrency import run_together

    case = make_case()
    services.sla_sweep(now=case.first_contact_due + timedelta(minutes=1))
    Notification.objects.all().delete()  # what the commit's own tasks told: the race below starts from nothing
    mailoutbox.clear()
    breach = case.events.get(kind=EventKind.SLA_BREACHED)
    results, errors = run_together(*[lambda: send_event_notifications(event_id=breach.pk)] * 4)
    assert errors == [None] * 4
    assert sum(results) == 2
    assert told(case) == {("agent", K.BREACHED), ("lead", K.BREACHED)}
    assert Notification.objects.count() == 2
    assert sorted(m.to[0] for m in mailoutbox) == [agent.email, lead.email]
