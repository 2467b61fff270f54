"""POST /api/v1/survey-requests/: an integration asks CVX to survey a customer."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from feedback.api.views import CanIngest
from feedback.choices import SurveyRequestStatus
from feedback.surveys.requests import SurveyRequestInSerializer, request_reply, survey_request_create


class SurveyRequestReplySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=SurveyRequestStatus.choices)
    interaction_id = serializers.CharField()
    rule = serializers.CharField(
        required=False, help_text="Suppressed only: the contact rule (no_email, frequency_cap, open_case)."
    )
    reason = serializers.CharField(required=False, help_text="Suppressed only: why, in words.")


class SurveyRequestView(APIView):
    """Survey a customer after an interaction at a touchpoint, in their
    language, if the contact rules allow it."""

    permission_classes = [permissions.IsAuthenticated, CanIngest]
    throttle_scope = "ingest"

    @extend_schema(
        operation_id="survey_requests_create",
        request=SurveyRequestInSerializer,
        responses={
            202: OpenApiResponse(
                SurveyRequestReplySerializer,
                "Accepted: queued (the invitation is sent), or suppressed by a contact rule, named with "
                "the reason. The same interaction_id again answers what the first request did.",
            ),
            400: OpenApiResponse(description="Field errors: touchpoint, customer, interaction_id, language."),
        },
        examples=[
            OpenApiExample(
                "A request",
                request_only=True,
                value={
                    "touchpoint": "fault-line",
                    "customer": {"email": "ada@example.com"},
                    "interaction_id": "call-20261207-0042",
                    "language": "de",
                },
            ),
            OpenApiExample(
                "Suppressed",
                response_only=True,
                status_codes=["202"],
                value={
                    "status": "suppressed",
                    "interaction_id": "call-20261207-0042",
                    "rule": "open_case",
                    "reason": "The customer has an open case.",
                },
            ),
        ],
    )
    def post(self, request):
        try:
            outcome = survey_request_create(data=request.data, actor=request.user)
        except ValidationError as exc:
            return Response(exc.detail, status=status.HTTP_400_BAD_REQUEST)
        return Response(request_reply(outcome), status=status.HTTP_202_ACCEPTED)
