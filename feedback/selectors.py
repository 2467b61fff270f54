"""Reads with access rules, used alike by pages and the API."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from feedback.choices import SentimentLabel
from feedback.models import Customer, FeedbackResponse
from feedback.themes import Theme, extract_themes
from journeys.selectors import teams_of

VIEW_ALL = "feedback.view_all_feedback"


def feedback_visible_to(user) -> QuerySet[FeedbackResponse]:
    """All feedback for CX admins and integrations; otherwise the feedback on
    touchpoints owned by the user's teams."""
    responses = FeedbackResponse.objects.select_related("touchpoint", "customer")
    if not user.is_authenticated:
        return responses.none()
    if user.has_perm(VIEW_ALL):
        return responses
    return responses.filter(touchpoint__team__in=teams_of(user))


def customers_visible_to(user) -> QuerySet[Customer]:
    """Customers whose feedback the user may see."""
    customers = Customer.objects.prefetch_related("identities")
    if not user.is_authenticated:
        return customers.none()
    if user.has_perm(VIEW_ALL):
        return customers
    visible = feedback_visible_to(user).filter(customer=OuterRef("pk"))
    return customers.filter(Exists(visible))


# Themes read the newest negative comments only: enough to show what hurts
# now, and bounded so a busy touchpoint cannot make the page slow.
THEMES_SAMPLE = 5000


def negative_themes(responses: QuerySet[FeedbackResponse], *, top: int = 10) -> tuple[list[Theme], int]:
    """The commonest terms and two-word phrases in the negative comments of
    `responses` (already scoped and filtered by the caller), with how many
    comments were read."""
    comments = list(
        responses.filter(sentiment_label=SentimentLabel.NEGATIVE)
        .exclude(comment="")
        .order_by("-occurred_at")
        .values_list("comment", flat=True)[:THEMES_SAMPLE]
    )
    return extract_themes(comments, top=top), len(comments)
