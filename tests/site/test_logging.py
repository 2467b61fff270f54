"""Secrets and personal data stay out of the logs, and masking them does not
damage the rest of a line (status codes, sizes, timestamps, ids)."""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail, signing
from hypothesis import example, given
from hypothesis import strategies as st

from cvx_site.logging import EMAIL_MASK, PHONE_MASK, TOKEN_MASK, mask

# --- what must survive ------------------------------------------------------------

STATUS = st.integers(min_value=100, max_value=599)
SIZE = st.integers(min_value=0, max_value=10**12)
MOMENT = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))
PATH = st.text(alphabet=string.ascii_letters + string.digits + "/-_.?=&%", max_size=60).map(lambda p: "/" + p)


def timestamps(moment: datetime) -> list[str]:
    """The ways our logs write a time: logging's asctime, runserver's, ISO with
    microseconds and offset (Django, axes, django-q), epoch seconds."""
    return [
        moment.strftime("%Y-%m-%d %H:%M:%S,") + f"{moment.microsecond // 1000:03d}",
        moment.strftime("%d/%b/%Y %H:%M:%S"),
        moment.isoformat(),
        str(moment),
        f"{moment.timestamp():.6f}",
    ]


@given(MOMENT, st.sampled_from(["GET", "POST", "HEAD"]), PATH, STATUS, SIZE)
@example(datetime(2026, 11, 25, 5, 48, 12, 345678, tzinfo=UTC), "GET", "/cases/queue/mine/", 200, 12345)
def test_access_log_lines_keep_their_status_size_and_time(moment, method, path, status, size):
    """What runserver's django.server logger writes, through our formatter."""
    asctime, runserver_time, *_ = timestamps(moment)
    line = f'{asctime} INFO django.server [{runserver_time}] "{method} {path} HTTP/1.1" {status} {size}'
    masked = mask(line)
    assert masked.startswith(f"{asctime} INFO django.server [{runserver_time}] ")
    assert masked.endswith(f' HTTP/1.1" {status} {size}')


@given(MOMENT)
@example(datetime(2026, 12, 6, 5, 48, 12, 345678, tzinfo=UTC))
def test_timestamps_are_left_alone(moment):
    for stamp in timestamps(moment):
        text = f"AXES: Cleaned up 0 expired access attempts older than {stamp}"
        assert mask(text) == text


@given(st.one_of(st.integers(), st.floats(allow_nan=False), st.uuids(), st.dates(), st.times()))
def test_numbers_ids_and_dates_are_left_alone(value):
    text = f"case {value} routed, next {value}; took {value}s"
    assert mask(text) == text


@given(st.text(alphabet=string.hexdigits, min_size=64, max_size=64))
def test_audit_hashes_are_left_alone(digest):
    text = f"hash {digest} prev {digest}"
    assert mask(text) == text


# --- what must go -------------------------------------------------------------------

