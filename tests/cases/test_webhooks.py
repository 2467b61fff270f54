"""Webhooks and chat alerts (issue 19), against a real HTTP receiver on
127.0.0.1 (a thread running http.server on an ephemeral port; loopback is
allowed here by CVX_WEBHOOK_ALLOW_LOOPBACK, as DEBUG would)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.admin.models import LogEntry
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as h_settings
from hypothesis import strategies as st

from cases import services
from cases.choices import EventKind, Priority
from cases.models import CaseEvent
from cases.webhooks import guard
from cases.webhooks.models import (
    ChatChannel,
    ChatKind,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Webhook,
    WebhookEvent,
)
from cases.webhooks.outbox import chat_alerts
from cases.webhooks.services import deliveries_redeliver, deliveries_sweep, delivery_attempt
from cvx_site.errors import PermissionDenied
from feedback.services import feedback_ingest

pytestmark = pytest.mark.django_db


class Receiver:
    """Records every POST; answers with the next of `statuses` (then 200)."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        self.reply = b"ok"
        self.delay = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                time.sleep(receiver.delay)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "http://10.0.0.1/internal")
                self.send_header("Content-Length", str(len(receiver.reply)))
                self.end_headers()
                self.wfile.write(receiver.reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/cvx"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    settings.CVX_WEBHOOK_ALLOW_LOOPBACK = True
    settings.CVX_WEBHOOK_MAX_ATTEMPTS = 3
    settings.CVX_WEBHOOK_RETRY_SECONDS = 30
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def webhook(receiver):
    return Webhook.objects.create(name="CRM", url=receiver.url, events=list(WebhookEvent.values))


def verify(secret: str, headers: dict, body: bytes, *, tolerance: int = 300) -> dict:
    """The receiver's recipe of the README, as an integration would write it."""
    timestamp = headers["X-CVX-Timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, headers["X-CVX-Signature"])
    assert abs(time.time() - int(timestamp)) <= tolerance  # refuse replays
    return json.loads(body)


def test_an_opened_case_is_delivered_signed_in_the_documented_envelope(make_case, webhook, receiver):
    case = make_case()
    delivery = Delivery.objects.get(webhook=webhook, event="case.opened")
    assert delivery_attempt(delivery_id=delivery.pk) == DeliveryStatus.DELIVERED
    [request] = receiver.requests
    assert request["path"] == "/hooks/cvx" and request["headers"]["Content-Type"] == "application/json"
    payload = verify(webhook.secret, request["headers"], request["body"])
    assert set(payload) == {"id", "event", "occurred_at", "data"}
    assert payload["id"] == str(delivery.event_id) == request["headers"]["X-CVX-Delivery"]
    assert payload["event"] == "case.opened" == request["headers"]["X-CVX-Event"]
    assert payload["data"]["case"]["number"] == case.number and payload["data"]["case"]["team"] == case.team.slug
    assert payload["data"]["audit_event"]["kind"] == EventKind.OPENED
    # Signed with another secret, or over another body, it does not verify.
    with pytest.raises(AssertionError):
        verify("not-the-secret", request["headers"], request["body"])
    with pytest.raises(AssertionError):
        verify(webhook.secret, request["headers"], request["body"].replace(b"case.opened", b"case.closed"))
    delivery.refresh_from_db()
    assert delivery.delivered_at is not None and delivery.attempt_log.get().status_code == 200


def test_only_subscribed_events_of_active_webhooks_are_queued(make_case, receiver):
    Webhook.objects.create(name="closed only", url=receiver.url, events=["case.closed"])
    Webhook.objects.create(name="off", url=receiver.url, events=["case.opened"], active=False)
    make_case()
    assert not Delivery.objects.exists()
    on = Webhook.objects.create(name="opened", url=receiver.url, events=["case.opened", "case.assigned"])
    make_case()
    assert sorted(Delivery.objects.values_list("webhook__name", "event")) == [
        ("opened", "case.assigned"),
        ("opened", "case.opened"),
    ]
    assert Delivery.objects.filter(webhook=on).count() == 2


def test_new_feedback_is_delivered_after_commit(touchpoint, webhook, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        outcome = feedback_ingest(
            item={"touchpoint": "fault-line", "source": "chat", "external_id": "w-1", "nps": 9, "comment": "Great"}
        )
    # Tasks run inline in tests: the commit queued the send and it went out.
    [request] = receiver.requests
    payload = verify(webhook.secret, request["headers"], request["body"])
    assert payload["event"] == "feedback.created"
    assert payload["data"]["feedback"]["id"] == outcome.response.pk and payload["data"]["feedback"]["nps"] == 9
    assert not Delivery.objects.filter(event="survey.answered").exists()  # it answers no invitation


def test_a_500_is_retried_after_a_back_off_then_delivered(make_case, webhook, receiver):
    make_case()
    delivery = Delivery.objects.get(event="case.opened")
    receiver.statuses = [500]
    receiver.reply = b"x" * 3000
    now = timezone.now()
    assert delivery_attempt(delivery_id=delivery.pk, now=now) == DeliveryStatus.PENDING
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == now + timedelta(seconds=30) and delivery.last_error == "HTTP 500."
    # Not due yet: nothing is sent.
    assert delivery_attempt(delivery_id=delivery.pk, now=now + timedelta(seconds=29)) is None
    assert len(receiver.requests) == 1
    assert delivery_attempt(delivery_id=delivery.pk, now=now + timedelta(seconds=30)) == DeliveryStatus.DELIVERED
    assert len(receiver.requests) == 2 and receiver.requests[0]["body"] == receiver.requests[1]["body"]
    first, second = delivery.attempt_log.all()
    assert (first.number, first.status_code, first.error) == (1, 500, "HTTP 500.")
    assert len(first.response_excerpt) == 500  # bounded
    assert (second.number, second.status_code, second.error) == (2, 200, "")


def test_the_back_off_doubles_until_the_last_attempt_makes_a_dead_letter(make_case, webhook, receiver, cx_admin):
    make_case()
    delivery = Delivery.objects.get(event="case.opened")
    Delivery.objects.exclude(pk=delivery.pk).delete()  # the case's other events: not this test's
    receiver.statuses = [503] * 3
    now = timezone.now()
    waits = []
    for _ in range(3):
        status = delivery_attempt(delivery_id=delivery.pk, now=now)
        delivery.refresh_from_db()
        waits.append((delivery.next_attempt_at - now).total_seconds())
        now = delivery.next_attempt_at
    assert status == DeliveryStatus.DEAD and delivery.attempts == 3
    assert waits[:2] == [30, 60]
    # A dead letter is never due again: the sweep leaves it alone.
    assert deliveries_sweep(now=now + timedelta(days=30)) == 0
    assert delivery_attempt(delivery_id=delivery.pk, now=now + timedelta(days=30)) is None
    assert len(receiver.requests) == 3

    # Redelivered by a CX admin: queued again with a fresh budget, recorded.
    assert deliveries_redeliver(actor=cx_admin, delivery_ids=[delivery.pk]) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 0)
    log = LogEntry.objects.get(object_id=str(delivery.pk))
    assert log.user == cx_admin and "Redelivered (was Dead letter)" in log.change_message
    assert delivery_attempt(delivery_id=delivery.pk) == DeliveryStatus.DELIVERED
    assert len(receiver.requests) == 4


def test_only_those_who_manage_deliveries_may_redeliver(make_case, webhook, agent, lead):
    make_case()
    delivery = Delivery.objects.get(event="case.opened")
    for person in (agent, lead):
        with pytest.raises(PermissionDenied):
            deliveries_redeliver(actor=person, delivery_ids=[delivery.pk])
    assert not LogEntry.objects.exists()


def test_a_redirect_is_not_followed(make_case, webhook, receiver):
    make_case()
    delivery = Delivery.objects.get(event="case.opened")
    receiver.statuses = [302]
    assert delivery_attempt(delivery_id=delivery.pk) == DeliveryStatus.PENDING
    assert len(receiver.requests) == 1  # nothing went to the Location
    assert "redirects are not followed" in delivery.attempt_log.get().error


def test_a_claimed_delivery_is_not_sent_by_a_second_worker(make_case, webhook, receiver):
    make_case()
    delivery = Delivery.objects.get(event="case.opened")
    Delivery.objects.exclude(pk=delivery.pk).delete()
    now = timezone.now()
    # Another worker holds it (mid-send): it is not due for anyone else.
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING, claimed_until=now + timedelta(minutes=1)
    )
    assert delivery_attempt(delivery_id=delivery.pk, now=now) is None
    assert receiver.requests == []
    # A claim whose worker died runs out, and the sweep picks it up.
    later = now + timedelta(minutes=2)
    assert deliveries_sweep(now=later) == 1
    assert delivery_attempt(delivery_id=delivery.pk, now=later) == DeliveryStatus.DELIVERED
    assert len(receiver.requests) == 1


def test_a_dead_connection_is_an_error_retried(make_case, webhook, receiver):
    make_case()
    delivery = Delivery.objects.get(event="case.opened")
    receiver.close()
    assert delivery_attempt(delivery_id=delivery.pk) == DeliveryStatus.PENDING
    attempt = delivery.attempt_log.get()
    assert attempt.status_code is None and "Connection" in attempt.error


# --- no SSRF -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://10.0.0.1/hook", "10.0.0.1 is a private address"),
        ("https://192.168.1.20/hook", "private address"),
        ("https://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        ("https://[fe80::1]/hook", "link-local"),
        ("https://224.0.0.1/hook", "multicast"),
        ("https://0.0.0.0/hook", "unspecified"),
        ("https://100.64.0.1/hook", "not a public address"),
        ("https://[::ffff:10.0.0.1]/hook", "10.0.0.1 is a private address"),
        ("https://127.0.0.1/hook", "loopback"),
        ("https://localhost/hook", "loopback"),
        ("http://93.184.215.14/hook", "must start with https://"),
        ("ftp://93.184.215.14/hook", "must start with https://"),
        ("https://user:secret@93.184.215.14/hook", "user name or password"),
        ("https://no-such-host.invalid/hook", "does not resolve"),
    ],
)
def test_targets_inside_the_network_are_refused(url, reason, settings):
    settings.DEBUG = False
    settings.CVX_WEBHOOK_ALLOW_LOOPBACK = False
    with pytest.raises(guard.UnsafeTarget) as refused:
        guard.resolve(url)
    assert reason in refused.value.message and refused.value.field == "url"


