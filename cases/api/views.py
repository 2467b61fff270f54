from __future__ import annotations

from django.utils.functional import cached_property
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from cases import services
from cases.api.serializers import CaseEventSerializer, CaseSerializer, TransitionSerializer
from cases.filtersets import CaseFilterSet
from cases.messaging.api import MessageInSerializer, MessageSerializer
from cases.messaging.services import case_message_send
from cases.selectors import SORTS, cases_visible_to, cursor_fits, keyset_page, team_ids_of


def _sort_description() -> str:
    """The `sort` parameter's help, read from the queue's orders themselves."""
    orders = []
    for name, keys in SORTS.items():
        columns = [f"{column.removesuffix('_rank')} {'descending' if desc else 'ascending'}" for column, desc in keys]
        orders.append(f"`{name}` ({', then '.join(columns)})")
    return (
        "The order of the list, as the queue pages offer it: "
        + "; ".join(orders)
        + ". Ties are broken by id in the first key's direction. The default is `due`. "
        "A cursor belongs to its order: keep `sort` when following `next`."
    )


class QueueCursor(CursorPagination):
    """Cursor pages in one of the queue pages' orders (`sort`, one of
    cases.selectors.SORTS), read by the pages' own keyset_page: each order
    pages by its own key, so no case is skipped or repeated between pages.
    Pages go forward only: `previous` is always null."""

    page_size = 25  # a screenful of a queue; callers ask for up to 200
    max_page_size = 200
    page_size_query_param = "page_size"
    sort_query_param = "sort"

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        sort = request.query_params.get(self.sort_query_param) or "due"
        if sort not in SORTS:
            raise ValidationError(
                {self.sort_query_param: [f"Unknown order “{sort[:50]}”: use one of {', '.join(SORTS)}."]}
            )
        cursor = request.query_params.get(self.cursor_query_param)
        if cursor and not cursor_fits(cursor, sort):
            raise NotFound(self.invalid_cursor_message)
        searching = bool(request.query_params.get("q"))
        self.page = keyset_page(queryset, after=cursor, size=self.page_size, sort=sort, searching=searching)
        return self.page.items

    def get_next_link(self):
        if self.page.next_cursor is None:
            return None
        return replace_query_param(self.base_url, self.cursor_query_param, self.page.next_cursor)

    def get_previous_link(self):
        return None

    def get_schema_operation_parameters(self, view):
        return [
            *super().get_schema_operation_parameters(view),
            {
                "name": self.sort_query_param,
                "required": False,
                "in": "query",
                "description": _sort_description(),
                "schema": {"type": "string", "enum": list(SORTS), "default": "due"},
            },
        ]


CASE_COLUMNS = (
    "id",
    "kind",
    "opportunity_kind",
    "amount",
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
    """Cases in the caller's scope, by due time or another queue order
    (`sort`); their audit trail; their transitions."""

    serializer_class = CaseSerializer
    filterset_class = CaseFilterSet
    pagination_class = QueueCursor

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
            handling_minutes=data.get("handling_minutes"),
        )
        message.refresh_from_db()  # delivery may already have run (synchronous tasks)
        return Response(MessageSerializer(message).data, status=201)
