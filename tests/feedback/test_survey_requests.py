"""Surveys sent by CVX per touchpoint (issue 19): the request (API and CSV),
the contact rules that suppress it, the email and its link, the page in the
customer's language, and the answer ingested and routed like any feedback."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from feedback.choices import SurveyPurpose, SurveyRequestStatus
from feedback.models import (
    ContactRule,
    Customer,
    CustomerIdentity,
    FeedbackResponse,
    SurveyDefinition,
    SurveyInvitation,
    SurveyRequest,
    SurveyWording,
)

pytestmark = pytest.mark.django_db
URL = "/api/v1/survey-requests/"
LINK = re.compile(r"http://[^/\s]+(/s/[^/\s]+/)")
GERMAN_NPS = "Wie wahrscheinlich ist es, dass Sie uns einem Freund empfehlen?"


@pytest.fixture
def definition(touchpoint):
    """The fault line's survey: NPS, CES and a comment, in English and German."""
    definition = SurveyDefinition.objects.create(touchpoint=touchpoint, ask_nps=True, ask_ces=True, ask_comment=True)
    SurveyWording.objects.create(
        definition=definition,
        language="en",
        title="How was your call?",
        intro="You called our fault line.",
        nps_question="How likely are you to recommend us?",
        ces_question="How easy was it to get your fault fixed?",
        comment_question="Anything else?",
        thank_you="Thanks, the fault-line team reads every answer.",
    )
    SurveyWording.objects.create(
        definition=definition,
        language="de",
        title="Wie war Ihr Anruf?",
        intro="Sie haben unsere Störungsstelle angerufen.",
        nps_question=GERMAN_NPS,
        ces_question="Wie einfach war es, die Störung beheben zu lassen?",
        comment_question="Möchten Sie noch etwas sagen?",
        thank_you="Danke, das Team liest jede Antwort.",
    )
    return definition


@pytest.fixture
def ask(api, integration, django_capture_on_commit_callbacks):
    """ask(**fields) -> the API's reply to a survey request, after commit."""

    def post(**fields):
        body = {
            "touchpoint": "fault-line",
            "customer": {"email": "ada@example.com"},
            "interaction_id": "call-1",
            **fields,
        }
        with django_capture_on_commit_callbacks(execute=True):
            return api(token=integration).post(URL, body, format="json")

    return post


def link_in(mail) -> str:
    return LINK.search(mail.body).group(1)


def test_a_request_is_queued_and_the_email_carries_a_working_link(ask, definition, mailoutbox, client):
    reply = ask()
    assert reply.status_code == 202, reply.json()
    assert reply.json() == {"status": "queued", "interaction_id": "call-1"}
    request = SurveyRequest.objects.get(interaction_id="call-1")
    assert request.status == SurveyRequestStatus.QUEUED and request.invitation.purpose == SurveyPurpose.SURVEY
    assert request.requested_by.username == "integration"
    (mail,) = mailoutbox
    assert mail.to == ["ada@example.com"]
    assert mail.subject == "How was your call?"
    assert "You called our fault line." in mail.body and "How easy was it to get your fault fixed?" in mail.body
    page = client.get(link_in(mail))
    assert page.status_code == 200
    assert "How likely are you to recommend us?" in page.content.decode()


def test_the_same_interaction_twice_is_one_request(ask, definition, mailoutbox):
    assert ask().json()["status"] == "queued"
    again = ask(customer={"email": "someone-else@example.com"})
    assert again.status_code == 202 and again.json() == {"status": "queued", "interaction_id": "call-1"}
    assert SurveyRequest.objects.count() == 1 and SurveyInvitation.objects.count() == 1
    assert len(mailoutbox) == 1


def test_the_frequency_cap_suppresses_with_its_reason(ask, definition, mailoutbox):
    ContactRule.objects.update(active=False)
    ContactRule.objects.create(name="Once a month", max_surveys=1, period_days=30)
    assert ask(interaction_id="call-1").json()["status"] == "queued"
    reply = ask(interaction_id="call-2")
    assert reply.status_code == 202
    body = reply.json()
    assert body["status"] == "suppressed" and body["rule"] == "frequency_cap"
    assert body["reason"].startswith("Contact cap reached: 1 survey(s) in the last 30 days")
    assert SurveyRequest.objects.get(interaction_id="call-2").invitation is None
    assert len(mailoutbox) == 1


def test_the_cap_counts_a_follow_up_as_a_survey(ask, definition):
    from feedback.surveys import invitation_create

    ContactRule.objects.update(active=False)
    ContactRule.objects.create(name="Once a month", max_surveys=1, period_days=30)
    ask(interaction_id="call-1", customer={"email": "bob@example.com"})
    customer = Customer.objects.get(identities__value="bob@example.com")
    from feedback.surveys import SurveyNotAllowed

    with pytest.raises(SurveyNotAllowed) as refused:
        invitation_create(customer=customer, touchpoint=definition.touchpoint, purpose=SurveyPurpose.FOLLOW_UP)
    assert refused.value.rule == "frequency_cap"


