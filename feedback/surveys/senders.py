"""How an invitation reaches the customer. Email today; another channel
(SMS) is one more SurveySender subclass and a line in `sender_for`."""

from __future__ import annotations

from django.core.mail import send_mail

from feedback.models import SurveyInvitation


class SurveySender:
    """Delivers one invitation's message (the link, or its reminder)."""

    channel = ""

    def send(self, invitation: SurveyInvitation, *, subject: str, body: str) -> None:
        raise NotImplementedError


class EmailSurveySender(SurveySender):
    """The invitation's email address, through Django's mail backend (the
    follow-up's path: DJANGO_EMAIL_* settings)."""

    channel = "email"

    def send(self, invitation: SurveyInvitation, *, subject: str, body: str) -> None:
        send_mail(subject, body, None, [invitation.email])


def sender_for(invitation: SurveyInvitation) -> SurveySender:
    # Every invitation has an email address today (invitation_create refuses
    # a customer without one).
    return EmailSurveySender()
