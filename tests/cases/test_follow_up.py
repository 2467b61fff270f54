"""Follow-up surveys close the loop: sent on resolve, answered on a public
page, and the answer decides whether the customer was recovered."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import signing
from django.utils import timezone

from cases import services
from cases.choices import CaseOutcome, CaseStatus, EventKind, RoutingOutcome
from cases.models import Case, FollowUp, RoutedResponse
from cvx_site.errors import Conflict
from feedback.choices import SurveyPurpose
from feedback.models import ContactRule, FeedbackResponse, SurveyInvitation
from feedback.surveys import SurveyNotAllowed, invitation_create, invitation_token

pytestmark = pytest.mark.django_db
LINK = re.compile(r"http://[^/\s]+(/s/[^/\s]+/)")


@pytest.fixture
def resolved(make_case, agent, root_cause, django_capture_on_commit_callbacks, mailoutbox):
    """A detractor case resolved by its owner, with the follow-up email sent."""
    case = make_case(nps=3, csat=2)
    with django_capture_on_commit_callbacks(execute=True):
        services.case_log_contact(case_id=case.pk, actor=agent, channel="phone", note="Called the customer")
        services.case_resolve(case_id=case.pk, actor=agent, root_cause=root_cause, note="Replaced the router")
    case.refresh_from_db()
    return case


def link_in(mail) -> str:
    return LINK.search(mail.body).group(1)


def answer(client, path, django_capture_on_commit_callbacks, **fields):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(path, fields)


def test_the_whole_loop_closes_a_recovered_case(
    api,
    integration,
    touchpoint,
    agent,
    root_cause,
    client,
    mailoutbox,
    django_capture_on_commit_callbacks,
    detractor_rule,
):
    with django_capture_on_commit_callbacks(execute=True):
        posted = api(token=integration).post(
            "/api/v1/feedback/",
            {
                "touchpoint": "fault-line",
                "source": "survey",
                "external_id": "loop-1",
                "nps": 2,
                "comment": "The agent was rude and I waited two hours",
                "customer": {"email": "loop@example.com"},
            },
            format="json",
        )
    assert posted.status_code == 201
    case = Case.objects.get(feedback_id=posted.json()["id"])
    assert case.owner == agent
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(
            f"/cases/{case.pk}/act/resolve/",
            {"resolve-root_cause": root_cause.pk, "resolve-note": "Apologised, credited a month"},
        )
    # The agent's session was not logged in: log in and resolve for real.
    assert page.status_code == 302 and "/accounts/login/" in page["Location"]
    client.force_login(agent)
    client.post(
        f"/cases/{case.pk}/act/log_contact/",
        {"log_contact-channel": "phone", "log_contact-note": "Called, apologised and offered a credit"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/cases/{case.pk}/act/resolve/",
            {"resolve-root_cause": root_cause.pk, "resolve-note": "Apologised, credited a month"},
        )
    client.logout()
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_FOLLOW_UP
    [mail] = mailoutbox
    assert mail.to == ["loop@example.com"]
    path = link_in(mail)
    assert client.get(path).status_code == 200
    thanks = answer(client, path, django_capture_on_commit_callbacks, nps="9", csat="5", comment="Much better now")
    assert thanks.status_code == 200 and b"Thank you" in thanks.content
    case.refresh_from_db()
    assert (case.status, case.outcome) == (CaseStatus.CLOSED, CaseOutcome.RECOVERED)
    answered = case.events.get(kind=EventKind.FOLLOW_UP_ANSWERED)
    assert answered.data["original"]["nps"] == 2 and answered.data["follow_up"]["nps"] == 9
    assert RoutedResponse.objects.get(response__invitation__isnull=False).outcome == RoutingOutcome.FOLLOW_UP
    from cases.insights.loop import loop_metrics

    [row] = loop_metrics(Case.objects.all(), group_by=None)
    assert (row["followed_up"], row["responded"], row["recovered"], row["recovery_rate"]) == (1, 1, 1, 100.0)
    assert row["nps_change"] == 7.0


def test_a_used_link_gets_a_friendly_page(resolved, client, mailoutbox, django_capture_on_commit_callbacks):
    path = link_in(mailoutbox[0])
    answer(client, path, django_capture_on_commit_callbacks, nps="9")
    again = client.get(path)
    assert again.status_code == 410 and b"Already answered" in again.content
    second = answer(client, path, django_capture_on_commit_callbacks, nps="0")
    assert second.status_code == 410
    assert FeedbackResponse.objects.filter(invitation__isnull=False).count() == 1


def test_an_expired_link_gets_a_friendly_page(resolved, client, mailoutbox):
    SurveyInvitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(link_in(mailoutbox[0]))
    assert response.status_code == 410 and b"This survey has closed" in response.content


@pytest.mark.parametrize("mangle", [lambda t: t[:-2] + "xx", lambda t: "garbage", lambda t: t + "a"])
def test_a_tampered_link_gets_a_friendly_page(resolved, client, mailoutbox, mangle):
    token = link_in(mailoutbox[0]).split("/")[2]
    response = client.get(f"/s/{mangle(token)}/")
    assert response.status_code == 404 and b"Link not recognised" in response.content


def test_a_link_signed_for_a_missing_invitation_is_not_recognised(client, db):
    token = signing.dumps(999999, salt="cvx.survey-invitation", compress=True)
    assert client.get(f"/s/{token}/").status_code == 404


def test_the_survey_page_shows_errors_next_to_fields(resolved, client, mailoutbox):
    response = client.post(link_in(mailoutbox[0]), {"nps": "11"})
    assert response.status_code == 400
    assert b"Select a valid choice" in response.content or b"choose a number" in response.content
    assert not FeedbackResponse.objects.filter(invitation__isnull=False).exists()


def test_a_second_resolve_before_the_answer_is_refused(resolved, agent, root_cause):
    with pytest.raises(Conflict):
        services.case_resolve(case_id=resolved.pk, actor=agent, root_cause=root_cause, note="again")
    assert FollowUp.objects.count() == 1 and len(SurveyInvitation.objects.all()) == 1


def test_a_customer_still_unhappy_closes_as_not_recovered(
    resolved, client, mailoutbox, django_capture_on_commit_callbacks
):
    answer(client, link_in(mailoutbox[0]), django_capture_on_commit_callbacks, nps="4", csat="2")
    resolved.refresh_from_db()
    assert (resolved.status, resolved.outcome) == (CaseStatus.CLOSED, CaseOutcome.NOT_RECOVERED)


def test_not_recovered_reopens_and_escalates_when_the_setting_says_so(
    resolved, client, mailoutbox, settings, lead, django_capture_on_commit_callbacks
):
    settings.CVX_REOPEN_NOT_RECOVERED = True
    mailoutbox.clear()
    answer(client, link_in_first_invitation(), django_capture_on_commit_callbacks, nps="4")
    resolved.refresh_from_db()
    assert (resolved.status, resolved.outcome) == (CaseStatus.ESCALATED, None)
    kinds = list(resolved.events.values_list("kind", flat=True))
    assert kinds[-3:] == [EventKind.FOLLOW_UP_ANSWERED, EventKind.REOPENED, EventKind.ESCALATED]
    # The owner hears the customer was not recovered; the lead, of the escalation.
    assert [m.to for m in mailoutbox] == [[resolved.owner.email], [lead.email]]


def link_in_first_invitation() -> str:
    return "/s/" + invitation_token(SurveyInvitation.objects.get()) + "/"


def test_no_answer_by_the_expiry_closes_as_no_response_after_one_reminder(resolved, mailoutbox, settings):
    invitation = SurveyInvitation.objects.get()
    assert invitation.sent_at is not None
    reminder_time = invitation.created_at + timedelta(days=settings.CVX_SURVEY_REMINDER_DAYS, minutes=1)
    assert services.follow_up_sweep(now=reminder_time) == {"reminded": 1, "closed": 0}
    assert services.follow_up_sweep(now=reminder_time + timedelta(hours=1)) == {"reminded": 0, "closed": 0}
    assert mailoutbox[-1].subject.startswith("Reminder:") and len(mailoutbox) == 2
    after_expiry = invitation.expires_at + timedelta(minutes=1)
    assert services.follow_up_sweep(now=after_expiry) == {"reminded": 0, "closed": 1}
    assert services.follow_up_sweep(now=after_expiry) == {"reminded": 0, "closed": 0}
    resolved.refresh_from_db()
    assert (resolved.status, resolved.outcome) == (CaseStatus.CLOSED, CaseOutcome.NO_RESPONSE)


def test_the_contact_cap_stops_a_follow_up_and_says_so(
    make_case, agent, root_cause, mailoutbox, django_capture_on_commit_callbacks
):
    ContactRule.objects.update(max_surveys=1, period_days=30)
    first = make_case(customer={"email": "busy@example.com"})
    with django_capture_on_commit_callbacks(execute=True):
        services.case_log_contact(case_id=first.pk, actor=agent, channel="phone", note="Called the customer")
        services.case_resolve(case_id=first.pk, actor=agent, root_cause=root_cause, note="Done")
    services.case_reopen(case_id=first.pk, actor=_lead_of(first), note="Called again")
    with django_capture_on_commit_callbacks(execute=True):
        case = services.case_resolve(case_id=first.pk, actor=agent, root_cause=root_cause, note="Done again")
    assert case.status == CaseStatus.RESOLVED
    skipped = case.events.filter(kind=EventKind.FOLLOW_UP_SKIPPED).get()
    assert "Contact cap reached" in skipped.data["reason"]
    assert len(mailoutbox) == 1 and SurveyInvitation.objects.count() == 1


def _lead_of(case):
    from django.contrib.auth import get_user_model

    lead = get_user_model().objects.create_user("cap_lead")
    case.team.lead = lead
    case.team.save()
    return lead


def test_anonymous_feedback_gets_no_follow_up_and_that_is_recorded(make_case, agent, root_cause):
    case = make_case(customer=None)
    services.case_log_contact(case_id=case.pk, actor=agent, channel="phone", note="Called the customer")
    case = services.case_resolve(case_id=case.pk, actor=agent, root_cause=root_cause, note="Done")
    assert case.status == CaseStatus.RESOLVED
    assert case.events.get(kind=EventKind.FOLLOW_UP_SKIPPED).data["reason"] == "The feedback was anonymous."


def test_no_ordinary_survey_while_the_customer_has_an_open_case(make_case, touchpoint):
    case = make_case()
    with pytest.raises(SurveyNotAllowed, match="open case"):
        invitation_create(customer=case.customer, touchpoint=touchpoint, purpose=SurveyPurpose.SURVEY)
    follow_up = invitation_create(customer=case.customer, touchpoint=touchpoint, purpose=SurveyPurpose.FOLLOW_UP)
    assert follow_up.pk


@pytest.mark.parametrize(
    ("original", "answer_scores", "recovered"),
    [
        ({"nps": 3}, {"nps": 7}, True),
        ({"nps": 3}, {"nps": 6}, False),
        ({"nps": 3}, {"nps": None, "csat": 5}, True),
        ({"nps": None, "csat": 2}, {"csat": 3}, True),
        ({"nps": None, "csat": 2}, {"csat": 2}, False),
        ({"nps": 2, "csat": 1}, {"nps": 9, "csat": 2}, False),
        ({"nps": 2, "csat": 1}, {"nps": 9, "csat": 4}, True),
        ({"nps": None, "comment": "awful"}, {"nps": 8}, True),
        ({"nps": 3}, {"nps": None, "csat": None}, False),
    ],
)
def test_recovery_means_no_longer_detractor_or_dissatisfied(original, answer_scores, recovered):
    def response(**scores):
        return FeedbackResponse(**{"nps": None, "csat": None, **scores})

    assert services.is_recovered(response(**original), response(**answer_scores)) is recovered


# --- the follow-up answer's key belongs to the survey ------------------------------------


def test_an_integration_cannot_take_the_follow_up_answers_key(
    resolved, api, integration, client, mailoutbox, django_capture_on_commit_callbacks
):
    invitation = SurveyInvitation.objects.get()
    posted = api(token=integration).post(
        "/api/v1/feedback/",
        {
            "touchpoint": "fault-line",
            "source": "follow_up",
            "external_id": f"invitation-{invitation.pk}",
            "nps": 0,
        },
        format="json",
    )
    assert posted.status_code == 400 and "source" in posted.json()
    thanks = answer(client, link_in(mailoutbox[0]), django_capture_on_commit_callbacks, nps="9")
    assert thanks.status_code == 200 and b"Thank you" in thanks.content
    resolved.refresh_from_db()
    assert (resolved.status, resolved.outcome) == (CaseStatus.CLOSED, CaseOutcome.RECOVERED)
    assert FeedbackResponse.objects.get(source="follow_up").invitation == invitation


def test_a_taken_follow_up_key_is_shown_and_logged_and_the_case_keeps_waiting(
    resolved, client, mailoutbox, caplog, django_capture_on_commit_callbacks
):
    import logging

    invitation = SurveyInvitation.objects.get()
    # Stored under the invitation's key before integrations were refused the source.
    FeedbackResponse.objects.create(
        touchpoint=resolved.touchpoint,
        source="follow_up",
        external_id=f"invitation-{invitation.pk}",
        nps=0,
        occurred_at=timezone.now(),
        content_hash="0" * 64,
    )
    with caplog.at_level(logging.ERROR, logger="feedback.surveys"):
        page = answer(client, link_in(mailoutbox[0]), django_capture_on_commit_callbacks, nps="9")
    assert page.status_code == 409 and b"could not record your answer" in page.content
    assert any(r.levelno == logging.ERROR and f"invitation {invitation.pk}" in r.getMessage() for r in caplog.records)
    resolved.refresh_from_db()
    assert resolved.status == CaseStatus.AWAITING_FOLLOW_UP
    assert not resolved.events.filter(kind=EventKind.FOLLOW_UP_ANSWERED).exists()
    assert FollowUp.objects.get(case=resolved).answer is None


def test_the_follow_up_email_asks_what_the_survey_page_asks(resolved, client, mailoutbox):
    from django.forms import RadioSelect

    from feedback.forms import SurveyForm

    [mail] = mailoutbox
    page = client.get(link_in(mail)).content.decode()
    scored = [str(f.label) for f in SurveyForm.base_fields.values() if isinstance(f.widget, RadioSelect)]
    assert len(scored) == 2 and mail.subject == "How did we do? Two quick questions"
    for question in scored:
        assert f"- {question}" in mail.body and question in page
    # About the case that was worked on, not a contact the customer made.
    assert "Did we put it right?" in mail.body and "anything you would add" in mail.body
