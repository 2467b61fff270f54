"""Emailing the customer from the case: POST /api/v1/cases/{id}/messages/,
reply templates rendered by the whitelist renderer, delivery after commit
through Django's email backend (a real local SMTP sink), failures on the case."""

from __future__ import annotations

import asyncio
import email
import socket
from email import policy as email_policy

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.mail.backends import locmem
from hypothesis import given
from hypothesis import settings as h_settings
from hypothesis import strategies as st

from cases.choices import CaseStatus, EventKind
from cases.messaging.models import DeliveryStatus, Direction, Message, ReplyTemplate
from cases.messaging.render import render
from cases.messaging.tokens import case_id_from_addresses
from cvx_site.errors import InvalidInput

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _mail_settings(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CVX_REPLY_MAILBOX = "replies@example.com"
    settings.CVX_MAIL_RETRY_SECONDS = 0


def _url(case) -> str:
    return f"/api/v1/cases/{case.pk}/messages/"


def _send(api, user, case, body, on_commit):
    with on_commit(execute=True):
        return api(user).post(_url(case), body, format="json")


def test_a_message_is_sent_recorded_as_an_email_contact_and_hashed_in_the_trail(
    make_case, agent, api, django_capture_on_commit_callbacks
):
    case = make_case()
    reply = _send(
        api, agent, case, {"subject": "About your line", "body": "We fixed it."}, django_capture_on_commit_callbacks
    )
    assert reply.status_code == 201, reply.json()
    # Delivery happens after commit: the reply has the message queued.
    assert reply.json()["status"] == DeliveryStatus.QUEUED
    message = Message.objects.get(pk=reply.json()["id"])
    assert message.status == DeliveryStatus.SENT and message.sent_at is not None
    assert (message.direction, message.author, message.to_email) == (
        Direction.OUT,
        agent,
        case.customer.identities.get().value,
    )
    case.refresh_from_db()
    assert (case.status, case.contact_count) == (CaseStatus.CONTACTED, 1)
    event = case.events.order_by("-seq").first()
    assert event.kind == EventKind.CONTACTED and event.actor == agent
    assert event.data == {"channel": "email", "message": message.pk, "message_sha256": message.content_hash}
    [sent] = mail.outbox
    assert sent.to == [message.to_email] and sent.subject == "About your line"
    [reply_to] = sent.reply_to
    assert reply_to.startswith("replies+") and reply_to.endswith("@example.com")
    assert case_id_from_addresses([reply_to]) == (case.pk, "")


def test_a_template_fills_subject_and_body_from_plain_values(make_case, agent, api, django_capture_on_commit_callbacks):
    case = make_case(customer={"email": "ann@example.com", "name": "Ann Lee"})
    agent.first_name = "Sam"
    agent.save()
    template = ReplyTemplate.objects.create(
        name="Sorry", subject="Your case {{ case.number }}", body="Dear {{customer.name}}, {{ agent.first_name }} here."
    )
    reply = _send(api, agent, case, {"template": template.pk}, django_capture_on_commit_callbacks)
    assert reply.status_code == 201, reply.json()
    assert reply.json()["subject"] == f"Your case {case.number}"
    assert reply.json()["body"] == "Dear Ann Lee, Sam here."
    assert case.events.order_by("-seq").first().data["template"] == "Sorry"


def test_a_template_with_a_broken_placeholder_is_a_400_naming_it_and_sends_nothing(make_case, agent, api):
    case = make_case()
    # Saved past the admin's check (as an older template might be): refused at send time too.
    template = ReplyTemplate.objects.create(name="Bad", subject="Hi", body="Hello {{ customer.__class__ }}")
    reply = api(agent).post(_url(case), {"template": template.pk}, format="json")
    assert reply.status_code == 400
    assert "{{ customer.__class__ }}" in reply.json()["body"][0]
    assert not Message.objects.exists()
    assert not case.events.filter(kind=EventKind.CONTACTED).exists()


@pytest.mark.parametrize(
    ("field", "text", "named"),
    [
        ("body", "Hi {{ customer.password }}", "{{ customer.password }}"),
        ("subject", "Case {% load x %}", "{%"),
        ("body", "Hi {{ customer.name", "{{"),
    ],
)
def test_the_admin_form_refuses_an_unknown_or_broken_placeholder_naming_field_and_placeholder(field, text, named):
    template = ReplyTemplate(name="T", subject="Hi", body="Hello")
    setattr(template, field, text)
    with pytest.raises(ValidationError) as exc:
        template.full_clean()
    assert list(exc.value.message_dict) == [field]
    assert named in exc.value.message_dict[field][0]


@h_settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([*"{}% .abcmnoprstu_", "customer.name", "{{", "}}"]), max_size=30).map("".join))
def test_rendering_any_text_either_renders_or_refuses_with_invalid_input(text):
    try:
        out = render(text, {"customer.name": "Ann"}, field="body")
    except InvalidInput as exc:
        assert exc.field == "body"
    else:
        assert "{{" not in out and "}}" not in out


