from __future__ import annotations

from django.utils.functional import cached_property
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from cases import services
from cases.api.serializers import CaseEventSerializer, CaseSerializer, TransitionSerializer
from cases.filtersets import CaseFilterSet
from cases.messaging.api import MessageInSerializer, MessageSerializer
from cases.messaging.services import case_message_send
from cases.selectors import cases_visible_to, team_ids_of


class DueTimeCursor(CursorPagination):
    ordering = ("due_at", "id")
    page_size = 25  # a screenful of a queue; callers ask for up to 200
    max_page_size = 200
    page_size_query_param = "page_size"


CASE_COLUMNS = (
    "id",
    "status",
    "outcome",
    "priority",
    "owner__username",
    "team__slug",
    "team__lead_id",
    "customer_id",
    "touchpoint__slug",
    "journey__slug",
    "feedback_id",
    "first_contact_due",
    "resolve_due",
    "due_at",
    "first_contact_at",
    "resolved_at",
    "closed_at",
    "first_contact_breached_at",
    "resolution_breached_at",
    "root_cause_id",
    "resolution_summary",
    "created_at",
    "updated_at",
)


class CaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Cases in the caller's scope, by due time; their audit trail; their transitions."""

    serializer_class = CaseSerializer
    filterset_class = CaseFilterSet
    pagination_class = DueTimeCursor

    def get_queryset(self):
        # Root causes are prefetched, not joined: two more joins cost the
        # planner more than the two small queries, which open cases skip.
        # Only the columns CaseSerializer and the policy read are loaded.
        return (
            cases_visible_to(self.request.user, team_ids=self.team_ids)
            .select_related("owner", "team", "touchpoint", "journey")
            .only(*CASE_COLUMNS)
            .prefetch_related("root_cause__parent")
        )

    @cached_property
    def team_ids(self) -> list[int]:
        """The caller's teams, read once per request: what they may see and where they are a member."""
        return team_ids_of(self.request.user)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["member_team_ids"] = set(self.team_ids)
        return context

    # The list's filters would only narrow which case is looked up: not documented here.
    @extend_schema(responses={200: CaseEventSerializer(many=True)}, filters=False)
    @action(detail=True, methods=["get"], pagination_class=None)
    def events(self, request, pk=None):
        case = self.get_object()
        events = case.events.select_related("actor").order_by("seq")
        return Response(CaseEventSerializer(events, many=True).data)

    @extend_schema(
        request=TransitionSerializer,
        responses={200: CaseSerializer, 409: OpenApiResponse(description="The case's state forbids the action.")},
    )
    @action(detail=True, methods=["post"], pagination_class=None)
    def transitions(self, request, pk=None):
        case = self.get_object()  # 404 outside the caller's scope
        body = TransitionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        params = dict(body.validated_data)
        case = services.case_transition(case_id=case.pk, actor=request.user, action=params.pop("action"), **params)
        case = self.get_queryset().get(pk=case.pk)
        return Response(self.get_serializer(case).data)

    @extend_schema(
        request=MessageInSerializer,
        responses={201: MessageSerializer, 409: OpenApiResponse(description="The case's state forbids a contact.")},
    )
    @action(detail=True, methods=["post"], pagination_class=None)
    def messages(self, request, pk=None):
        """Email the customer from the case; counts as a contact (channel email)."""
        case = self.get_object()  # 404 outside the caller's scope
        body = MessageInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        message = case_message_send(
            case_id=case.pk,
            actor=request.user,
            subject=data.get("subject", ""),
            body=data.get("body", ""),
            template_id=data.get("template"),
        )
        message.refresh_from_db()  # delivery may already have run (synchronous tasks)
        return Response(MessageSerializer(message).data, status=201)
