"""Reads with access rules, used alike by pages and the API."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Exists, OuterRef, Q, QuerySet

from feedback.choices import SentimentLabel
from feedback.models import Customer, FeedbackResponse, SurveyInvitation
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


# Higher apps add the other records through which a user may know a customer
# (cases: the cases the user may see). Each takes the user and returns that
# app's own selector: a queryset of rows with a `customer` field.
customer_scopes: list[Callable[..., QuerySet]] = []


def customers_visible_to(user) -> QuerySet[Customer]:
    """Customers with feedback the user may see, or with a record one of
    `customer_scopes` lets them see (a case of their team); all for CX admins
    and integrations."""
    customers = Customer.objects.prefetch_related("identities")
    if not user.is_authenticated:
        return customers.none()
    if user.has_perm(VIEW_ALL):
        return customers
    seen = Q(Exists(feedback_visible_to(user).filter(customer=OuterRef("pk"))))
    for scope in customer_scopes:
        seen |= Q(Exists(scope(user).filter(customer=OuterRef("pk"))))
    return customers.filter(seen)


def invitations_visible_to(user) -> QuerySet[SurveyInvitation]:
    """Survey invitations follow their customer: those of the customers the user may see."""
    invitations = SurveyInvitation.objects.select_related("customer", "touchpoint")
    if not user.is_authenticated:
        return invitations.none()
    if user.has_perm(VIEW_ALL):
        return invitations
    return invitations.filter(customer__in=customers_visible_to(user).values("pk"))


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