def test_a_customer_without_email_is_a_400_suggesting_a_phone_contact(make_case, agent, api):
    case = make_case(customer={"phone": "+441234567890"})
    reply = api(agent).post(_url(case), {"subject": "Hi", "body": "Hello"}, format="json")
    assert reply.status_code == 400
    assert "phone contact" in reply.json()["to"][0]
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"subject": "", "body": "x"}, "subject"),
        ({"subject": "Hi", "body": "a\x00b"}, "body"),
        ({"subject": "Hi", "body": "x" * 20_001}, "body"),
    ],
)
def test_bad_text_is_a_400_naming_the_field(make_case, agent, api, body, field):
    reply = api(agent).post(_url(make_case()), body, format="json")
    assert reply.status_code == 400 and field in reply.json()


@pytest.mark.parametrize("who", ["outsider", "other_agent"])
def test_someone_who_cannot_see_the_case_gets_404(make_case, api, request, who):
    case = make_case()
    reply = api(request.getfixturevalue(who)).post(_url(case), {"subject": "Hi", "body": "Hello"}, format="json")
    assert reply.status_code == 404
    assert not Message.objects.exists()


def test_a_sent_message_counts_as_the_contact_resolving_needs(
    make_case, agent, api, root_cause, django_capture_on_commit_callbacks
):
    case = make_case()
    _send(api, agent, case, {"subject": "Hi", "body": "Fixed"}, django_capture_on_commit_callbacks)
    reply = api(agent).post(
        f"/api/v1/cases/{case.pk}/transitions/",
        {"action": "resolve", "root_cause": root_cause.pk, "note": "Line repaired"},
        format="json",
    )
    assert reply.status_code == 200, reply.json()
    assert reply.json()["status"] in (CaseStatus.RESOLVED, CaseStatus.AWAITING_FOLLOW_UP)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_sink(settings):
    """A real SMTP server on localhost (aiosmtpd) that keeps what it receives."""
    from aiosmtpd.controller import Controller

    received = []

    class Sink:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope)
            return "250 OK"

    port = _free_port()
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", port, False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield received
    controller.stop()
    asyncio.set_event_loop(None)


def test_a_real_smtp_server_receives_the_message_with_its_reply_token(
    make_case, agent, api, smtp_sink, django_capture_on_commit_callbacks
):
    case = make_case(customer={"email": "bob@example.com"})
    reply = _send(
        api, agent, case, {"subject": "Your line", "body": "All good now."}, django_capture_on_commit_callbacks
    )
    assert reply.status_code == 201
    assert Message.objects.get().status == DeliveryStatus.SENT
    [envelope] = smtp_sink
    assert envelope.rcpt_tos == ["bob@example.com"]
    received = email.message_from_bytes(envelope.content, policy=email_policy.default)
    assert received["Subject"] == "Your line"
    assert received.get_content().strip() == "All good now."
    assert received["Message-ID"] == Message.objects.get().message_id
    assert case_id_from_addresses([str(received["Reply-To"])]) == (case.pk, "")


