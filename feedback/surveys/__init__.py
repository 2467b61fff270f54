"""Survey invitations: signed, single-use, expiring links, contact rules
against survey fatigue, and answers that go through the ingestion service."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import QuerySet
from django.forms import Textarea
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.text import format_lazy
from django.utils.translation import npgettext, pgettext, pgettext_lazy

from cvx_site.errors import Conflict, DomainError, InvalidInput
from feedback.choices import SURVEY_SOURCES, IdentityKind, SurveyPurpose
from feedback.models import ContactRule, Customer, CustomerIdentity, SurveyInvitation
from feedback.services import ERROR, IngestOutcome, feedback_ingest
from feedback.surveys.definitions import FALLBACK_LANGUAGE, survey_form, survey_language
from feedback.surveys.senders import sender_for
from journeys.models import Touchpoint
from journeys.selectors import touchpoint_not_live_reason

logger = logging.getLogger(__name__)
SALT = "cvx.survey-invitation"
# Higher apps add checks that may veto an ordinary survey for a customer
# (cases: "has an open case"). Each returns a reason, or None.
ordinary_survey_guards: list[Callable[[Customer], str | None]] = []


# The contact rules, as a suppressed survey request names them.
RULE_NO_EMAIL = "no_email"
RULE_FREQUENCY_CAP = "frequency_cap"
RULE_OPEN_CASE = "open_case"


class SurveyNotAllowed(Conflict):
    """The contact rules forbid surveying this customer now; `rule` names
    which (RULE_*), the message says why in words."""

    def __init__(self, message: str, *, rule: str = "") -> None:
        super().__init__(message)
        self.rule = rule


class SurveyAnswerNotRecorded(Conflict):
    """The invitation's key already holds a response that is not this
    invitation's answer, so the answer cannot be stored under it."""


class TouchpointNotLive(InvalidInput):
    """An ordinary survey at a touchpoint of a draft journey (future state or
    inactive), which takes no feedback; the message names it and why."""


class BadLink(DomainError):
    """A survey link that is forged, expired or already used; `reason` says which."""

    status = 404

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def invitation_create(
    *, customer: Customer, touchpoint: Touchpoint, purpose: str, now: datetime | None = None, language: str = ""
) -> SurveyInvitation:
    """Create an invitation, or raise SurveyNotAllowed with the reason (no
    email address, the contact cap, a guard). Every invitation counts
    against the cap, follow-ups included. An ordinary survey at a touchpoint
    whose journey is not live raises TouchpointNotLive (a follow-up belongs
    to its case, which is live, and is created even there). `language` is
    the one asked for, if any; the invitation keeps the one it will use
    (`definitions.survey_language`)."""
    now = now or timezone.now()
    if (reason := _not_live_reason(touchpoint, purpose)) is not None:
        raise TouchpointNotLive(reason, field="touchpoint")
    with transaction.atomic():
        # The customer's row lock makes the cap hold under concurrent sends.
        Customer.objects.select_for_update().filter(pk=customer.pk).first()
        email = (
            CustomerIdentity.objects.filter(customer=customer, kind=IdentityKind.EMAIL)
            .order_by("-id")
            .values_list("value", flat=True)
            .first()
        )
        if not email:
            raise SurveyNotAllowed("The customer has no email address.", rule=RULE_NO_EMAIL)
        _check_contact_rules(customer, purpose, now)
        return SurveyInvitation.objects.create(
            customer=customer,
            touchpoint=touchpoint,
            purpose=purpose,
            email=email,
            language=survey_language(requested=language, customer=customer),
            created_at=now,
            expires_at=now + timedelta(days=settings.CVX_SURVEY_VALID_DAYS),
        )


def _check_contact_rules(customer: Customer, purpose: str, now: datetime) -> None:
    rule = ContactRule.objects.filter(active=True).order_by("id").first()
    if rule is None:
        return
    recent = SurveyInvitation.objects.filter(
        customer=customer, created_at__gt=now - timedelta(days=rule.period_days)
    ).count()
    if recent >= rule.max_surveys:
        raise SurveyNotAllowed(
            f"Contact cap reached: {recent} survey(s) in the last {rule.period_days} days "
            f"(at most {rule.max_surveys}).",
            rule=RULE_FREQUENCY_CAP,
        )
    if purpose == SurveyPurpose.SURVEY and rule.no_survey_while_case_open:
        for guard in ordinary_survey_guards:
            reason = guard(customer)
            if reason:
                raise SurveyNotAllowed(reason, rule=RULE_OPEN_CASE)