LOCAL = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._%+-]{0,20}", fullmatch=True)
LABEL = st.from_regex(r"[a-z0-9][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True)
EMAILS = st.builds(
    lambda local, labels, tld: f"{local}@{'.'.join(labels)}.{tld}",
    LOCAL,
    st.lists(LABEL, min_size=1, max_size=3),
    st.sampled_from(["com", "co.uk", "example", "io"]),
)
SEP = st.sampled_from([" ", "-", ".", ""])


@st.composite
def phones(draw) -> str:
    """International, national (trunk 0) and North American numbers, as people write them."""
    groups = draw(st.lists(st.from_regex(r"[0-9]{2,4}", fullmatch=True), min_size=2, max_size=4))
    sep = draw(SEP)
    shape = draw(st.sampled_from(["international", "national", "national_brackets", "nanp", "nanp_brackets"]))
    if shape == "international":
        country = draw(st.from_regex(r"[1-9][0-9]{0,2}", fullmatch=True))
        number = "+" + country + (sep or " ") + sep.join(groups)
        digits = re.sub(r"\D", "", number)
        return number if 7 <= len(digits) <= 15 else "+44 20 7946 0000"
    if shape.startswith("national"):
        area = "0" + draw(st.from_regex(r"[1-9][0-9]{1,3}", fullmatch=True))
        rest = sep.join(groups)
        number = f"({area}) {rest}" if shape == "national_brackets" else f"{area}{sep}{rest}"
        return number if 9 <= len(re.sub(r"\D", "", number)) <= 15 else "020 7946 0000"
    area, exchange, line = (draw(st.from_regex(p, fullmatch=True)) for p in (r"[2-9][0-9]{2}", "[0-9]{3}", "[0-9]{4}"))
    nanp_sep = sep or "-"
    return f"({area}) {exchange}-{line}" if shape == "nanp_brackets" else nanp_sep.join([area, exchange, line])


CONTEXTS = ["call me on {} today", "{}", "phone: {}.", "({})", 'q={} "x"', "<{}>", "tel {}, please"]


@given(EMAILS, st.sampled_from(CONTEXTS))
@example("ann.jones@example.com", "could not reach {} about case 42")
def test_emails_are_masked(address, context):
    assert mask(context.format(address)) == context.format(EMAIL_MASK)


@given(phones(), st.sampled_from(CONTEXTS))
@example("+44 20 7946 0000", "call me on {} today")
@example("(020) 7946-0000", "{}")
@example("+1 (555) 123-4567", "{}")
def test_phone_numbers_are_masked(number, context):
    assert mask(context.format(number)) == context.format(PHONE_MASK)


def test_url_encoded_addresses_and_numbers_in_a_query_are_masked():
    line = '"GET /cases/search/?q=ann.jones%40example.com&p=%2B44%2020%207946%200000 HTTP/1.1" 200 5120'
    assert mask(line) == f'"GET /cases/search/?q={EMAIL_MASK}&p={PHONE_MASK} HTTP/1.1" 200 5120'


@pytest.mark.django_db
def test_the_tokens_of_survey_and_password_reset_links_are_masked(agent):
    survey = signing.dumps(4711, salt="feedback.survey", compress=True)
    reset = default_token_generator.make_token(agent)
    assert mask(f"Bad Request: /s/{survey}/") == f"Bad Request: /s/{TOKEN_MASK}/"
    assert (
        mask(f'"GET /accounts/reset/MQ/{reset}/ HTTP/1.1" 302 0')
        == f'"GET /accounts/reset/MQ/{TOKEN_MASK}/ HTTP/1.1" 302 0'
    )


# --- email written to the console --------------------------------------------------

CUSTOMER, LINK = (
    "ann.jones@example.com",
    "http://127.0.0.1:8000/s/MTIz:1xaMzj:qQYUrULt_qECWEsOTlIlXxVrqooxHLhiFZIqRY77enA/",
)


@pytest.fixture
def console_email(settings, capsys):
    """Email goes to our console backend (the default without DJANGO_EMAIL_HOST); returns what it wrote."""
    settings.EMAIL_BACKEND = "cvx_site.mail.ConsoleEmailBackend"

    def send(**fields) -> str:
        message = mail.EmailMessage(
            **{"subject": "How did we do?", "body": f"Hello,\n\n{LINK}\n", "to": [CUSTOMER], **fields}
        )
        assert message.send() == 1
        return capsys.readouterr().out

    return send


def test_in_development_console_email_keeps_links_and_masks_addresses(console_email, settings):
    settings.DEBUG = True
    out = console_email(
        cc=["+44 20 7946 0000 <boss@example.com>"], body=f"Hello {CUSTOMER} (+44 20 7946 0000),\n\n{LINK}\n"
    )
    assert LINK in out
    assert CUSTOMER not in out and "boss@example.com" not in out and "7946" not in out
    assert f"To: {EMAIL_MASK}" in out and f"Hello {EMAIL_MASK} ({PHONE_MASK})" in out
    assert "Subject: How did we do?" in out


def test_with_debug_off_console_email_masks_links_too(console_email, settings):
    settings.DEBUG = False
    out = console_email()
    assert "/s/" not in out and "qQYUrULt" not in out and CUSTOMER not in out
    assert "[link]" in out


def test_console_email_decodes_the_body_before_masking(console_email, settings):
    """A long line makes Django encode the body (quoted-printable), which
    could split an address across lines; the backend masks the decoded text."""
    settings.DEBUG = True
    out = console_email(body="é" * 500 + f" {CUSTOMER} " + "x" * 1200)
    assert CUSTOMER not in out and EMAIL_MASK in out


@pytest.mark.django_db
def test_a_survey_invitation_on_the_console_shows_its_link_but_not_the_customer(settings, capsys, touchpoint):
    from feedback.choices import SurveyPurpose
    from feedback.services import feedback_ingest
    from feedback.surveys import invitation_create, invitation_send, invitation_url

    settings.EMAIL_BACKEND = "cvx_site.mail.ConsoleEmailBackend"
    settings.DEBUG = True
    customer = feedback_ingest(
        item={
            "touchpoint": "fault-line",
            "source": "ops",
            "external_id": "console-1",
            "nps": 8,
            "customer": {"email": CUSTOMER},
        }
    ).response.customer
    invitation = invitation_create(customer=customer, touchpoint=touchpoint, purpose=SurveyPurpose.SURVEY)
    capsys.readouterr()
    assert invitation_send(invitation_id=invitation.pk)
    out = capsys.readouterr().out
    assert invitation_url(invitation) in out
    assert CUSTOMER not in out and f"To: {EMAIL_MASK}" in out


@pytest.mark.django_db
def test_a_password_reset_on_the_console_shows_its_link_but_not_the_address(client, settings, capsys, agent):
    settings.EMAIL_BACKEND = "cvx_site.mail.ConsoleEmailBackend"
    settings.DEBUG = True
    assert client.post("/accounts/password_reset/", {"email": agent.email}).status_code == 302
    out = capsys.readouterr().out
    assert re.search(r"http://testserver/accounts/reset/\w+/[0-9a-z]+-[0-9a-f]{32}/", out)
    assert agent.email not in out
