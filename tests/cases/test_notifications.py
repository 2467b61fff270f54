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


# --- the bell, the list, the settings page and the API --------------------------


def _note_of(user):
    return Notification.objects.get(user=user)


def test_the_bell_shows_my_unread_count_and_is_polled(make_case, agent, client):
    client.force_login(agent)
    page = client.get("/cases/queue/mine/").content.decode()
    assert 'id="bell"' in page and 'id="bell-count"' in page and 'hx-trigger="every 30s"' in page
    bell = client.get("/cases/notifications/bell/")
    assert bell.status_code == 200 and 'id="bell-count" class="bell-count" hidden>0<' in bell.content.decode()
    deliver(make_case())
    deliver(make_case())
    bell = client.get("/cases/notifications/bell/").content.decode()
    assert 'id="bell-count" class="bell-count">2<' in bell and 'hx-get="/cases/notifications/bell/"' in bell


def test_the_bell_answers_a_signed_out_poll_with_nothing_to_swap(client, db):
    assert client.get("/cases/notifications/bell/").status_code == 204


def test_the_list_shows_mine_unread_in_bold_and_opening_one_marks_it_read(make_case, agent, client):
    case = make_case()
    deliver(case)
    note = _note_of(agent)
    client.force_login(agent)
    listed = client.get("/cases/notifications/").content.decode()
    assert f"<strong>{note.subject}</strong>" in listed and f"/cases/notifications/{note.pk}/" in listed
    opened = client.get(f"/cases/notifications/{note.pk}/")
    assert opened.status_code == 302 and opened["Location"] == f"/cases/{case.pk}/"
    note.refresh_from_db()
    assert note.read_at is not None
    assert f"<strong>{note.subject}</strong>" not in client.get("/cases/notifications/").content.decode()


def test_mark_all_read_is_a_post_and_marks_only_mine(make_case, agent, lead, client):
    deliver(make_case(owner=None))  # the lead's: a new case in the team queue
    deliver(make_case())  # the agent's
    client.force_login(agent)
    assert client.get("/cases/notifications/read/").status_code == 405
    assert client.post("/cases/notifications/read/").status_code == 302
    assert _note_of(agent).read_at is not None and _note_of(lead).read_at is None


def test_someone_elses_notification_is_404_and_never_listed(make_case, agent, lead, client, api):
    deliver(make_case(owner=None))
    theirs = _note_of(lead)
    client.force_login(agent)
    assert client.get(f"/cases/notifications/{theirs.pk}/").status_code == 404
    assert theirs.subject not in client.get("/cases/notifications/").content.decode()
    body = api(agent).get("/api/v1/notifications/").json()
    assert body["unread"] == 0 and body["results"] == []
    assert api(agent).post("/api/v1/notifications/read/", {"ids": [theirs.pk]}, format="json").json()["marked"] == 0
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_a_notification_of_a_case_i_can_no_longer_see_is_hidden(make_case, agent, team, client):
    case = make_case()
    deliver(case)
    team.members.remove(agent)
    client.force_login(agent)
    assert client.get(f"/cases/notifications/{_note_of(agent).pk}/").status_code == 404
    assert client.get("/cases/notifications/bell/").content.decode().count(">0<") == 1


def test_the_list_pages_newest_first_without_skipping(make_case, agent, client, monkeypatch):
    from cases.notifications import selectors

    monkeypatch.setitem(selectors.notifications_page.__kwdefaults__, "size", 2)
    for _ in range(5):
        deliver(make_case())
    client.force_login(agent)
    seen, pages, url = [], 0, "/cases/notifications/"
    while url:
        response = client.get(url)
        seen += [n.pk for n in response.context["items"]]
        pages += 1
        nxt = response.context["next_before"]
        url = f"/cases/notifications/?before={nxt}" if nxt else None
    assert pages == 3
    assert seen == sorted(Notification.objects.filter(user=agent).values_list("pk", flat=True), reverse=True)
    assert client.get("/cases/notifications/?before=x").status_code == 404


def test_the_settings_page_saves_my_email_choices(agent, client):
    from cases.notifications.selectors import email_choices_of

    client.force_login(agent)
    page = client.get("/cases/notifications/settings/").content.decode()
    assert all(f'value="{k}"' in page and "checked" in page for k in K.values)  # all on by default
    saved = client.post("/cases/notifications/settings/", {"email": [K.ASSIGNED, K.BREACHED]})
    assert saved.status_code == 302
    assert {k for k, _, on in email_choices_of(agent) if on} == {K.ASSIGNED, K.BREACHED}
    refused = client.post("/cases/notifications/settings/", {"email": ["gossip"]})
    assert refused.status_code == 400 and "gossip" in refused.content.decode()
    assert {k for k, _, on in email_choices_of(agent) if on} == {K.ASSIGNED, K.BREACHED}


def test_pages_need_a_login(client, db):
    for url in ("/cases/notifications/", "/cases/notifications/settings/", "/cases/notifications/1/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_api_lists_mine_with_the_unread_count_and_marks_read(make_case, agent, api):
    case = make_case()
    deliver(case)
    services.sla_sweep(now=case.first_contact_due + timedelta(minutes=1))
    deliver(case)
    client = api(agent)
    body = client.get("/api/v1/notifications/").json()
    assert body["unread"] == 2 and body["next"] is None
    assert [n["kind"] for n in body["results"]] == [K.BREACHED, K.ASSIGNED]  # newest first
    assert body["results"][0]["case_number"] == case.number and body["results"][0]["event"] == "case.sla_breached"
    first = body["results"][1]["id"]
    assert client.post("/api/v1/notifications/read/", {"ids": [first]}, format="json").json() == {
        "marked": 1,
        "unread": 1,
    }
    assert client.post("/api/v1/notifications/read/", {}, format="json").json() == {"marked": 1, "unread": 0}


@pytest.mark.parametrize(
    ("query", "body", "field"),
    [
        ("?before=abc", None, "before"),
        ("?before=99999999999999999999999", None, "before"),
        ("", {"ids": "all"}, "ids"),
        ("", {"ids": [0]}, "ids"),
        ("", {"ids": list(range(1, 1002))}, "ids"),
    ],
)
def test_the_api_refuses_bad_input_naming_the_field(agent, api, query, body, field):
    client = api(agent)
    reply = (
        client.get(f"/api/v1/notifications/{query}")
        if body is None
        else client.post("/api/v1/notifications/read/", body, format="json")
    )
    assert reply.status_code == 400 and field in reply.json()


def test_the_api_needs_a_login(api, db):
    assert api().get("/api/v1/notifications/").status_code == 401
    assert api().post("/api/v1/notifications/read/", {}, format="json").status_code == 401