def _not_live_reason(touchpoint: Touchpoint, purpose: str) -> str | None:
    # The same rule as the feedback validator's, which the answer meets too.
    return None if purpose == SurveyPurpose.FOLLOW_UP else touchpoint_not_live_reason(touchpoint)


def invitation_token(invitation: SurveyInvitation) -> str:
    return signing.dumps(invitation.pk, salt=SALT, compress=True)


def invitation_url(invitation: SurveyInvitation) -> str:
    return settings.CVX_BASE_URL.rstrip("/") + reverse("survey", args=[invitation_token(invitation)])


def invitation_from_token(token: str, *, now: datetime | None = None) -> SurveyInvitation:
    """The open invitation behind a link, or BadLink saying why not."""
    try:
        pk = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        raise BadLink("forged", pgettext_lazy("survey", "This survey link is not valid.")) from None
    invitation = SurveyInvitation.objects.select_related("touchpoint__stage__journey", "customer").filter(pk=pk).first()
    if invitation is None:
        raise BadLink("forged", pgettext_lazy("survey", "This survey link is not valid."))
    if invitation.answered_at is not None:
        raise BadLink("used", pgettext_lazy("survey", "This survey has been answered already. Thank you!"))
    if invitation.expires_at <= (now or timezone.now()):
        raise BadLink("expired", pgettext_lazy("survey", "This survey has closed."))
    if _not_live_reason(invitation.touchpoint, invitation.purpose) is not None:
        # The journey became a draft after the invitation was made; the
        # customer is told the survey is closed, not how journeys are modelled.
        raise BadLink(
            "expired",
            format_lazy(
                pgettext_lazy("survey", "This survey about {place} has closed."), place=invitation.touchpoint.name
            ),
        )
    return invitation


def survey_answer(
    *,
    token: str,
    nps: int | None = None,
    csat: int | None = None,
    comment: str = "",
    ves: int | None = None,
    ces: int | None = None,
) -> IngestOutcome:
    """Record the answer to an invitation through the ingestion service, under
    the source reserved for the invitation's purpose; the response carries its
    invitation, and the invitation is used up.

    Invalid answers come back as an `error` outcome with field messages.
    Raises BadLink when the link is no longer open, and SurveyAnswerNotRecorded
    (logged as an error; the invitation stays open) when the invitation's key
    already holds some other response: the answer is never dropped while the
    customer is thanked. The answer to a survey request is stored under its
    interaction id, so the integration finds it by the key it sent.
    """
    with transaction.atomic():
        invitation = invitation_from_token(token)
        invitation = SurveyInvitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.answered_at is not None:  # answered while we looked
            raise BadLink("used", pgettext_lazy("survey", "This survey has been answered already. Thank you!"))
        source, external_id = SURVEY_SOURCES[invitation.purpose], _answer_key(invitation)
        outcome = feedback_ingest(
            item={
                "touchpoint": invitation.touchpoint.slug,
                "source": source,
                "external_id": external_id,
                "kind": "direct",
                "nps": nps,
                "csat": csat,
                "ces": ces,
                "ves": ves,
                "comment": comment,
                "customer": {"email": invitation.email},
                "metadata": {"invitation": invitation.pk},
            },
            invitation=invitation,
        )
        if outcome.status == ERROR:
            return outcome
        if outcome.response is None or outcome.response.invitation_id != invitation.pk:
            logger.error(
                "survey invitation %s: the answer was not recorded: %s:%s is %s (stored response %s)",
                invitation.pk,
                source,
                external_id,
                outcome.status,
                outcome.response.pk if outcome.response is not None else None,
            )
            raise SurveyAnswerNotRecorded(
                "Sorry, we could not record your answer because of a problem on our "
                "side. We have been alerted and will look into it."
            )
        SurveyInvitation.objects.filter(pk=invitation.pk).update(answered_at=timezone.now())
    return outcome


def _answer_key(invitation: SurveyInvitation) -> str:
    request = getattr(invitation, "survey_request", None)  # the reverse one-to-one, when it has one
    return request.interaction_id if request is not None else f"invitation-{invitation.pk}"


