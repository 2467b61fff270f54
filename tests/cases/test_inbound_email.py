"""Customer replies come back to the case: POST /api/v1/inbound-email/ with
real RFC 822 bytes, matched by the signed reply token of the case."""

from __future__ import annotations

import time
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.core import mail, signing
from hypothesis import HealthCheck, given
from hypothesis import settings as h_settings
from hypothesis import strategies as st

from cases.choices import CaseStatus, EventKind
from cases.messaging.inbound import inbound_email_receive
from cases.messaging.models import Direction, Message, UnmatchedEmail
from cases.messaging.tokens import reply_address
from cases.models import Case

pytestmark = pytest.mark.django_db

SECRET = "inbound-test-secret-0123456789"
URL = "/api/v1/inbound-email/"


@pytest.fixture(autouse=True)
def _mail_settings(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CVX_REPLY_MAILBOX = "replies@example.com"
    settings.CVX_INBOUND_SECRET = SECRET
    settings.CVX_REOPEN_ON_REPLY = True


def rfc822(*, to: str, body: str = "Thanks, it works now.", message_id: str | None = None, **headers) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Ann Lee <ann@example.com>"
    msg["To"] = to
    msg["Subject"] = "Re: Your line"
    msg["Message-ID"] = message_id or make_msgid(domain="mail.example.com")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg.as_bytes()


def post(client, raw: bytes, *, secret: str | None = SECRET):
    extra = {"HTTP_X_CVX_INBOUND_SECRET": secret} if secret is not None else {}
    return client.post(URL, data=raw, content_type="message/rfc822", **extra)


def test_a_reply_is_attached_to_its_case_hashed_in_the_trail_and_the_owner_is_told(
    make_case, agent, client, django_capture_on_commit_callbacks
):
    case = make_case()
    with django_capture_on_commit_callbacks(execute=True):
        reply = post(client, rfc822(to=reply_address(case.pk), body="Thanks, it works now."))
    assert reply.status_code == 201, reply.json()
    assert reply.json()["case"] == case.number
    message = Message.objects.get()
    assert (message.case_id, message.direction, message.from_email) == (case.pk, Direction.IN, "ann@example.com")
    assert message.body.strip() == "Thanks, it works now."
    event = case.events.order_by("-seq").first()
    assert (event.kind, event.actor) == (EventKind.CUSTOMER_REPLIED, None)
    assert event.data["message_sha256"] == message.content_hash
    assert [m.to for m in mail.outbox] == [[agent.email]]
    assert "replied" in mail.outbox[0].subject


def test_the_token_is_also_found_in_delivered_to(make_case, client):
    case = make_case()
    raw = rfc822(to="replies@example.com", Delivered_To=reply_address(case.pk))
    assert post(client, raw).status_code == 201
    assert Message.objects.get().case_id == case.pk


def test_a_reply_to_a_resolved_case_reopens_it_through_the_state_table(make_case, agent, root_cause, client):
    from cases.services import case_log_contact, case_resolve

    case = make_case()
    case_log_contact(case_id=case.pk, actor=agent, channel="phone", note="Called")
    case_resolve(case_id=case.pk, actor=agent, root_cause=root_cause, note="Fixed")
    assert post(client, rfc822(to=reply_address(case.pk))).status_code == 201
    case.refresh_from_db()
    assert case.status == CaseStatus.REOPENED and case.resolved_at is None
    reopened = case.events.order_by("-seq").first()
    assert (reopened.kind, reopened.actor) == (EventKind.REOPENED, None)


def test_without_the_setting_a_reply_leaves_a_resolved_case_as_it_is(make_case, agent, root_cause, client, settings):
    from cases.services import case_log_contact, case_resolve

    settings.CVX_REOPEN_ON_REPLY = False
    case = make_case()
    case_log_contact(case_id=case.pk, actor=agent, channel="phone", note="Called")
    case_resolve(case_id=case.pk, actor=agent, root_cause=root_cause, note="Fixed")
    status = Case.objects.get(pk=case.pk).status
    assert post(client, rfc822(to=reply_address(case.pk))).status_code == 201
    assert Case.objects.get(pk=case.pk).status == status
    assert not case.events.filter(kind=EventKind.REOPENED).exists()


def test_the_same_message_id_delivered_twice_is_stored_once(make_case, client):
    case = make_case()
    raw = rfc822(to=reply_address(case.pk), message_id="<same-1@mail.example.com>")
    assert post(client, raw).status_code == 201
    again = post(client, raw)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert Message.objects.count() == 1
    assert case.events.filter(kind=EventKind.CUSTOMER_REPLIED).count() == 1


def _unmatched(client, to: str, reason: str):
    reply = post(client, rfc822(to=to))
    assert reply.status_code == 202, reply.content
    assert reply.json()["status"] == "unmatched" and reason in reply.json()["reason"]
    assert not Message.objects.exists()
    assert UnmatchedEmail.objects.get().reason == reply.json()["reason"]


def test_a_forged_token_goes_to_the_unmatched_list_never_to_a_case(make_case, client):
    case = make_case()
    local, _, domain = reply_address(case.pk).partition("@")
    # Another case's number under this case's signature.
    forged = local.replace(f"+{case.pk}.", f"+{case.pk + 1}.", 1)
    _unmatched(client, f"{forged}@{domain}", "forged")
    assert not case.events.filter(kind=EventKind.CUSTOMER_REPLIED).exists()


def test_an_expired_token_goes_to_the_unmatched_list(make_case, client, settings, monkeypatch):
    case = make_case()
    long_ago = time.time() - (settings.CVX_REPLY_TOKEN_MAX_AGE_DAYS + 1) * 86400
    monkeypatch.setattr(signing.time, "time", lambda: long_ago)
    address = reply_address(case.pk)
    monkeypatch.undo()
    _unmatched(client, address, "expired")


def test_an_email_without_a_token_goes_to_the_unmatched_list(make_case, client):
    make_case()
    _unmatched(client, "replies@example.com", "no reply token")


def test_a_20_mb_body_is_refused_with_413_and_nothing_stored(make_case, client):
    case = make_case()
    raw = rfc822(to=reply_address(case.pk), body="x" * 100) + b"y" * (20 * 1024 * 1024)
    reply = post(client, raw)
    assert reply.status_code == 413
    assert not Message.objects.exists() and not UnmatchedEmail.objects.exists()


@pytest.mark.parametrize(("secret", "status"), [(None, 401), ("wrong-secret", 403), ("", 401)])
def test_the_endpoint_needs_the_shared_secret(make_case, client, secret, status):
    case = make_case()
    assert post(client, rfc822(to=reply_address(case.pk)), secret=secret).status_code == status
    assert not Message.objects.exists()


def test_with_no_secret_configured_the_endpoint_refuses_everything(make_case, client, settings):
    settings.CVX_INBOUND_SECRET = ""
    case = make_case()
    assert post(client, rfc822(to=reply_address(case.pk)), secret="").status_code == 401
    assert post(client, rfc822(to=reply_address(case.pk)), secret="anything").status_code == 403


def test_an_html_only_reply_is_stored_as_text(make_case):
    case = make_case()
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "ann@example.com", reply_address(case.pk), "Re"
    msg["Message-ID"] = make_msgid()
    msg.set_content("<p>Thanks <b>a lot</b><script>x()</script></p>", subtype="html")
    result = inbound_email_receive(msg.as_bytes())
    assert result.status == "attached"
    assert "<" not in result.message.body and "Thanks a lot" in result.message.body


def test_the_unmatched_list_is_for_cx_admins_only(client, cx_admin, lead):
    UnmatchedEmail.objects.create(message_id="<u1@x>", from_email="who@example.com", reason="no reply token")
    client.force_login(cx_admin)
    page = client.get("/admin/cases/unmatchedemail/")
    assert page.status_code == 200 and b"who@example.com" in page.content
    client.force_login(lead)
    assert client.get("/admin/cases/unmatchedemail/").status_code == 403


class FakeIMAP:
    """Stands in for imaplib.IMAP4_SSL: a mailbox of unseen raw emails."""

    def __init__(self, mails: dict[bytes, bytes]):
        self.mails, self.seen, self.logged_in = mails, [], None

    def __call__(self, host, port, timeout=None):
        self.address = (host, port)
        return self

    def login(self, user, password):
        self.logged_in = user

    def select(self, folder):
        return ("OK", [b"2"]) if folder == "INBOX" else ("NO", [b""])

    def uid(self, command, *args):
        if command == "SEARCH":
            return "OK", [b" ".join(u for u in self.mails if u not in self.seen)]
        if command == "FETCH":
            return "OK", [(b"1 (BODY[] {n}", self.mails[args[0]]), b")"]
        if command == "STORE":
            self.seen.append(args[0])
            return "OK", [b""]
        raise AssertionError(command)

    def logout(self):
        pass


def test_fetch_mail_attaches_replies_and_keeps_the_rest_unmatched(make_case, settings, monkeypatch):
    import imaplib

    from django.core.management import call_command

    case = make_case()
    settings.CVX_IMAP_HOST, settings.CVX_IMAP_USER, settings.CVX_IMAP_FOLDER = "imap.example.com", "replies", "INBOX"
    fake = FakeIMAP({b"7": rfc822(to=reply_address(case.pk)), b"8": rfc822(to="replies@example.com")})
    monkeypatch.setattr(imaplib, "IMAP4_SSL", fake)
    call_command("fetch_mail")
    assert fake.logged_in == "replies" and fake.seen == [b"7", b"8"]
    assert Message.objects.get().case_id == case.pk
    assert UnmatchedEmail.objects.count() == 1
    # A second run finds nothing unseen and stores nothing twice.
    call_command("fetch_mail")
    assert Message.objects.count() == 1


_HEADER_LINES = st.sampled_from(
    [
        b"From: =?utf-8?q?=FF=FE?= <@>\r\n",
        b'To: replies+1.abc.def@example.com, "unterminated <x@\r\n',
        b"To: replies+@example.com\r\n",
        b"Delivered-To: replies+99999999999999999999999.a.b@example.com\r\n",
        b"Subject: =?bogus-charset?b?////?=\r\n",
        b"Message-ID: \x00<weird>\r\n",
        b'Content-Type: multipart/alternative; boundary="b"\r\n',
        b"Content-Type: text/plain; charset=no-such-charset\r\n",
        b"Content-Transfer-Encoding: base64\r\n",
        b"\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>hi\r\n",
        b"\r\n",
    ]
)


@h_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    raw=st.one_of(
        st.binary(max_size=400), st.lists(st.one_of(_HEADER_LINES, st.binary(max_size=40)), max_size=12).map(b"".join)
    )
)
def test_no_inbound_bytes_give_an_error_only_a_stored_outcome(db, raw):
    result = inbound_email_receive(raw)
    assert result.status in ("attached", "duplicate", "unmatched")
