"""Reads with access rules, used alike by pages, the API and the admin.

One rule decides what feedback a user sees: CX admins and integrations
(`view_all_feedback`) see every touchpoint's, anyone else that of the
touchpoints their teams own (`touchpoints_visible_to`). Every other scope
of feedback data here (responses, journeys, customers, invitations, the
score summary's touchpoints) is derived from it."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Exists, OuterRef, Q, QuerySet

from feedback.models import Customer, FeedbackResponse, SurveyInvitation
from journeys.models import Journey, Touchpoint
from journeys.selectors import teams_of

VIEW_ALL = "feedback.view_all_feedback"


def sees_all_feedback(user) -> bool:
    """CX admins and integrations: every touchpoint's feedback, with no
    condition to add to a query."""
    return user.is_authenticated and user.has_perm(VIEW_ALL)


def touchpoints_visible_to(user) -> QuerySet[Touchpoint]:
    """The touchpoints whose feedback `user` may see: every one for CX admins
    and integrations, those owned by the user's teams for anyone else, none
    for an anonymous user. The one rule of this module."""
    touchpoints = Touchpoint.objects.all()
    if not user.is_authenticated:
        return touchpoints.none()
    if sees_all_feedback(user):
        return touchpoints
    return touchpoints.filter(team__in=teams_of(user))


def scored_touchpoints_of(user) -> QuerySet[Touchpoint] | None:
    """`touchpoints_visible_to(user)` for a read that may skip the condition
    (the score summary): None when it is every touchpoint."""
    return None if sees_all_feedback(user) else touchpoints_visible_to(user)


def feedback_visible_to(user) -> QuerySet[FeedbackResponse]:
    """The responses at the touchpoints `touchpoints_visible_to(user)` gives."""
    responses = FeedbackResponse.objects.select_related("touchpoint", "customer")
    if sees_all_feedback(user):
        return responses
    return responses.filter(touchpoint__in=touchpoints_visible_to(user))


def journeys_visible_to(user) -> QuerySet[Journey]:
    """Journeys with a touchpoint whose feedback `user` may see; every
    journey (even one without touchpoints yet) for CX admins and integrations."""
    journeys = Journey.objects.all()
    if sees_all_feedback(user):
        return journeys
    return journeys.filter(pk__in=touchpoints_visible_to(user).values("stage__journey"))


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
    if sees_all_feedback(user):
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
    if sees_all_feedback(user):
        return invitations
    return invitations.filter(customer__in=customers_visible_to(user).values("pk"))
