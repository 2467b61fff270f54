"""The agent's day, walked in Chromium (issue 17, "Done when"): an agent
finds a customer by email, opens the case, replies with a reply template;
the customer's answer comes back as real RFC 822 bytes through the inbound
endpoint, rings the bell and shows on the case; the agent resolves the
case, which is then under "Closed" and "My recent" and still found by
search.

The email CVX sends goes through Django's SMTP backend to a real local SMTP
server (aiosmtpd), and the customer's reply is addressed to the Reply-To of
the bytes that server received, as a mail client would.

Screenshots at desktop (1366x768) and phone (390x844) widths of each main
step go to artifacts/screenshots/walk-*.png; at each, neither width may
scroll sideways. The README's "An agent's day" describes this walk."""

from __future__ import annotations

import email
import json
import re
import socket
import urllib.error
import urllib.request
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from tests.browser.test_case_flow import SCREENSHOTS, action, expect, log_in

pytestmark = [
    # The live server sees only committed data; see test_case_flow.py.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("pg_audit_cleanup"),
]

INBOUND_SECRET = "walk-inbound-secret-0123456789abcdef"
CUSTOMER = {"email": "ann.lee@example.net", "name": "Ann Lee"}
WIDTHS = {"": {"width": 1366, "height": 768}, "-phone": {"width": 390, "height": 844}}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_sink(settings):
    """A real SMTP server on localhost (aiosmtpd, in its own thread and event
    loop) that keeps what it receives; Django's SMTP backend sends to it."""
    from aiosmtpd.controller import Controller

    received = []

    class Sink:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope)
            return "250 OK"

    controller = Controller(Sink(), hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", controller.port, False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.CVX_MAIL_RETRY_SECONDS = 0
    settings.CVX_REPLY_MAILBOX = "replies@example.com"
    settings.CVX_INBOUND_SECRET = INBOUND_SECRET
    yield received
    controller.stop()


def shoot(page, name: str) -> None:
    """Full-page screenshots at both widths; neither may scroll sideways
    (something cut off or too wide for a phone)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for suffix, viewport in WIDTHS.items():
        page.set_viewport_size(viewport)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{name}{suffix}: the page is {width} px wide"
        page.screenshot(path=str(SCREENSHOTS / f"walk-{name}{suffix}.png"), full_page=True)
    page.set_viewport_size(WIDTHS[""])


def sent_to(sink, address: str):
    """The one email the SMTP server received for `address`, parsed."""
    [envelope] = [e for e in sink if address in e.rcpt_tos]
    return email.message_from_bytes(envelope.content, policy=email_policy.default)


def customer_reply(sent, text: str) -> bytes:
    """What the customer's mail client sends on "Reply": to the Reply-To,
    threaded under the message, quoting it."""
    reply = EmailMessage()
    reply["From"] = f"{CUSTOMER['name']} <{CUSTOMER['email']}>"
    reply["To"] = str(sent["Reply-To"])
    reply["Subject"] = f"Re: {sent['Subject']}"
    reply["Message-ID"] = make_msgid(domain="mail.example.net")
    reply["In-Reply-To"] = reply["References"] = str(sent["Message-ID"])
    quoted = "\n".join(f"> {line}" for line in sent.get_content().splitlines())
    reply.set_content(f"{text}\n\nOn Monday, CVX wrote:\n{quoted}\n")
    return reply.as_bytes()


def post_inbound(live_server, raw: bytes) -> tuple[int, dict]:
    """POST the raw email to the inbound endpoint over HTTP, as a mail
    provider's webhook would."""
    request = urllib.request.Request(
        f"{live_server.url}/api/v1/inbound-email/",
        data=raw,
        method="POST",
        headers={"Content-Type": "message/rfc822", "X-CVX-Inbound-Secret": INBOUND_SECRET},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def search(page, text: str):
    """Search with the page's search box; the result table's rows."""
    form = page.get_by_role("search")
    form.get_by_label("Search").fill(text)
    form.get_by_role("button", name="Search").click()
    return page.locator("table.queue tbody tr")


def test_an_agent_finds_replies_hears_back_and_resolves(page, live_server, agent, make_case, root_cause, smtp_sink):
    from cases.choices import EventKind
    from cases.messaging.models import DeliveryStatus, Direction, Message, ReplyTemplate

    agent.first_name = "Sam"
    agent.save(update_fields=["first_name"])
    case = make_case(customer=CUSTOMER, comment="Three days without internet and nobody called me back")
    others = [make_case(comment="The line dropped again") for _ in range(2)]
    ReplyTemplate.objects.create(
        name="Apology and next step",
        team=case.team,
        subject="Your case {{ case.number }}",
        body="Dear {{ customer.name }},\n\nI am sorry about your line. An engineer visits on Friday.\n\n"
        "{{ agent.first_name }}, Customer care",
    )
    page.set_viewport_size(WIDTHS[""])

    # 1. The agent logs in and finds the customer by email, among their cases.
    log_in(page, live_server, agent)
    expect(page.get_by_role("heading", name="My queue")).to_be_visible()
    rows = search(page, CUSTOMER["email"])
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(case.number)
    expect(rows).to_contain_text(CUSTOMER["name"])
    expect(rows).to_contain_text("Three days without internet")
    for other in others:
        expect(rows).not_to_contain_text(other.number)
    shoot(page, "search")

    # 2. Opens the case; 3. replies with the template, filled in for this customer.
    rows.get_by_role("link", name=case.number).click()
    expect(page.get_by_role("heading", name=case.number)).to_be_visible()
    panel = page.get_by_role("region", name="Email with the customer")
    expect(panel).to_contain_text("No email with the customer yet.")
    composer = panel.locator("details.action")
    composer.locator("summary", has_text="Reply to the customer").click()
    expect(composer).to_contain_text(f"To {CUSTOMER['email']}")
    composer.get_by_label("Reply template").select_option(label="Apology and next step")
    expect(panel.get_by_label("Subject")).to_have_value(f"Your case {case.number}")
    expect(composer).to_have_attribute("open", "")  # still open, to edit and send
    body = panel.get_by_label("Message")
    expect(body).to_have_value(
        "Dear Ann Lee,\n\nI am sorry about your line. An engineer visits on Friday.\n\nSam, Customer care"
    )
    shoot(page, "case-composer")
    panel.get_by_role("button", name="Send email").click()

    expect(page.locator(".case-head .badge").first).to_have_text("Contacted")
    sent_item = panel.get_by_role("listitem").filter(has_text="Email to the customer")
    expect(sent_item).to_contain_text(f"Your case {case.number}")
    expect(sent_item).to_contain_text("Sent")
    timeline = page.get_by_role("region", name="Timeline")
    expect(timeline.get_by_role("listitem").filter(has_text="Contact logged by agent")).to_contain_text(
        f"Email: Your case {case.number}"
    )

    # What the SMTP server got: the customer's address, the rendered text, a reply address.
    sent = sent_to(smtp_sink, CUSTOMER["email"])
    assert sent["Subject"] == f"Your case {case.number}"
    assert sent.get_content().startswith("Dear Ann Lee,")
    assert str(sent["Reply-To"]).startswith("replies+")
    outgoing = Message.objects.get(case=case, direction=Direction.OUT)
    assert outgoing.status == DeliveryStatus.SENT and str(sent["Message-ID"]) == outgoing.message_id

    # 4. The customer answers from their mail client: real RFC 822 bytes to the inbound endpoint.
    unread_before = int(page.locator("#bell-count").text_content() or 0)
    status, reply = post_inbound(live_server, customer_reply(sent, "Thank you, Friday morning suits me."))
    assert (status, reply.get("status"), reply.get("case")) == (201, "attached", case.number)

    # 5. The bell rings on the page the agent has open, with no reload (htmx polls it every 30 s).
    page.wait_for_function(
        "before => Number(document.getElementById('bell-count')?.textContent) > before",
        arg=unread_before,
        timeout=45_000,
    )
    expect(page.locator("#bell-count")).to_be_visible()
    page.locator("#bell").click()
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    told = page.get_by_role("link", name=re.compile(rf"{case.number}\b.*replied"))
    expect(told).to_have_count(1)
    shoot(page, "notifications")
    told.click()
    expect(page.get_by_role("heading", name=case.number)).to_be_visible()
    wrote = panel.get_by_role("listitem").filter(has_text="Customer wrote")
    expect(wrote).to_contain_text(CUSTOMER["email"])
    expect(wrote).to_contain_text("Thank you, Friday morning suits me.")
    # The customer's words stand apart from ours.
    background = "e => getComputedStyle(e).backgroundColor"
    assert wrote.evaluate(background) != sent_item.evaluate(background)
    expect(timeline.get_by_role("listitem").filter(has_text="Customer replied by system")).to_contain_text(
        f"Email from the customer: Re: Your case {case.number}"
    )
    shoot(page, "reply")

    # 6. Resolves the case: allowed, the case has a contact.
    resolve = action(page, "Resolve")
    resolve.get_by_label("Root cause").select_option(label="Network › Line fault")
    resolve.get_by_label("Resolution summary").fill("Engineer booked for Friday; the customer agreed.")
    resolve.get_by_role("button", name="Resolve").click()
    expect(page.get_by_role("status")).to_contain_text(f"{case.number}: resolve — done.")
    expect(timeline.get_by_role("listitem").filter(has_text="Resolved by agent")).to_contain_text(
        "Engineer booked for Friday; the customer agreed."
    )

    # 7. It has left My queue and is under Closed...
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My queue").click()
    expect(page.get_by_role("heading", name="My queue")).to_be_visible()
    expect(page.get_by_role("link", name=case.number)).to_have_count(0)
    page.get_by_role("navigation", name="Views").get_by_role("link", name="Closed").click()
    expect(page.get_by_role("heading", name="Closed")).to_be_visible()
    closed = page.locator("table.queue tbody tr")
    expect(closed).to_have_count(1)
    expect(closed).to_contain_text(case.number)
    expect(closed).to_contain_text(CUSTOMER["name"])
    shoot(page, "closed")
    page.get_by_role("navigation", name="Views").get_by_role("link", name="My recent").click()
    expect(page.get_by_role("heading", name="My recent")).to_be_visible()
    expect(page.get_by_role("link", name=case.number)).to_be_visible()

    # ...and search still finds it, closed, by email.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Search").click()
    expect(page.get_by_role("heading", name="Search cases")).to_be_visible()
    found = search(page, CUSTOMER["email"])
    expect(found).to_have_count(1)
    expect(found.get_by_role("link", name=case.number)).to_be_visible()

    # All of it went through the services, on the audit trail, in order.
    kinds = list(case.events.order_by("seq").values_list("kind", flat=True))
    walked = [EventKind.CONTACTED, EventKind.CUSTOMER_REPLIED, EventKind.RESOLVED]
    assert [k for k in kinds if k in walked] == walked
    incoming = Message.objects.get(case=case, direction=Direction.IN)
    assert incoming.from_email == CUSTOMER["email"]
    assert incoming.body.startswith("Thank you, Friday morning suits me.")
