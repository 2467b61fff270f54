"""django-q2 entry points for feedback: take ids, call a service."""

from feedback.surveys import invitation_send


def send_invitation(invitation_id: int, reminder: bool = False) -> bool:
    return invitation_send(invitation_id=invitation_id, reminder=reminder)
