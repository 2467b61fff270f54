from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from cases import services
from cases.api.serializers import CaseEventSerializer, CaseSerializer, TransitionSerializer
from cases.filtersets import CaseFilterSet
from cases.selectors import cases_visible_to
from cvx_site.api import ANY_SEGMENT, ErrorsDocumentedSchema
from journeys.selectors import teams_of


class DueTimeCursor(CursorPagination):
    ordering = ("due_at", "id")
    page_size = 25  # a screenful of a queue; callers ask for up to 200
    max_page_size = 200
    page_size_query_param = "page_size"


class CaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Cases in the caller's scope, by due time; their audit trail; their transitions."""

    schema = ErrorsDocumentedSchema()
    lookup_value_regex = ANY_SEGMENT
    serializer_class = CaseSerializer
    filterset_class = CaseFilterSet
    pagination_class = DueTimeCursor

    def get_queryset(self):
        return cases_visible_to(self.request.user).select_related(
            "owner", "team", "touchpoint", "journey", "root_cause__parent")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["member_team_ids"] = set(teams_of(self.request.user).values_list("pk", flat=True))
        return context

    # The list's filters would only narrow which case is looked up: not documented here.
    @extend_schema(responses={200: CaseEventSerializer(many=True)}, filters=False)
    @action(detail=True, methods=["get"], pagination_class=None)
    def events(self, request, pk=None):
        case = self.get_object()
        events = case.events.select_related("actor").order_by("seq")
        return Response(CaseEventSerializer(events, many=True).data)

    @extend_schema(request=TransitionSerializer, responses={
        200: CaseSerializer, 409: OpenApiResponse(description="The case's state forbids the action.")})
    @action(detail=True, methods=["post"], pagination_class=None)
    def transitions(self, request, pk=None):
        case = self.get_object()  # 404 outside the caller's scope
        body = TransitionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        params = dict(body.validated_data)
        case = services.case_transition(case_id=case.pk, actor=request.user, action=params.pop("action"), **params)
        case = self.get_queryset().get(pk=case.pk)
        return Response(self.get_serializer(case).data)
