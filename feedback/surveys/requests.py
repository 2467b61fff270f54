"""Survey requests: an integration (API or CSV) asks CVX to survey a
customer after one interaction at a touchpoint. One validator for both
entry paths; the contact rules and the invitation are `feedback.surveys`'s."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_q.tasks import async_task
from rest_framework import serializers

from cvx_site.inputs import json_problem
from feedback.choices import SurveyLanguage, SurveyPurpose, SurveyRequestStatus
from feedback.models import SurveyRequest

# Customers are found by any identity, or created, exactly as ingestion does.
from feedback.services import customers_resolve
from feedback.surveys import SurveyNotAllowed, invitation_create
from feedback.surveys.definitions import active_definition, survey_language
from feedback.validation import CustomerInSerializer
from journeys.models import Touchpoint
from journeys.selectors import touchpoint_not_live_reason

INTERACTION_ID_MAX = 200


class SurveyRequestInSerializer(serializers.Serializer):
    """A survey request as integrations send it (README, "Sending surveys")."""

    touchpoint = serializers.CharField(max_length=80)
    customer = CustomerInSerializer()
    interaction_id = serializers.CharField(max_length=INTERACTION_ID_MAX)
    language = serializers.ChoiceField(choices=SurveyLanguage.choices, required=False, allow_blank=True, default="")

    def to_internal_value(self, data):
        # Storable JSON first, as for feedback: DRF's messages echo the input.
        if isinstance(data, Mapping):
            problems = {
                name: [f"{problem[0].upper()}{problem[1:]}."]
                for name in self.fields
                if name in data
                if (problem := json_problem(data[name])) is not None
            }
            if problems:
                raise serializers.ValidationError(problems)
        return super().to_internal_value(data)

    def validate_touchpoint(self, slug: str) -> Touchpoint:
        touchpoint = Touchpoint.objects.select_related("stage__journey").filter(slug=slug).first()
        if touchpoint is None:
            raise serializers.ValidationError(f"Unknown touchpoint {slug!r}.")
        if reason := touchpoint_not_live_reason(touchpoint):
            raise serializers.ValidationError(reason)
        if active_definition(touchpoint) is None:
            raise serializers.ValidationError(
                f"Touchpoint {slug!r} has no active survey definition; a CX admin defines one in the admin."
            )
        return touchpoint


@dataclass
class RequestOutcome:
    """`request` is the stored request (queued or suppressed); `replay` is
    True when the interaction was requested before and nothing was done."""

    request: SurveyRequest
    replay: bool = False


def survey_request_validate(data) -> dict:
    """The request's clean values, or rest_framework's ValidationError with
    field messages."""
    if not isinstance(data, Mapping):
        raise serializers.ValidationError({"non_field_errors": ["Expected a JSON object."]})
    serializer = SurveyRequestInSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def survey_request_create(*, data: Mapping, actor=None) -> RequestOutcome:
    """Validate one request and record it: queued (an invitation made and its
    email sent after commit, with one reminder from the sweep) or suppressed
    with the contact rule that held it back. The same interaction_id again
    returns the stored request and does nothing more, whatever else it says.
    Raises rest_framework's ValidationError (field messages) when invalid."""
    clean = survey_request_validate(data)
    stored = SurveyRequest.objects.filter(interaction_id=clean["interaction_id"]).first()
    if stored is not None:
        return RequestOutcome(stored, replay=True)
    try:
        with transaction.atomic():
            request = _record(clean, actor)
    except IntegrityError:
        # The same interaction, requested concurrently, committed first.
        stored = SurveyRequest.objects.filter(interaction_id=clean["interaction_id"]).first()
        if stored is None:
            raise
        return RequestOutcome(stored, replay=True)
    if request.invitation_id is not None:
        invitation_id = request.invitation_id
        transaction.on_commit(lambda: async_task("feedback.tasks.send_invitation", invitation_id))
    return RequestOutcome(request)


def _record(clean: dict, actor) -> SurveyRequest:
    now = timezone.now()
    (customer,) = customers_resolve([clean["customer"]])
    touchpoint = clean["touchpoint"]
    fields = {"status": SurveyRequestStatus.QUEUED, "invitation": None, "rule": "", "reason": ""}
    try:
        invitation = invitation_create(
            customer=customer, touchpoint=touchpoint, purpose=SurveyPurpose.SURVEY, now=now, language=clean["language"]
        )
    except SurveyNotAllowed as exc:
        fields.update(status=SurveyRequestStatus.SUPPRESSED, rule=exc.rule, reason=exc.message[:300])
        language = survey_language(requested=clean["language"], customer=customer)
    else:
        fields["invitation"], language = invitation, invitation.language
    return SurveyRequest.objects.create(
        interaction_id=clean["interaction_id"],
        touchpoint=touchpoint,
        customer=customer,
        language=language,
        requested_by=actor if getattr(actor, "pk", None) else None,
        created_at=now,
        **fields,
    )


def request_reply(outcome: RequestOutcome) -> dict:
    """The API's 202 body: {"status": "queued"} or {"status": "suppressed",
    "rule": ..., "reason": ...}."""
    request = outcome.request
    reply = {"status": request.status, "interaction_id": request.interaction_id}
    if request.status == SurveyRequestStatus.SUPPRESSED:
        reply.update(rule=request.rule, reason=request.reason)
    return reply
