from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from cvx_site.inputs import parse_bounded_int
from feedback.api.serializers import (
    BulkReplySerializer,
    CustomerSerializer,
    FeedbackSerializer,
    ThemesReplySerializer,
)
from feedback.filtersets import CustomerFilterSet, FeedbackFilterSet
from feedback.selectors import customers_visible_to, feedback_visible_to
from feedback.services import (
    BULK_MAX_ITEMS,
    CONFLICT,
    CREATED,
    DUPLICATE,
    ERROR,
    GONE,
    feedback_ingest,
    feedback_ingest_many,
)
from feedback.themes import topic_figures, unassigned_terms
from feedback.validation import FeedbackInSerializer

_SINGLE_STATUS = {
    CREATED: status.HTTP_201_CREATED,
    DUPLICATE: status.HTTP_200_OK,
    CONFLICT: status.HTTP_409_CONFLICT,
    GONE: status.HTTP_410_GONE,
    ERROR: status.HTTP_400_BAD_REQUEST,
}


class CanIngest(permissions.BasePermission):
    message = "This account may not send feedback."

    def has_permission(self, request, view) -> bool:
        return request.user.has_perm("feedback.add_feedbackresponse")


class FeedbackViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Feedback in (single or bulk), and the feedback the caller may see."""

    serializer_class = FeedbackSerializer
    filterset_class = FeedbackFilterSet

    def get_queryset(self):
        return feedback_visible_to(self.request.user).prefetch_related("customer__identities")

    def get_permissions(self):
        if self.action in ("create", "bulk"):
            return [permissions.IsAuthenticated(), CanIngest()]
        return super().get_permissions()

    def get_throttles(self):
        if self.action in ("create", "bulk"):
            self.throttle_scope = "ingest"
        return super().get_throttles()

    @extend_schema(
        request=FeedbackInSerializer,
        responses={
            201: FeedbackSerializer,
            200: OpenApiResponse(FeedbackSerializer, "A replay: stored already."),
            400: OpenApiResponse(description="Field errors."),
            409: OpenApiResponse(description="external_id reused with different content."),
            410: OpenApiResponse(
                description="external_id of a response erased at the customer's request: refused whatever the content."
            ),
        },
    )
    def create(self, request):
        if not isinstance(request.data, dict):
            return Response({"non_field_errors": ["Expected a JSON object."]}, status=400)
        outcome = feedback_ingest(item=request.data)
        code = _SINGLE_STATUS[outcome.status]
        if outcome.status in (CREATED, DUPLICATE):
            return Response(FeedbackSerializer(outcome.response).data, status=code)
        return Response(outcome.errors, status=code)

    @extend_schema(request=FeedbackInSerializer(many=True), responses={200: BulkReplySerializer})
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        items = request.data
        if not isinstance(items, list):
            return Response({"non_field_errors": ["Expected a JSON list of feedback objects."]}, status=400)
        if not 1 <= len(items) <= BULK_MAX_ITEMS:
            return Response(
                {"non_field_errors": [f"Send between 1 and {BULK_MAX_ITEMS} items; got {len(items)}."]}, status=400
            )
        results, counts = [], {CREATED: 0, DUPLICATE: 0, ERROR: 0}
        for index, outcome in enumerate(feedback_ingest_many(items=items)):
            kind = ERROR if outcome.status in (ERROR, CONFLICT, GONE) else outcome.status
            counts[kind] += 1
            result = {"index": index, "status": kind}
            if outcome.response is not None and kind != ERROR:
                result["id"] = outcome.response.pk
            if outcome.errors:
                result["errors"] = outcome.errors
            results.append(result)
        return Response({**counts, "results": results})

    @extend_schema(
        responses={200: ThemesReplySerializer},
        filters=True,
        parameters=[OpenApiParameter("top", int, description="How many themes, 1 to 100; 10 by default.")],
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def themes(self, request):
        """The topics of the feedback that the list's filters select (volume,
        share negative, weekly trend), and the free terms of its negative
        comments that no topic caught: what an admin might add a topic for."""
        top = parse_bounded_int(request.query_params.get("top", "10"), low=1, high=100)
        if top is None:
            return Response({"top": ["A whole number from 1 to 100."]}, status=400)
        responses = self.filter_queryset(self.get_queryset())
        themes, read = unassigned_terms(responses, top=top)
        topics = [
            {
                "name": t.name,
                "volume": t.volume,
                "negative": t.negative,
                "share_negative": t.share_negative,
                "trend": [{"week": week, "volume": volume} for week, volume in t.trend],
            }
            for t in topic_figures(responses, top=top)
        ]
        return Response(
            ThemesReplySerializer(
                {
                    "comments_read": read,
                    "topics": topics,
                    "themes": [{"phrase": t.phrase, "count": t.count} for t in themes],
                }
            ).data
        )


class CustomerViewSet(viewsets.ReadOnlyModelViewSet):
    """Customers whose feedback the caller may see, with their identities."""

    serializer_class = CustomerSerializer
    filterset_class = CustomerFilterSet

    def get_queryset(self):
        return customers_visible_to(self.request.user)