def test_a_public_https_target_is_called_at_the_address_that_was_checked(settings):
    settings.CVX_WEBHOOK_ALLOW_LOOPBACK = False
    target = guard.resolve("https://93.184.215.14:8443/in?x=1")
    assert (target.scheme, target.host, target.port, target.path, target.address) == (
        "https",
        "93.184.215.14",
        8443,
        "/in?x=1",
        "93.184.215.14",
    )


def test_loopback_over_http_only_where_allowed(settings):
    settings.CVX_WEBHOOK_ALLOW_LOOPBACK = False
    settings.DEBUG = True
    assert guard.resolve("http://127.0.0.1:9/x").address == "127.0.0.1"
    settings.DEBUG = False
    with pytest.raises(guard.UnsafeTarget):
        guard.resolve("http://127.0.0.1:9/x")


def test_a_name_that_resolves_inside_is_refused_when_called(make_case, webhook, receiver, settings, monkeypatch):
    """Saved while it resolved outside, the name now answers with a private
    address (or loopback, not allowed): the call is refused after resolution."""
    make_case()
    delivery = Delivery.objects.get(event="case.opened")
    port = receiver.server.server_port
    Webhook.objects.filter(pk=webhook.pk).update(url=f"https://hooks.example.com:{port}/x")
    real = socket.getaddrinfo
    answers = {"hooks.example.com": "10.1.2.3"}

    def fake(host, *args, **kwargs):
        if host in answers:
            return real(answers[host], *args, **kwargs)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    assert delivery_attempt(delivery_id=delivery.pk) == DeliveryStatus.PENDING
    assert "10.1.2.3 is a private address" in delivery.attempt_log.get().error

    settings.CVX_WEBHOOK_ALLOW_LOOPBACK = False
    Webhook.objects.filter(pk=webhook.pk).update(url=f"http://localhost:{port}/x")
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert delivery_attempt(delivery_id=delivery.pk) == DeliveryStatus.PENDING
    assert "loopback" in delivery.attempt_log.last().error
    assert receiver.requests == []


