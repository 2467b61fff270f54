"""The notifications API: GET notifications/ (mine, newest first, with the
unread count) and POST notifications/read/ (mark some or all read). The
same selectors and services as the pages."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from cases.models import Notification
from cases.notifications.selectors import notifications_page, unread_count
from cases.notifications.services import notifications_mark_read
from cvx_site.inputs import MAX_ID, parse_id

READ_MAX_IDS = 1000


class NotificationSerializer(serializers.ModelSerializer):
    case = serializers.IntegerField(source="event.case_id", read_only=True)
    case_number = serializers.CharField(source="event.case.number", read_only=True)
    event = serializers.CharField(source="event.kind", read_only=True, help_text="The case event's dotted kind.")
    created_at = serializers.DateTimeField(source="claimed_at", read_only=True)
    emailed_at = serializers.DateTimeField(source="sent_at", read_only=True, allow_null=True)

    class Meta:
        model = Notification
        fields = ("id", "kind", "subject", "case", "case_number", "event", "created_at", "read_at", "emailed_at")
        read_only_fields = fields


class NotificationPageSerializer(serializers.Serializer):
    unread = serializers.IntegerField(help_text="How many of mine are unread.")
    next = serializers.URLField(allow_null=True, help_text="The next (older) page; null on the last.")
    results = NotificationSerializer(many=True)


class ReadInSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=READ_MAX_IDS,
        help_text="The notifications to mark read (others' ids are ignored); absent: all of mine.",
    )


class ReadOutSerializer(serializers.Serializer):
    marked = serializers.IntegerField()
    unread = serializers.IntegerField()


class NotificationListView(APIView):
    """My notifications, newest first, 25 a page, and how many are unread."""

    @extend_schema(
        parameters=[
            OpenApiParameter("before", int, description="Only those older than this id (the `next` link sets it).")
        ],
        responses={200: NotificationPageSerializer},
    )
    def get(self, request):
        raw = request.query_params.get("before")
        before = parse_id(raw) if raw is not None else None
        if raw is not None and before is None:
            raise ValidationError({"before": ["A notification id: a whole number from 1."]})
        items, next_before = notifications_page(request.user, before=before)
        next_url = replace_query_param(request.build_absolute_uri(), "before", next_before) if next_before else None
        return Response(
            {
                "unread": unread_count(request.user),
                "next": next_url,
                "results": NotificationSerializer(items, many=True).data,
            }
        )


class NotificationReadView(APIView):
    """Mark my notifications read: those of `ids`, or all."""

    @extend_schema(request=ReadInSerializer, responses={200: ReadOutSerializer})
    def post(self, request):
        body = ReadInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        marked = notifications_mark_read(user=request.user, ids=body.validated_data.get("ids"))
        return Response({"marked": marked, "unread": unread_count(request.user)})