def survey_reminders_due(*, now: datetime) -> QuerySet[SurveyInvitation]:
    """Ordinary invitations whose one reminder is due at `now`: sent, not
    answered, reminded or expired, older than CVX_SURVEY_REMINDER_DAYS.
    (Follow-ups are reminded by their case's sweep, which knows the case.)"""
    return SurveyInvitation.objects.filter(
        purpose=SurveyPurpose.SURVEY,
        sent_at__isnull=False,
        reminded_at__isnull=True,
        answered_at__isnull=True,
        expires_at__gt=now,
        created_at__lte=now - timedelta(days=settings.CVX_SURVEY_REMINDER_DAYS),
    )


def invitation_send(*, invitation_id: int, reminder: bool = False) -> bool:
    """Send the link (or the one reminder) once, through the invitation's
    sender (`senders.sender_for`); True if this call sent it.
    Nothing is sent for an ordinary survey whose touchpoint's journey is no
    longer live (its link would only say the survey has closed)."""
    field = "reminded_at" if reminder else "sent_at"
    pending = SurveyInvitation.objects.filter(pk=invitation_id).select_related("touchpoint__stage__journey").first()
    if pending is not None and (reason := _not_live_reason(pending.touchpoint, pending.purpose)) is not None:
        logger.info("survey invitation %s not sent: %s", invitation_id, reason)
        return False
    claimed = SurveyInvitation.objects.filter(
        pk=invitation_id, answered_at__isnull=True, **{f"{field}__isnull": True}
    ).update(**{field: timezone.now()})
    if not claimed:
        return False
    invitation = SurveyInvitation.objects.select_related("touchpoint", "customer").get(pk=invitation_id)
    subject, body = invitation_email(invitation, reminder=reminder)
    sender_for(invitation).send(invitation, subject=subject, body=body)
    return True


def invitation_email(invitation: SurveyInvitation, *, reminder: bool = False) -> tuple[str, str]:
    """The invitation's subject and body, in the language of the page its
    link opens (the definition's wording, else the invitation's language,
    else English), whatever language the sending worker runs in. The
    questions are read from the survey form the link opens, so the email
    says what it will ask, in the words of the touchpoint's survey
    definition if it has one."""
    form, wording = survey_form(invitation)
    language = wording.language if wording is not None else (invitation.language or FALLBACK_LANGUAGE)
    with translation.override(language):
        return _email_text(invitation, form, wording, reminder=reminder)


def _email_text(invitation: SurveyInvitation, form, wording, *, reminder: bool) -> tuple[str, str]:
    fields = form.fields.values()
    questions = [str(f.label) for f in fields if not isinstance(f.widget, Textarea)]
    optional_comment = any(isinstance(f.widget, Textarea) and not f.required for f in fields)
    n = len(questions)
    count = str(_NUMBER_WORDS.get(n, n))
    place = invitation.touchpoint.name
    if wording is not None:
        title = wording.title
    else:
        title = npgettext(
            "survey email", "How did we do? {Count} quick question", "How did we do? {Count} quick questions", n
        ).format(Count=count[:1].upper() + count[1:])
    if invitation.purpose == SurveyPurpose.FOLLOW_UP:
        intro = pgettext("survey email", "We have worked on what you told us about {place}. Did we put it right?")
    else:
        intro = pgettext("survey email", "You recently dealt with us at {place}. How did it go?")
    intro = (wording.intro if wording is not None else "") or intro.format(place=place)
    if optional_comment:
        ask = npgettext(
            "survey email",
            "We would like to ask you {count} question and, if you like, anything you would add:",
            "We would like to ask you {count} questions and, if you like, anything you would add:",
            n,
        )
    else:
        ask = npgettext(
            "survey email",
            "We would like to ask you {count} question:",
            "We would like to ask you {count} questions:",
            n,
        )
    subject = pgettext("survey email", "Reminder: {title}").format(title=title) if reminder else title
    asked = "\n".join(f"- {q}" for q in questions)
    body = "\n\n".join(
        [
            pgettext("survey email", "Hello,"),
            f"{intro} {ask.format(count=count)}",
            asked,
            pgettext("survey email", "It takes less than a minute:"),
            invitation_url(invitation),
            pgettext("survey email", "The link works once, until {date}.").format(
                date=formats.date_format(invitation.expires_at, "DATE_FORMAT")
            ),
        ]
    )
    return subject, body + "\n"


# Small counts read as words in every language ("two questions").
_NUMBER_WORDS = {
    1: pgettext_lazy("survey email", "one"),
    2: pgettext_lazy("survey email", "two"),
    3: pgettext_lazy("survey email", "three"),
    4: pgettext_lazy("survey email", "four"),
    5: pgettext_lazy("survey email", "five"),
}