def test_a_send_failure_is_marked_on_the_message_and_recorded_on_the_case(
    make_case, agent, api, settings, django_capture_on_commit_callbacks
):
    case = make_case(customer={"email": "down@example.com"})
    settings.EMAIL_BACKEND = f"{__name__}.CustomerServerDownBackend"
    settings.CVX_MAIL_SEND_ATTEMPTS = 2
    reply = _send(api, agent, case, {"subject": "Hi", "body": "Hello"}, django_capture_on_commit_callbacks)
    assert reply.status_code == 201
    message = Message.objects.get()
    assert message.status == DeliveryStatus.FAILED
    assert message.attempts == 2 and "ConnectionRefusedError" in message.error
    failed = case.events.get(kind=EventKind.MESSAGE_FAILED)
    assert failed.actor is None and failed.data["message"] == message.pk
    # The owner hears of it.
    assert [m.to for m in mail.outbox] == [[agent.email]]
    assert "not delivered" in mail.outbox[0].subject


class CustomerServerDownBackend(locmem.EmailBackend):
    """Refuses mail to the customer in the failure test; keeps the rest."""

    def send_messages(self, messages):
        if any("down@example.com" in m.to for m in messages):
            raise ConnectionRefusedError(111, "Connection refused")
        return super().send_messages(messages)


# --- the case page's messages panel ---------------------------------------------


def _panel(case) -> str:
    return f"/cases/{case.pk}/messages/"


def test_the_case_page_loads_the_messages_panel(make_case, agent, client):
    case = make_case()
    client.force_login(agent)
    page = client.get(f"/cases/{case.pk}/")
    assert page.status_code == 200
    assert f'hx-get="{_panel(case)}"'.encode() in page.content


def test_choosing_a_template_prefills_subject_and_body(make_case, agent, client):
    case = make_case(customer={"email": "ann@example.com", "name": "Ann Lee"})
    template = ReplyTemplate.objects.create(
        name="Hello", subject="About {{ case.number }}", body="Dear {{ customer.name }}"
    )
    client.force_login(agent)
    panel = client.get(_panel(case), {"template": template.pk})
    assert panel.status_code == 200
    assert f"About {case.number}".encode() in panel.content and b"Dear Ann Lee" in panel.content


def test_the_composer_sends_and_the_customer_message_is_set_apart(
    make_case, agent, client, django_capture_on_commit_callbacks
):
    case = make_case()
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(_panel(case), {"subject": "Checking in", "body": "Is the line OK?"})
    assert sent.status_code == 302
    Message.objects.create(
        case=case,
        direction=Direction.IN,
        to_email="replies@example.com",
        from_email="c@example.com",
        subject="Re: Checking in",
        body="Yes thanks",
        content_hash="0" * 64,
        status=DeliveryStatus.RECEIVED,
        message_id="<in-1@x>",
    )
    panel = client.get(_panel(case)).content.decode()
    assert "Email to the customer" in panel and "Sent" in panel
    assert 'class="message message-in"' in panel and "Customer wrote" in panel


def test_a_composer_error_is_shown_and_the_text_survives(make_case, agent, client):
    case = make_case(customer={"phone": "+441234567890"})
    client.force_login(agent)
    panel = client.post(_panel(case), {"subject": "Keep me", "body": "And me"})
    assert panel.status_code == 400
    content = panel.content.decode()
    assert "phone contact" in content and 'value="Keep me"' in content and "And me" in content
    assert not Message.objects.exists()


def test_an_outsider_gets_404_from_the_panel(make_case, outsider, client):
    case = make_case()
    client.force_login(outsider)
    assert client.get(_panel(case)).status_code == 404
    assert client.post(_panel(case), {"subject": "x", "body": "y"}).status_code == 404