@given(st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)))
@h_settings(max_examples=300, deadline=None)
def test_any_address_is_either_refused_or_public(address):
    """No address slips through: a literal IP URL is refused with a reason
    (never another error), and one that is called is a public address."""
    host = f"[{address}]" if address.version == 6 else str(address)
    try:
        target = guard.resolve(f"https://{host}/hook")
    except guard.UnsafeTarget as refused:
        assert refused.field == "url" and "may not be called" in refused.message
    else:
        ip = ipaddress.ip_address(target.address)
        ip = getattr(ip, "ipv4_mapped", None) or ip
        assert ip.is_global and not (ip.is_multicast or ip.is_private or ip.is_reserved or ip.is_loopback)


# --- chat alerts ------------------------------------------------------------------


@pytest.fixture
def channels(receiver, team, other_team):
    def make(name, kind, the_team, events):
        return ChatChannel.objects.create(
            name=name, kind=kind, team=the_team, url=f"{receiver.url}/{name}", events=events
        )

    return {
        "slack": make("slack", ChatKind.SLACK, team, ["breached", "urgent", "not_recovered"]),
        "teams": make("teams", ChatKind.TEAMS, team, ["breached"]),
        "elsewhere": make("elsewhere", ChatKind.SLACK, other_team, ["breached", "urgent"]),
        "quiet": make("quiet", ChatKind.SLACK, team, ["not_recovered"]),
    }


