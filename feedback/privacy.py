"""Erasing a customer's personal data on request, keeping what is not personal.

What goes: the customer's identities (email, phone, external id, social
handle), their name, the text, metadata and content hash of their feedback,
and the email address on their survey invitations. What stays: the customer
row (so cases and metrics still count them, by id), every score, the
sentiment compound and label, the derived NPS category and CSAT band, and the
cases with their audit trail, which refer to the customer only by id and so
still verify.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cvx_site.errors import NotFound
from feedback.models import Customer, CustomerIdentity, FeedbackResponse, SurveyInvitation
from feedback.validation import normalise_identity

logger = logging.getLogger(__name__)

# A response with no score must keep a non-empty comment (the
# feedback_has_score_or_comment constraint). Punctuation only, so the
# placeholder adds no term to the themes (feedback.themes.is_term).
ERASED_COMMENT = "—"
# What an erased response keeps in place of its content hash: a digest of the
# erased text would let anyone confirm a guess of it, and the ingestion
# service answers every replay of such a response's key as `gone`.
ERASED_CONTENT_HASH = "erased"
# Higher apps that keep copies of a customer's personal data (cases: the
# bodies of webhook deliveries) add a function here, called with the
# customer's id inside the erasing transaction.
erasure_hooks: list[Callable[[int], object]] = []


@dataclass(frozen=True)
class ErasureResult:
    """What `customer_erase` changed; counts are rows touched by this call."""

    customer_id: int
    erased_at: datetime
    identities_deleted: int
    responses_blanked: int
    invitations_blanked: int
    invitations_closed: int


def customer_find(*, kind: str, value: str) -> int | None:
    """The id of the customer with this identity (normalised as ingestion
    stores it), or None."""
    return (
        CustomerIdentity.objects.filter(kind=kind, value=normalise_identity(kind, value))
        .values_list("customer_id", flat=True)
        .first()
    )


def customer_erase(*, customer_id: int, actor_label: str) -> ErasureResult:
    """Remove the customer's personal data, in one transaction.

    The caller may rely on: identities deleted; name blanked; each response's
    comment replaced by "" (ERASED_COMMENT when the response has no score),
    its metadata and explanation emptied, its content hash ERASED_CONTENT_HASH (a replay
    of its key is then `gone`, whatever it says), scores and sentiment kept;
    invitation emails set to "" and unanswered invitations closed (their
    links stop working and no reminder goes); `erased_at` set (kept from the
    first erasure when run again); each of `erasure_hooks` run (cases drops
    its webhook deliveries of the customer), nothing else in cases touched. Raises
    NotFound for an unknown id. `actor_label` (who asked, for the log) must
    not itself be personal data of the customer.
    """
    now = timezone.now()
    with transaction.atomic():
        # The row lock keeps a concurrent survey invitation (which locks the
        # customer too) from reading an identity we are about to delete.
        customer = Customer.objects.select_for_update().filter(pk=customer_id).first()
        if customer is None:
            raise NotFound(f"No customer with id {customer_id}.")
        identities_deleted, _ = CustomerIdentity.objects.filter(customer=customer).delete()
        responses = FeedbackResponse.objects.filter(customer=customer)
        scored = Q(nps__isnull=False) | Q(csat__isnull=False) | Q(ces__isnull=False)
        # The explanation quotes the comment's words, so it goes with the comment.
        erased = {"metadata": {}, "content_hash": ERASED_CONTENT_HASH, "explanation": []}
        blanked = responses.filter(scored).exclude(comment="", **erased).update(comment="", **erased)
        blanked += (
            responses.exclude(scored).exclude(comment=ERASED_COMMENT, **erased).update(comment=ERASED_COMMENT, **erased)
        )
        invitations = SurveyInvitation.objects.filter(customer=customer)
        closed = invitations.filter(answered_at__isnull=True, expires_at__gt=now).update(expires_at=now)
        invitations_blanked = invitations.exclude(email="").update(email="")
        Customer.objects.filter(pk=customer.pk).update(name="", erased_at=customer.erased_at or now)
        for hook in erasure_hooks:
            hook(customer.pk)
    result = ErasureResult(
        customer_id=customer.pk,
        erased_at=customer.erased_at or now,
        identities_deleted=identities_deleted,
        responses_blanked=blanked,
        invitations_blanked=invitations_blanked,
        invitations_closed=closed,
    )
    logger.info(
        "customer %s: personal data erased at the request of %s (%s identities, %s responses, %s invitations)",
        customer.pk,
        actor_label,
        identities_deleted,
        blanked,
        invitations_blanked,
    )
    return result
