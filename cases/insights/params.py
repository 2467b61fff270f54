"""The parameters a metrics query may take, checked by the same serializers
for the metrics page and the API (which also documents them)."""

from __future__ import annotations

from rest_framework import serializers

from cases.insights.loop import GROUPS, PERIODS


class DateRangeSerializer(serializers.Serializer):
    """`since` and `until` days, in order; subclasses word what they bound."""

    since = serializers.DateField(required=False)
    until = serializers.DateField(required=False)

    def validate(self, attrs):
        if attrs.get("since") and attrs.get("until") and attrs["since"] > attrs["until"]:
            raise serializers.ValidationError({"until": ["Must not be before `since`."]})
        return attrs


class MetricsQuerySerializer(DateRangeSerializer):
    group_by = serializers.ChoiceField(choices=sorted(GROUPS), required=False)
    period = serializers.ChoiceField(choices=sorted(PERIODS), required=False)
    since = serializers.DateField(
        required=False, help_text="Cases opened on or after this day; feedback from this UTC day on."
    )
    until = serializers.DateField(
        required=False, help_text="Cases opened on or before this day; feedback up to this UTC day."
    )


class RootCauseQuerySerializer(DateRangeSerializer):
    since = serializers.DateField(required=False, help_text="Cases resolved on or after this day.")
    until = serializers.DateField(required=False, help_text="Cases resolved on or before this day.")
