"""The metrics API: GET /api/v1/metrics/ (loop metrics over the caller's
cases and score metrics over the caller's feedback), the Pareto of root
causes and a touchpoint's chain of CX value. Each view checks its query,
calls `cases.insights.queries` and serializes the reply."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.insights import pillars as loyalty
from cases.insights import queries
from cases.insights.params import MetricsQuerySerializer, PillarsQuerySerializer, RootCauseQuerySerializer
from feedback.analytics import min_responses
from feedback.scores import CES_RANGE, band_text


def _hours_or_pct(help_text: str) -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, help_text=help_text)


class LoopRowSerializer(serializers.Serializer):
    group = serializers.CharField(required=False, allow_null=True)
    period = serializers.DateTimeField(required=False)
    cases = serializers.IntegerField()
    resolved = serializers.IntegerField()
    unreachable = serializers.IntegerField(help_text="Resolved cases whose customer could not be reached.")
    followed_up = serializers.IntegerField()
    responded = serializers.IntegerField()
    recovered = serializers.IntegerField()
    first_contact_mean_h = _hours_or_pct("Hours from opening to first contact, mean.")
    first_contact_median_h = _hours_or_pct("... median.")
    first_contact_p90_h = _hours_or_pct("... 90th percentile.")
    resolution_mean_h = _hours_or_pct("Hours from opening to resolution, mean.")
    resolution_median_h = _hours_or_pct("... median.")
    resolution_p90_h = _hours_or_pct("... 90th percentile.")
    sla_met_pct = _hours_or_pct(
        "SLA met: resolved cases that breached neither due time (first contact, resolution) and were not "
        "resolved as customer unreachable, % of all resolved."
    )
    fcr = _hours_or_pct(
        "First-contact resolution: resolved cases with exactly one contact (a logged contact or a sent message), "
        "not unreachable, and no negative feedback (detractor, dissatisfied, high effort or negative comment; "
        "follow-up answers aside) from the customer on the case's touchpoint within CVX_FCR_REPEAT_DAYS days "
        "(default 7) after the resolution, % of fcr_n. Cases resolved less than that many days ago are not yet "
        "decidable and are left out (fcr_pending)."
    )
    fcr_n = serializers.IntegerField(help_text="Resolved cases FCR is decided on (resolved at least N days ago).")
    fcr_margin = _hours_or_pct("95% margin of error of fcr, in percentage points.")
    fcr_pending = serializers.IntegerField(
        help_text="Resolved cases not yet decidable for FCR (resolved less than N days ago)."
    )
    aht_minutes = _hours_or_pct(
        "Average handling time per contact, minutes: the mean of the handling times recorded on contacts "
        "(entered or measured), of the contacts that recorded one."
    )
    aht_n = serializers.IntegerField(help_text="Contacts with a recorded handling time.")
    aht_margin = _hours_or_pct("95% margin of error of aht_minutes, minutes.")
    aht_case_minutes = _hours_or_pct(
        "Average handling time per case, minutes: the mean of each case's total handling time, over the cases "
        "whose every contact recorded one."
    )
    aht_case_n = serializers.IntegerField(help_text="Cases whose every contact recorded a handling time.")
    aht_case_margin = _hours_or_pct("95% margin of error of aht_case_minutes, minutes.")
    follow_up_response_rate = _hours_or_pct("Followed-up cases whose customer answered, %.")
    recovery_rate = _hours_or_pct("Answered follow-ups no longer detractor or dissatisfied, %.")
    nps_change = _hours_or_pct("Mean follow-up NPS minus original NPS.")
    csat_change = _hours_or_pct("Mean follow-up CSAT minus original CSAT.")


def _figure(help_text: str) -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, help_text=help_text)


class ScoreRowSerializer(serializers.Serializer):
    group = serializers.CharField(required=False, help_text="Slug of the touchpoint, journey or team.")
    period = serializers.DateField(required=False, help_text="First UTC day of the period.")
    responses = serializers.IntegerField()
    nps_responses = serializers.IntegerField()
    promoters = serializers.IntegerField(help_text=f"NPS {band_text('promoter')}.")
    detractors = serializers.IntegerField(help_text=f"NPS {band_text('detractor')}.")
    nps = _figure("% promoters minus % detractors, -100 to 100.")
    csat_responses = serializers.IntegerField()
    csat_satisfied = serializers.IntegerField(help_text=f"CSAT {band_text('satisfied')}.")
    csat_pct = _figure(f"CSAT answers scoring {band_text('satisfied')}, %.")
    ces_responses = serializers.IntegerField()
    ces_mean = _figure(f"Mean CES, {band_text('ces')} ({CES_RANGE[1]} = least effort).")
    ces_low_effort_pct = _figure(f"CES answers scoring {band_text('low_effort')}, %.")
    ves_responses = serializers.IntegerField(help_text="Responses with a VES (Value Enhancement Score).")
    ves = _figure(f"Mean VES, {band_text('ves')}: after this, I am better able to ... (5 = strongly agree).")
    ves_enhanced_pct = _figure(f"VES answers scoring {band_text('ves_enhanced')}, %.")
    negative = serializers.IntegerField(help_text="Responses with negative sentiment.")
    # How sure each score is: its n and 95% margin of error, and whether n is below min_responses.
    nps_n = serializers.IntegerField(help_text="Responses the nps is from (= nps_responses).")
    nps_margin = _figure(
        "95% margin of error of nps, in NPS points: 1.96 * sqrt((p_pro + p_det - (p_pro - p_det)^2) / n) * 100."
    )
    nps_few = serializers.BooleanField(help_text="nps_n is below min_responses: read nps as 'few responses'.")
    csat_n = serializers.IntegerField(help_text="Responses the csat_pct is from (= csat_responses).")
    csat_margin = _figure("95% margin of error of csat_pct, in percentage points: 1.96 * sqrt(p (1 - p) / n) * 100.")
    csat_few = serializers.BooleanField(help_text="csat_n is below min_responses.")
    ces_n = serializers.IntegerField(help_text="Responses the CES figures are from (= ces_responses).")
    ces_low_effort_margin = _figure("95% margin of error of ces_low_effort_pct, in percentage points.")
    ces_few = serializers.BooleanField(help_text="ces_n is below min_responses.")
    ves_n = serializers.IntegerField(help_text="Responses the VES figures are from (= ves_responses).")
    ves_enhanced_margin = _figure("95% margin of error of ves_enhanced_pct, in percentage points.")
    ves_few = serializers.BooleanField(help_text="ves_n is below min_responses.")


class RecoveryRowSerializer(serializers.Serializer):
    group = serializers.CharField(required=False, allow_null=True)
    period = serializers.DateTimeField(required=False)
    answered = serializers.IntegerField(help_text="Resolved cases whose customer answered the follow-up survey.")
    recovered = serializers.IntegerField(help_text="... no longer a detractor or dissatisfied.")
    recovery_rate = _figure("recovered / answered, %.")
    nps_n = serializers.IntegerField(help_text="Answered follow-ups with an NPS both before and after.")
    nps_before = _figure("Mean NPS (0-10) of the feedback that opened those cases.")
    nps_after = _figure("Mean NPS (0-10) of their follow-up answers.")
    csat_n = serializers.IntegerField(help_text="Answered follow-ups with a CSAT both before and after.")
    csat_before = _figure("Mean CSAT (1-5) of the feedback that opened those cases.")
    csat_after = _figure("Mean CSAT (1-5) of their follow-up answers.")


class MetricsReplySerializer(serializers.Serializer):
    group_by = serializers.CharField(allow_null=True)
    period = serializers.CharField(allow_null=True)
    min_responses = serializers.IntegerField(
        help_text="CVX_MIN_RESPONSES: a score from fewer responses is flagged few (*_few) and draws no trend."
    )
    loop = LoopRowSerializer(many=True)
    scores = ScoreRowSerializer(
        many=True,
        allow_null=True,
        help_text="Null when group_by is owner or root_cause, which feedback does not have. "
        "Follow-up survey answers are not counted here: see `recovery`.",
    )
    recovery = RecoveryRowSerializer(
        many=True,
        help_text="Follow-up answers as recovery measures (before -> after) of the cases opened in the range, "
        "keyed as `loop`.",
    )


class MetricsView(APIView):
    """Loop metrics (time to first contact and resolution, SLA met, first-contact
    resolution, average handling time, follow-up response, recovery, score
    change) by group and period (of the cases' opening),
    and, under `scores`, NPS/CSAT/CES of the feedback the caller may see, read
    from the daily summary by UTC day (so a response counts a moment after it
    is stored). `scores` is null when grouping by owner or root_cause.
    Follow-up survey answers never count in `scores`; `recovery` reports
    them, the score before (the case's feedback) and after (the answer)."""

    @extend_schema(parameters=[MetricsQuerySerializer], responses={200: MetricsReplySerializer})
    def get(self, request):
        query = MetricsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        return Response(
            {
                "group_by": params.get("group_by"),
                "period": params.get("period"),
                "min_responses": min_responses(),
                "loop": queries.loop_rows(request.user, **params),
                "scores": queries.score_rows(request.user, **params),
                "recovery": queries.recovery_rows(request.user, **params),
            }
        )


class ParetoRowSerializer(serializers.Serializer):
    root_cause_id = serializers.IntegerField()
    root_cause = serializers.CharField()
    cases = serializers.IntegerField()
    share_pct = serializers.FloatField(allow_null=True)
    cumulative_pct = serializers.FloatField(allow_null=True)
    answered = serializers.IntegerField()
    recovered = serializers.IntegerField()
    recovery_rate = serializers.FloatField(allow_null=True)
    touchpoints = serializers.ListField(child=serializers.DictField())
    notes = serializers.ListField(child=serializers.DictField())


class RootCauseParetoView(APIView):
    """The Pareto of root causes: cases resolved in the period per cause, most
    first, with cumulative share, recovery rate, touchpoints and what worked."""

    @extend_schema(parameters=[RootCauseQuerySerializer], responses={200: ParetoRowSerializer(many=True)})
    def get(self, request):
        query = RootCauseQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        rows = queries.root_causes_of(
            request.user, params.get("since"), params.get("until"), include_drafts=params["include_drafts"]
        )
        return Response(ParetoRowSerializer(rows, many=True).data)


class CohortSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    customers = serializers.IntegerField()
    later_detractor = serializers.IntegerField(allow_null=True)
    later_detractor_pct = serializers.FloatField(allow_null=True)
    repeat_case = serializers.IntegerField(allow_null=True)
    repeat_case_pct = serializers.FloatField(allow_null=True)
    churn = serializers.IntegerField(allow_null=True)
    churn_pct = serializers.FloatField(allow_null=True)
    repeat_purchase = serializers.IntegerField(allow_null=True)
    repeat_purchase_pct = serializers.FloatField(allow_null=True)
    won = serializers.IntegerField(help_text="Opportunities won in the window.")
    # A JSON number, as every other figure here.
    revenue_won = serializers.DecimalField(
        max_digits=None,
        decimal_places=2,
        coerce_to_string=False,
        help_text="The sum of their amounts (none given counts 0).",
    )


class ValueChainSerializer(serializers.Serializer):
    window_days = serializers.IntegerField()
    customers = serializers.IntegerField()
    undecided = serializers.IntegerField()
    has_events = serializers.BooleanField()
    cohorts = CohortSerializer(many=True)


class ValueChainView(APIView):
    """The chain of CX value of one touchpoint: what followed for customers
    whose case here was recovered, not recovered, or who had no case here."""

    @extend_schema(responses={200: ValueChainSerializer})
    def get(self, request, slug: str):
        touchpoint = queries.visible_touchpoint(request.user, slug)
        if touchpoint is None:
            raise NotFound("No such touchpoint, or not one you can see.")
        return Response(ValueChainSerializer(queries.value_chain_of(request.user, touchpoint)).data)


class PillarSerializer(serializers.Serializer):
    key = serializers.ChoiceField(choices=loyalty.PILLAR_KEYS)
    name = serializers.CharField()
    measure = serializers.CharField(help_text="What `value` is.")
    value = _figure("The pillar in the period: a share in % (CSAT, FCR, CES, VES) or NPS points.")
    n = serializers.IntegerField(help_text="Responses (cases, for FCR) the value is from.")
    margin = _figure("95% margin of error of value, in its points.")
    few = serializers.BooleanField(help_text="n is below min_responses: read the value as 'few responses'.")
    mean = _figure("CES and VES: the mean score beside the share (no margin); null for the others.")
    previous = _figure("The same pillar in the previous period of equal length.")
    previous_n = serializers.IntegerField()
    previous_margin = _figure("95% margin of error of previous.")
    previous_few = serializers.BooleanField()
    change = _figure("value minus previous, 1 decimal; null without both.")
    clear = serializers.BooleanField(
        help_text="Whether the change is clear: both periods from at least min_responses and |change| above "
        "sqrt(margin^2 + previous_margin^2)."
    )


class DimensionTopicSerializer(serializers.Serializer):
    topic = serializers.CharField()
    negative = serializers.IntegerField(help_text="Negative responses about the topic in the period.")


class ValueDimensionSerializer(serializers.Serializer):
    dimension = serializers.CharField(help_text="functional, economic, experiential or symbolic.")
    label = serializers.CharField()
    touchpoints = serializers.ListField(
        child=serializers.DictField(child=serializers.CharField()),
        help_text="The journey's touchpoints serving this dimension (slug, name); one may serve several.",
    )
    responses = serializers.IntegerField()
    nps = _figure("NPS of those touchpoints in the period.")
    nps_n = serializers.IntegerField()
    nps_margin = _figure("95% margin of error of nps.")
    nps_few = serializers.BooleanField()
    csat = _figure("CSAT %.")
    csat_n = serializers.IntegerField()
    csat_margin = _figure("95% margin of error of csat.")
    csat_few = serializers.BooleanField()
    ces = _figure("CES low-effort share, %.")
    ces_n = serializers.IntegerField()
    ces_margin = _figure("95% margin of error of ces.")
    ces_few = serializers.BooleanField()
    ces_mean = _figure("Mean CES.")
    ves = _figure("VES enhanced share (4-5), %.")
    ves_n = serializers.IntegerField()
    ves_margin = _figure("95% margin of error of ves.")
    ves_few = serializers.BooleanField()
    ves_mean = _figure("Mean VES.")
    topics = DimensionTopicSerializer(many=True, help_text="Topics of most negative feedback, most first.")


class PillarsReplySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=loyalty.SUBJECTS)
    slug = serializers.CharField()
    name = serializers.CharField()
    since = serializers.DateField()
    until = serializers.DateField()
    previous_since = serializers.DateField()
    previous_until = serializers.DateField()
    min_responses = serializers.IntegerField()
    pillars = PillarSerializer(many=True)
    moved_most = serializers.ChoiceField(
        choices=loyalty.PILLAR_KEYS,
        allow_null=True,
        help_text="The pillar with the largest clear change against the previous period; null: no clear change.",
    )
    value_dimensions = ValueDimensionSerializer(
        many=True, allow_null=True, help_text="Per value dimension of a journey's touchpoints; null unless journey."
    )


class PillarsView(APIView):
    """The loyalty pillars (CSAT, FCR, CES, VES, NPS) of one journey,
    touchpoint or team the caller may see, each with n and margin, beside the
    previous period of equal length, and which moved most (a clear change
    only). For a journey, also its scores and negative topics by value
    dimension. Scores count feedback by UTC day; FCR the cases opened in the period."""

    @extend_schema(
        parameters=[PillarsQuerySerializer],
        responses={
            200: PillarsReplySerializer,
            404: OpenApiResponse(description="No such journey, touchpoint or team, or not one the caller may see."),
        },
    )
    def get(self, request):
        query = PillarsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        subject = loyalty.subject_for(
            request.user, params["kind"], params["slug"], include_drafts=params["include_drafts"]
        )
        if subject is None:
            raise NotFound(f"No such {params['kind']}, or not one you can see.")
        reply = {**loyalty.pillars(subject, params["period"]), "min_responses": min_responses()}
        reply["value_dimensions"] = (
            loyalty.value_dimensions(request.user, subject, params["period"]) if subject.kind == "journey" else None
        )
        return Response(PillarsReplySerializer(reply).data)
