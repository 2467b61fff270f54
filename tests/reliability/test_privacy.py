"""A customer's personal data can be erased on request while cases, metrics
and a verifiable audit trail stay; customer details never reach the logs."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from cases import services
from cases.audit import verify_all
from cases.choices import CaseStatus
from cases.insights.loop import loop_metrics
from cases.models import Case, CaseEvent, RootCause, RoutingRule
from cvx_site.errors import NotFound
from cvx_site.logging import MaskPersonalData
from feedback.analytics import score_metrics
from feedback.models import Customer, CustomerIdentity, FeedbackResponse, SurveyInvitation
from feedback.privacy import ERASED_COMMENT, customer_erase
from feedback.services import feedback_ingest
from feedback.surveys import invitation_token
from feedback.themes import unassigned_terms

pytestmark = pytest.mark.django_db

EMAIL, PHONE, EXTERNAL, NAME = "ann.jones@example.com", "+44 20 7946 0000", "crm-4711", "Ann Jones"
COMMENT = (
    "Awful, terrible service. Ann Jones here: the engineer never came to 12 Acacia Road, call me on +44 20 7946 0000"
)
PERSONAL = [EMAIL, "+442079460000", PHONE, EXTERNAL, NAME, "Acacia", "engineer never came"]


def ingest(n: int, **item) -> FeedbackResponse:
    item = {
        "touchpoint": "fault-line",
        "source": "survey",
        "external_id": f"privacy-{n}",
        "customer": {"email": EMAIL, "phone": PHONE, "external_id": EXTERNAL, "name": NAME},
        **item,
    }
    outcome = feedback_ingest(item=item)
    assert outcome.status == "created", outcome.errors
    return outcome.response


@pytest.fixture
def customer_case(touchpoint, agent, django_capture_on_commit_callbacks, mailoutbox):
    """A detractor with every kind of identity whose case was opened,
    acknowledged, noted and resolved, so a follow-up invitation went out."""
    RoutingRule.objects.create(name="Detractors", position=10, nps_at_most=6)
    cause = RootCause.objects.create(name="Missed appointment")
    response = ingest(1, nps=2, csat=1, comment=COMMENT, metadata={"order": "A-17", "postcode": "SW1A 1AA"})
    services.response_route(response_id=response.pk)
    case = Case.objects.get(feedback=response)
    services.case_acknowledge(case_id=case.pk, actor=agent, note="Looking into it")
    services.case_note(case_id=case.pk, actor=agent, note="Engineer rebooked for Tuesday")
    with django_capture_on_commit_callbacks(execute=True):
        services.case_log_contact(case_id=case.pk, actor=agent, channel="phone", note="Called the customer")
        services.case_resolve(case_id=case.pk, actor=agent, root_cause=cause, note="Rebooked and credited")
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_FOLLOW_UP and len(mailoutbox) == 1
    return case


def test_erasure_removes_identities_name_comment_and_metadata(customer_case):
    customer_id = customer_case.customer_id
    result = customer_erase(customer_id=customer_id, actor_label="privacy desk")
    customer = Customer.objects.get(pk=customer_id)
    assert customer.name == "" and customer.erased_at is not None
    assert not CustomerIdentity.objects.filter(customer_id=customer_id).exists()
    response = FeedbackResponse.objects.get(pk=customer_case.feedback_id)
    assert (response.comment, response.metadata) == ("", {})
    assert (result.identities_deleted, result.responses_blanked) == (3, 1)


def test_erasure_keeps_scores_sentiment_and_derived_categories(customer_case):
    before = FeedbackResponse.objects.get(pk=customer_case.feedback_id)
    customer_erase(customer_id=customer_case.customer_id, actor_label="privacy desk")
    after = FeedbackResponse.objects.get(pk=customer_case.feedback_id)
    kept = (
        "nps",
        "csat",
        "ces",
        "nps_category",
        "csat_band",
        "sentiment",
        "sentiment_label",
        "occurred_at",
        "touchpoint_id",
        "customer_id",
    )
    assert {f: getattr(after, f) for f in kept} == {f: getattr(before, f) for f in kept}
    assert after.sentiment_label == "negative"


def test_metrics_and_loop_metrics_are_unchanged_by_erasure(customer_case):
    responses, cases = FeedbackResponse.objects.all(), Case.objects.all()
    scores, loops = score_metrics(responses), loop_metrics(cases)
    customer_erase(customer_id=customer_case.customer_id, actor_label="privacy desk")
    assert score_metrics(responses) == scores
    assert loop_metrics(cases) == loops


def test_the_audit_chain_still_verifies_after_erasure(customer_case):
    assert customer_case.events.count() >= 5
    customer_erase(customer_id=customer_case.customer_id, actor_label="privacy desk")
    assert list(verify_all()) == []
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "Audit trail intact: 1 case(s) verified." in out.getvalue()


def test_audit_events_name_the_customer_by_id_only(customer_case):
    """Events cannot be changed after the fact, so they must never have held
    personal data: routing writes ids, scores and rule names, resolve the
    root cause, the follow-up the invitation id."""
    events = CaseEvent.objects.filter(case=customer_case)
    stored = json.dumps([[e.data, e.changes] for e in events], ensure_ascii=False)
    for value in PERSONAL:
        assert value not in stored
    assert customer_case.customer_id is not None  # the link to the customer is by id, on the case


def test_comment_only_feedback_keeps_a_placeholder_that_adds_no_theme(touchpoint):
    response = ingest(
        2, kind="indirect", source="social", comment="Terrible service, the engineer was rude and useless"
    )
    assert unassigned_terms(FeedbackResponse.objects.all())[0]
    customer_erase(customer_id=response.customer_id, actor_label="privacy desk")
    response.refresh_from_db()
    assert response.comment == ERASED_COMMENT
    assert response.sentiment_label == "negative"
    assert unassigned_terms(FeedbackResponse.objects.all())[0] == []


def test_erasure_blanks_invitation_emails_and_closes_open_links(customer_case, client):
    invitation = SurveyInvitation.objects.get(customer_id=customer_case.customer_id)
    assert client.get(f"/s/{invitation_token(invitation)}/").status_code == 200
    result = customer_erase(customer_id=customer_case.customer_id, actor_label="privacy desk")
    invitation.refresh_from_db()
    assert invitation.email == ""
    assert invitation.expires_at <= timezone.now()
    assert (result.invitations_blanked, result.invitations_closed) == (1, 1)
    closed = client.get(f"/s/{invitation_token(invitation)}/")
    assert closed.status_code == 410 and b"This survey has closed" in closed.content


def test_erasing_again_changes_nothing_and_keeps_the_first_erasure_time(customer_case):
    first = customer_erase(customer_id=customer_case.customer_id, actor_label="privacy desk")
    again = customer_erase(customer_id=customer_case.customer_id, actor_label="privacy desk")
    assert again.erased_at == first.erased_at == Customer.objects.get(pk=first.customer_id).erased_at
    assert (again.identities_deleted, again.responses_blanked, again.invitations_blanked, again.invitations_closed) == (
        0,
        0,
        0,
        0,
    )


def test_a_replay_of_erased_feedback_resurrects_nothing(touchpoint):
    item = {"nps": 3, "comment": COMMENT}
    response = ingest(3, **item)
    customer_erase(customer_id=response.customer_id, actor_label="privacy desk")
    replay = feedback_ingest(
        item={
            "touchpoint": "fault-line",
            "source": "survey",
            "external_id": "privacy-3",
            "customer": {"email": EMAIL, "phone": PHONE, "external_id": EXTERNAL, "name": NAME},
            **item,
        }
    )
    assert replay.status == "gone" and replay.response is None  # no oracle: see tests/feedback/test_erased_replays.py
    assert not CustomerIdentity.objects.exists()
    assert FeedbackResponse.objects.get(pk=response.pk).comment == ""


def test_new_feedback_after_erasure_makes_a_new_customer(touchpoint):
    old = ingest(4, nps=3).customer_id
    customer_erase(customer_id=old, actor_label="privacy desk")
    new = ingest(5, nps=9).customer_id
    assert new != old
    assert set(CustomerIdentity.objects.values_list("customer_id", flat=True)) == {new}


def test_erasing_an_unknown_customer_is_not_found(db):
    with pytest.raises(NotFound):
        customer_erase(customer_id=999_999, actor_label="privacy desk")


def test_the_erasure_log_line_names_the_customer_by_id_only(touchpoint, caplog):
    response = ingest(6, nps=3, comment=COMMENT)
    with caplog.at_level(logging.INFO, logger="feedback.privacy"):
        customer_erase(customer_id=response.customer_id, actor_label="privacy desk")
    [record] = caplog.records
    assert f"customer {response.customer_id}: personal data erased" in record.getMessage()
    assert "privacy desk" in record.getMessage()
    assert not any(value in record.getMessage() for value in PERSONAL)


# --- the command ------------------------------------------------------------------


def erase(*args: str, stdin: str | None = None, monkeypatch=None) -> str:
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    out = io.StringIO()
    call_command("erase_customer", *args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize(
    "lookup",
    [["--email", "Ann.Jones@Example.com"], ["--phone", "+44 (20) 7946-0000"], ["--external-id", EXTERNAL], ["<id>"]],
)
def test_the_command_finds_the_customer_by_any_identity_and_erases(touchpoint, lookup):
    customer_id = ingest(7, nps=3, comment=COMMENT).customer_id
    args = [str(customer_id) if a == "<id>" else a for a in lookup]
    output = erase(*args, "--yes")
    assert f"Erased customer {customer_id}: 3 identities deleted, 1 responses blanked" in output
    assert Customer.objects.get(pk=customer_id).erased_at is not None
    assert not any(value in output for value in PERSONAL)


def test_the_command_erases_when_the_prompt_is_answered_yes(touchpoint, monkeypatch):
    customer_id = ingest(8, nps=3, comment=COMMENT).customer_id
    output = erase("--email", EMAIL, stdin="yes\n", monkeypatch=monkeypatch)
    assert "Type 'yes' to continue" in output
    assert Customer.objects.get(pk=customer_id).erased_at is not None


@pytest.mark.parametrize("answer", ["no\n", "y\n", ""])
def test_the_command_changes_nothing_unless_the_prompt_is_answered_yes(touchpoint, monkeypatch, answer):
    response = ingest(9, nps=3, comment=COMMENT)
    with pytest.raises(CommandError, match="Not confirmed: nothing was erased"):
        erase("--email", EMAIL, stdin=answer, monkeypatch=monkeypatch)
    response.refresh_from_db()
    assert response.comment == COMMENT and response.customer.erased_at is None
    assert CustomerIdentity.objects.filter(customer_id=response.customer_id).count() == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--email", "nobody@example.com", "--yes"], "No customer has that email"),
        (["999999", "--yes"], "No customer with id 999999"),
        (["--yes"], "Name the customer one way"),
        (["1", "--email", EMAIL, "--yes"], "Name the customer one way"),
    ],
)
def test_the_command_refuses_an_unknown_or_ambiguous_customer(touchpoint, args, message):
    ingest(10, nps=3, comment=COMMENT)
    with pytest.raises(CommandError, match=message):
        erase(*args)
    assert CustomerIdentity.objects.count() == 3


# --- logs ---------------------------------------------------------------------------


@pytest.fixture
def console_output():
    """What the root logger's configured console handler (settings.LOGGING,
    filters included) writes, captured instead of going to stderr."""
    [handler] = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(previous)


def test_the_console_handler_is_configured_with_the_masking_filter():
    assert settings.LOGGING["handlers"]["console"]["filters"] == ["mask_personal_data"]
    [handler] = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    assert any(isinstance(f, MaskPersonalData) for f in handler.filters)


def test_every_log_handler_outside_pytest_masks_personal_data():
    """Not only the root's: Django's defaults hang handlers of their own on
    `django` and `django.server`, which would write around the filter."""
    loggers = [logging.getLogger()] + [
        logger for logger in logging.root.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    writing = [
        (logger.name, handler)
        for logger in loggers
        for handler in logger.handlers
        if not isinstance(handler, logging.NullHandler) and not type(handler).__module__.startswith("_pytest")
    ]
    unmasked = [
        (name, handler)
        for name, handler in writing
        if not any(isinstance(f, MaskPersonalData) for f in handler.filters)
    ]
    assert writing  # the root's console at least
    assert unmasked == []


def test_log_output_masks_emails_and_phone_numbers(console_output):
    logging.getLogger("cases.some_module").warning("could not reach %s on %s about case %s", EMAIL, PHONE, 42)
    written = console_output.getvalue()
    assert "could not reach [email] on [phone] about case 42" in written
    assert EMAIL not in written and "7946" not in written


def test_log_output_masks_personal_data_in_exception_text(console_output):
    try:
        raise ValueError(f"duplicate key (value)=({EMAIL})")
    except ValueError:
        logging.getLogger("feedback.services").exception("ingest failed")
    written = console_output.getvalue()
    assert "ingest failed" in written and "Traceback" in written
    assert "duplicate key (value)=([email])" in written and EMAIL not in written


@pytest.mark.parametrize("message", ["case 123 routed in 0.45s", "due 2024-05-01 10:00:00", "hash ab1234567890cd"])
def test_log_output_leaves_ordinary_numbers_alone(console_output, message):
    logging.getLogger("cases").warning(message)
    assert re.search(re.escape(message), console_output.getvalue())