def test_an_open_case_suppresses_with_its_reason(
    ask, api, integration, definition, mailoutbox, django_capture_on_commit_callbacks
):
    from cases.choices import AssignmentStrategy
    from cases.models import Case, RoutingRule

    RoutingRule.objects.create(name="Detractors", position=10, nps_at_most=6, strategy=AssignmentStrategy.DEFAULT_OWNER)
    complaint = {
        "touchpoint": "fault-line",
        "source": "survey",
        "external_id": "complaint-1",
        "nps": 1,
        "comment": "Still no line",
        "customer": {"email": "ada@example.com"},
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert api(token=integration).post("/api/v1/feedback/", complaint, format="json").status_code == 201
    assert Case.objects.filter(customer__identities__value="ada@example.com").exists()
    mailoutbox.clear()
    body = ask().json()
    assert body == {
        "status": "suppressed",
        "interaction_id": "call-1",
        "rule": "open_case",
        "reason": "The customer has an open case.",
    }
    assert not mailoutbox


def test_a_customer_without_email_is_suppressed(ask, definition):
    body = ask(customer={"phone": "+4930123456"}).json()
    assert body["status"] == "suppressed" and body["rule"] == "no_email"


@pytest.mark.parametrize(
    "fields, field, words",
    [
        ({"touchpoint": "nowhere"}, "touchpoint", "Unknown touchpoint"),
        ({"touchpoint": {"slug": "fault-line"}}, "touchpoint", "Not a valid string"),
        ({"customer": {}}, "customer", "Identify the customer"),
        ({"customer": {"email": "not-an-email"}}, "customer", "valid email"),
        ({"customer": None}, "customer", "may not be null"),
        ({"interaction_id": ""}, "interaction_id", "may not be blank"),
        ({"interaction_id": "x" * 201}, "interaction_id", "no more than 200"),
        ({"interaction_id": "a\x00b"}, "interaction_id", "NUL"),
        ({"language": "it"}, "language", "not a valid choice"),
    ],
)
def test_an_invalid_request_is_400_naming_the_field(ask, definition, fields, field, words):
    reply = ask(**fields)
    assert reply.status_code == 400
    assert field in reply.json()
    assert words.lower() in str(reply.json()[field]).lower()
    assert not SurveyRequest.objects.exists()


def test_a_missing_interaction_id_is_400(api, integration, definition):
    reply = api(token=integration).post(
        URL, {"touchpoint": "fault-line", "customer": {"email": "a@example.com"}}, format="json"
    )
    assert reply.status_code == 400 and "interaction_id" in reply.json()


def test_a_touchpoint_without_a_survey_definition_is_400(ask, touchpoint):
    reply = ask()
    assert reply.status_code == 400
    assert "no active survey definition" in reply.json()["touchpoint"][0]


def test_a_touchpoint_of_a_draft_journey_is_400(ask, definition, journey):
    journey.active = False
    journey.save()
    reply = ask()
    assert reply.status_code == 400 and "touchpoint" in reply.json()


def test_only_integrations_may_request_surveys(api, agent, outsider, definition):
    body = {"touchpoint": "fault-line", "customer": {"email": "a@example.com"}, "interaction_id": "x"}
    assert api().post(URL, body, format="json").status_code == 401
    assert api(agent).post(URL, body, format="json").status_code == 403
    assert api(outsider).post(URL, body, format="json").status_code == 403


def test_the_request_language_then_the_customer_language_then_english(ask, definition, mailoutbox, client):
    ask(interaction_id="call-de", customer={"email": "de@example.com"}, language="de")
    customer = Customer.objects.create(name="Françoise", language="de")
    CustomerIdentity.objects.create(customer=customer, kind="email", value="stored@example.com")
    ask(interaction_id="call-stored", customer={"email": "stored@example.com"})
    # French was asked for, but the definition has no French words: English.
    ask(interaction_id="call-fr", customer={"email": "fr@example.com"}, language="fr")
    languages = dict(SurveyRequest.objects.values_list("interaction_id", "invitation__language"))
    assert languages == {"call-de": "de", "call-stored": "de", "call-fr": "fr"}
    subjects = {mail.to[0]: mail.subject for mail in mailoutbox}
    assert subjects == {
        "de@example.com": "Wie war Ihr Anruf?",
        "stored@example.com": "Wie war Ihr Anruf?",
        "fr@example.com": "How was your call?",
    }


def test_the_survey_page_is_in_german_wording(ask, definition, mailoutbox, client):
    ask(language="de")
    page = client.get(link_in(mailoutbox[0]))
    html = page.content.decode()
    assert page.status_code == 200
    assert '<html lang="de">' in html
    assert "Wie war Ihr Anruf?" in html and GERMAN_NPS in html
    assert "Wie einfach war es, die Störung beheben zu lassen?" in html
    assert "How likely" not in html
    # Only the questions the definition asks: no CSAT.
    assert 'name="csat"' not in html and 'name="ces"' in html


def test_the_answer_is_ingested_as_cvx_survey_under_the_interaction_id_and_routed(
    ask, definition, mailoutbox, client, django_capture_on_commit_callbacks
):
    from cases.choices import AssignmentStrategy, RoutingOutcome
    from cases.models import Case, RoutedResponse, RoutingRule

    RoutingRule.objects.create(name="Detractors", position=10, nps_at_most=6, strategy=AssignmentStrategy.DEFAULT_OWNER)
    ask(language="de")
    link = link_in(mailoutbox[0])
    with django_capture_on_commit_callbacks(execute=True):
        thanks = client.post(link, {"nps": "2", "ces": "1", "comment": "Drei Tage ohne Leitung"})
    assert thanks.status_code == 200
    assert "Danke, das Team liest jede Antwort." in thanks.content.decode()
    response = FeedbackResponse.objects.get()
    assert (response.source, response.external_id) == ("cvx_survey", "call-1")
    assert (response.nps, response.ces, response.comment) == (2, 1, "Drei Tage ohne Leitung")
    assert response.invitation.survey_request.interaction_id == "call-1"
    routed = RoutedResponse.objects.get(response=response)
    assert routed.outcome == RoutingOutcome.OPENED
    assert Case.objects.get(feedback=response).touchpoint == definition.touchpoint
    assert client.get(link).status_code == 410  # single use


def test_an_empty_answer_is_refused_on_the_page(ask, definition, mailoutbox, client):
    ask()
    page = client.post(link_in(mailoutbox[0]), {"comment": ""})
    assert page.status_code == 400
    assert "Please answer at least one question." in page.content.decode()
    assert not FeedbackResponse.objects.exists()


def test_the_sweep_sends_one_reminder(ask, definition, mailoutbox):
    from cases.services import follow_up_sweep

    ask()
    later = timezone.now() + timedelta(days=4)
    assert follow_up_sweep(now=later)["reminded"] == 1
    assert follow_up_sweep(now=later)["reminded"] == 0
    assert [m.subject for m in mailoutbox] == ["How was your call?", "Reminder: How was your call?"]
    assert link_in(mailoutbox[1]) == link_in(mailoutbox[0])


def test_the_csv_command_requests_each_row_and_goes_on_after_errors(
    definition, tmp_path, mailoutbox, capsys, django_capture_on_commit_callbacks
):
    path = tmp_path / "requests.csv"
    path.write_text(
        "touchpoint,interaction_id,language,customer_email,customer_name\n"
        "fault-line,csv-1,de,eve@example.com,Eve\n"
        "nowhere,csv-2,,x@example.com,\n"
        "fault-line,csv-3,it,y@example.com,\n"
        "fault-line,csv-1,de,eve@example.com,Eve\n"
        "fault-line,csv-4,,,\n",
        encoding="utf-8",
    )
    with django_capture_on_commit_callbacks(execute=True):
        call_command("request_surveys", str(path), "--no-progress")
    out, err = capsys.readouterr()
    assert out.strip().splitlines()[-1] == "queued 1, suppressed 0, duplicate 1, rejected 3"
    assert "line 3: touchpoint: Unknown touchpoint 'nowhere'." in err
    assert "line 4: language:" in err
    assert "line 6: customer: Identify the customer" in err
    assert SurveyRequest.objects.get().invitation.language == "de"
    assert len(mailoutbox) == 1


@pytest.mark.parametrize(
    "header, message",
    [
        ("touchpoint,interaction_id,Customer_Email,customer_email", "repeated column(s) in the header: customer_email"),
        ("touchpoint,customer_email", "missing required column(s): interaction_id"),
        ("", "the file is empty; a header row is required."),
    ],
)
def test_the_csv_command_refuses_a_bad_header_before_any_row(definition, tmp_path, header, message):
    """The header rule import_feedback has (one function): a repeated column
    would leave one of the two values silently unread."""
    path = tmp_path / "requests.csv"
    path.write_text(f"{header}\nfault-line,csv-1,eve@example.com,eve@example.com\n" if header else "\n\n")
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("request_surveys", str(path), "--no-progress")
    assert not SurveyRequest.objects.exists()


def test_the_endpoint_is_in_the_openapi_schema(api):
    schema = api().get("/api/v1/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/survey-requests/"]["post"]
    assert {"202", "400"} <= set(operation["responses"])


def test_the_demo_defines_a_survey_a_request_can_use_at_once(api, django_capture_on_commit_callbacks, mailoutbox):
    from rest_framework.authtoken.models import Token

    call_command("seed_demo", "--history", "0")
    call_command("seed_demo", "--history", "0")  # again: still one definition, words untouched
    assert SurveyDefinition.objects.filter(touchpoint__slug="ff-call-center").count() == 1
    token = Token.objects.get(user__username="demo.integration").key
    body = {
        "touchpoint": "ff-call-center",
        "customer": {"email": "demo-survey@example.com"},
        "interaction_id": "demo-1",
        "language": "de",
    }
    with django_capture_on_commit_callbacks(execute=True):
        reply = api(token=token).post(URL, body, format="json")
    assert reply.status_code == 202 and reply.json()["status"] == "queued"
    assert mailoutbox[-1].subject == "Wie war Ihr Anruf?"
