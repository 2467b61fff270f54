"""GET /api/v1/metrics/: loop metrics over the caller's cases."""

from __future__ import annotations

from datetime import datetime, time

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.analytics import GROUPS, PERIODS, loop_metrics
from cases.selectors import cases_visible_to


class MetricsQuerySerializer(serializers.Serializer):
    group_by = serializers.ChoiceField(choices=sorted(GROUPS), required=False)
    period = serializers.ChoiceField(choices=sorted(PERIODS), required=False)
    since = serializers.DateField(required=False, help_text="Cases opened on or after this day.")
    until = serializers.DateField(required=False, help_text="Cases opened on or before this day.")

    def validate(self, attrs):
        if attrs.get("since") and attrs.get("until") and attrs["since"] > attrs["until"]:
            raise serializers.ValidationError({"until": ["Must not be before `since`."]})
        return attrs


def _hours_or_pct(help_text: str) -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, help_text=help_text)


class LoopRowSerializer(serializers.Serializer):
    group = serializers.CharField(required=False, allow_null=True)
    period = serializers.DateTimeField(required=False)
    cases = serializers.IntegerField()
    resolved = serializers.IntegerField()
    followed_up = serializers.IntegerField()
    responded = serializers.IntegerField()
    recovered = serializers.IntegerField()
    first_contact_mean_h = _hours_or_pct("Hours from opening to first contact, mean.")
    first_contact_median_h = _hours_or_pct("... median.")
    first_contact_p90_h = _hours_or_pct("... 90th percentile.")
    resolution_mean_h = _hours_or_pct("Hours from opening to resolution, mean.")
    resolution_median_h = _hours_or_pct("... median.")
    resolution_p90_h = _hours_or_pct("... 90th percentile.")
    sla_met_pct = _hours_or_pct("Resolved cases that breached no SLA, %.")
    first_contact_resolution_pct = _hours_or_pct("Resolved cases with a single logged contact, %.")
    follow_up_response_rate = _hours_or_pct("Followed-up cases whose customer answered, %.")
    recovery_rate = _hours_or_pct("Answered follow-ups no longer detractor or dissatisfied, %.")
    nps_change = _hours_or_pct("Mean follow-up NPS minus original NPS.")
    csat_change = _hours_or_pct("Mean follow-up CSAT minus original CSAT.")


class MetricsReplySerializer(serializers.Serializer):
    group_by = serializers.CharField(allow_null=True)
    period = serializers.CharField(allow_null=True)
    loop = LoopRowSerializer(many=True)


def filtered_cases(user, params: dict):
    cases = cases_visible_to(user)
    zone = timezone.get_current_timezone()
    if params.get("since"):
        cases = cases.filter(created_at__gte=datetime.combine(params["since"], time.min, zone))
    if params.get("until"):
        cases = cases.filter(created_at__lte=datetime.combine(params["until"], time.max, zone))
    return cases


class MetricsView(APIView):
    """Loop metrics (time to first contact and resolution, SLA met, first-contact
    resolution, follow-up response, recovery, score change) by group and period."""

    @extend_schema(parameters=[MetricsQuerySerializer], responses={200: MetricsReplySerializer})
    def get(self, request):
        query = MetricsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        rows = loop_metrics(filtered_cases(request.user, params), group_by=params.get("group_by"),
                            period=params.get("period"))
        return Response({"group_by": params.get("group_by"), "period": params.get("period"), "loop": rows})