def _send_all(receiver) -> dict[str, dict]:
    for pk in Delivery.objects.values_list("pk", flat=True):
        assert delivery_attempt(delivery_id=pk) == DeliveryStatus.DELIVERED
    return {r["path"].rsplit("/", 1)[1]: json.loads(r["body"]) for r in receiver.requests}


def test_a_breach_alerts_the_teams_channels_in_their_documented_shapes(make_case, channels, receiver):
    case = make_case()
    assert not Delivery.objects.exists()  # a normal new case raises no alert
    services.sla_sweep(now=case.first_contact_due + timedelta(minutes=1))
    sent = _send_all(receiver)
    assert set(sent) == {"slack", "teams"}  # not another team's, not one that did not choose breaches

    slack = sent["slack"]
    assert case.number in slack["text"] and "breached" in slack["text"] and f"/cases/{case.pk}/" in slack["text"]
    section, actions = slack["blocks"]
    assert section["type"] == "section" and section["text"]["type"] == "mrkdwn"
    assert actions["elements"][0]["url"].endswith(f"/cases/{case.pk}/")

    teams = sent["teams"]
    assert teams["type"] == "message" and len(teams["attachments"]) == 1
    attachment = teams["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert card["body"][0]["type"] == "TextBlock" and case.number in card["body"][0]["text"]
    assert card["actions"][0] == {
        "type": "Action.OpenUrl",
        "title": f"Open {case.number}",
        "url": slack["blocks"][1]["elements"][0]["url"],
    }
    # Chat messages carry no customer details and no webhook signature.
    assert "example.com" not in json.dumps(sent) and all(
        "X-CVX-Signature" not in r["headers"] for r in receiver.requests
    )


def test_an_urgent_case_alerts_once(make_case, channels, detractor_rule, receiver):
    detractor_rule.priority = Priority.URGENT
    detractor_rule.save()
    make_case()
    sent = _send_all(receiver)
    assert set(sent) == {"slack"} and "is urgent" in sent["slack"]["text"]


def test_the_alerts_an_event_raises():
    def event(kind, **fields):
        return CaseEvent(kind=kind, **fields)

    assert chat_alerts(event(EventKind.FOLLOW_UP_ANSWERED, data={"recovered": False})) == ["not_recovered"]
    assert chat_alerts(event(EventKind.FOLLOW_UP_ANSWERED, data={"recovered": True})) == []
    assert chat_alerts(event(EventKind.SLA_BREACHED, changes={"priority": ["high", "urgent"]})) == [
        "breached",
        "urgent",
    ]
    assert chat_alerts(event(EventKind.NOTE, changes={"priority": ["urgent", "urgent"]})) == []
    assert chat_alerts(event(EventKind.OPENED, changes={"priority": [None, "normal"]})) == []


def test_an_inactive_channel_is_a_dead_letter_without_a_call(make_case, channels, receiver):
    case = make_case()
    services.sla_sweep(now=case.first_contact_due + timedelta(minutes=1))
    ChatChannel.objects.update(active=False)
    delivery = Delivery.objects.filter(channel__name="slack").get()
    assert delivery_attempt(delivery_id=delivery.pk) == DeliveryStatus.DEAD
    assert receiver.requests == [] and "inactive" in delivery.attempt_log.get().error


# --- two workers at once (PostgreSQL: real threads on real connections) --------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_sending_the_same_delivery_at_once_send_it_once(pg_audit_cleanup, make_case, webhook, receiver):
    from tests.cases.test_concurrency import run_together

    make_case()
    receiver.requests.clear()  # what the commit's own tasks sent: the race below starts from nothing
    Delivery.objects.update(status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=timezone.now())
    DeliveryAttempt.objects.all().delete()
    delivery = Delivery.objects.get(event="case.opened")
    receiver.delay = 0.3  # the first send is still in flight when the others look
    results, errors = run_together(*[lambda: delivery_attempt(delivery_id=delivery.pk)] * 4)
    assert errors == [None] * 4
    assert sorted(map(str, results)) == ["None", "None", "None", DeliveryStatus.DELIVERED]
    assert [json.loads(r["body"])["id"] for r in receiver.requests] == [str(delivery.event_id)]
    assert delivery.attempt_log.count() == 1


# --- the loop end to end: resolved, survey answered, closed not recovered -------


def test_a_follow_up_answer_is_sent_as_survey_answered_and_a_not_recovered_close_alerts(
    make_case, agent, root_cause, team, receiver, client, django_capture_on_commit_callbacks, mailoutbox
):
    from feedback.models import SurveyInvitation
    from feedback.surveys import invitation_token

    hook = Webhook.objects.create(
        name="CRM", url=receiver.url, events=["case.resolved", "case.closed", "survey.answered", "feedback.created"]
    )
    ChatChannel.objects.create(
        name="care", team=team, kind=ChatKind.SLACK, url=f"{receiver.url}/chat", events=["not_recovered"]
    )
    case = make_case(nps=3)
    Delivery.objects.all().delete()  # the detractor's own feedback.created: not this test's
    with django_capture_on_commit_callbacks(execute=True):
        services.case_log_contact(case_id=case.pk, actor=agent, channel="phone", note="Called the customer")
        services.case_resolve(case_id=case.pk, actor=agent, root_cause=root_cause, note="Replaced the router")
    invitation = SurveyInvitation.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/s/{invitation_token(invitation)}/", {"nps": "4"}).status_code in (200, 302)

    signed = [verify(hook.secret, r["headers"], r["body"]) for r in receiver.requests if r["path"] == "/hooks/cvx"]
    by_event = {payload["event"]: payload["data"] for payload in signed}
    assert set(by_event) == {"case.resolved", "feedback.created", "survey.answered", "case.closed"}
    assert by_event["survey.answered"]["feedback"]["invitation"] == invitation.pk
    assert by_event["survey.answered"]["feedback"]["nps"] == 4
    assert by_event["case.closed"]["case"]["outcome"] == "not_recovered"
    [chat] = [json.loads(r["body"]) for r in receiver.requests if r["path"].endswith("/chat")]
    assert case.number in chat["text"] and "not recovered" in chat["text"]
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}


def test_the_sweep_is_scheduled_every_minute():
    from django.utils.module_loading import import_string
    from django_q.models import Schedule

    schedule = Schedule.objects.get(name="cvx: webhook deliveries")
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == (Schedule.MINUTES, 1, -1)
    assert import_string(schedule.func) is not None


def test_erasing_a_customer_erases_the_deliveries_that_copy_their_data(make_case, webhook, receiver):
    from feedback.privacy import customer_erase

    erased, kept = make_case(), make_case()
    assert delivery_attempt(delivery_id=Delivery.objects.filter(event="case.opened").first().pk)
    theirs = Delivery.objects.filter(customer_id=erased.customer_id)
    assert {d.event for d in theirs} == {"feedback.created", "case.opened", "case.assigned"}
    assert "The line dropped again" in theirs.get(event="feedback.created").body
    customer_erase(customer_id=erased.customer_id, actor_label="privacy request 7")
    assert not Delivery.objects.filter(customer_id=erased.customer_id).exists()
    assert Delivery.objects.filter(customer_id=kept.customer_id).count() == 3
