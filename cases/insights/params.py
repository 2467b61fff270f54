"""The parameters a metrics query may take, checked by the same serializers
for the metrics page and the API (which also documents them)."""

from __future__ import annotations

from datetime import date

from rest_framework import serializers

from cases.insights.loop import GROUPS, PERIODS
from cases.insights.pillars import period_of


def _include_drafts() -> serializers.BooleanField:
    return serializers.BooleanField(
        required=False,
        default=False,
        help_text="Also count touchpoints of journeys that are not live: draft journeys (future-state designs "
        "and inactive journeys) and archived ones (replaced by a promoted design), which take no feedback "
        "and are left out by default.",
    )


class DateRangeSerializer(serializers.Serializer):
    """`since` and `until` days, in order; subclasses word what they bound."""

    since = serializers.DateField(required=False)
    until = serializers.DateField(required=False)

    # Periods reach a week either side of a day: nearer the calendar's ends
    # they cannot be computed (a 500 once), so such days are refused.
    FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9999, 12, 1)

    def validate(self, attrs):
        for name in ("since", "until"):
            if attrs.get(name) and not self.FIRST_DAY <= attrs[name] <= self.LAST_DAY:
                raise serializers.ValidationError(
                    {name: [f"Must be a day from {self.FIRST_DAY:%Y-%m-%d} to {self.LAST_DAY:%Y-%m-%d}."]}
                )
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
    include_drafts = _include_drafts()


class RootCauseQuerySerializer(DateRangeSerializer):
    since = serializers.DateField(required=False, help_text="Cases resolved on or after this day.")
    until = serializers.DateField(required=False, help_text="Cases resolved on or before this day.")
    include_drafts = _include_drafts()


class PillarsQuerySerializer(DateRangeSerializer):
    """Exactly one of journey, touchpoint or team (a slug), and the period."""

    journey = serializers.SlugField(max_length=80, required=False, help_text="Pillars of this journey (slug).")
    touchpoint = serializers.SlugField(max_length=80, required=False, help_text="Pillars of this touchpoint (slug).")
    team = serializers.SlugField(max_length=80, required=False, help_text="Pillars of this team (slug).")
    since = serializers.DateField(
        required=False,
        help_text="First UTC day of the period (feedback from this day; cases opened from this day). "
        "Without it: 30 days up to `until`, or the last 30 days.",
    )
    until = serializers.DateField(
        required=False, help_text="Last day of the period. Without it: 30 days from `since`, or today."
    )
    include_drafts = _include_drafts()

    SUBJECTS = ("journey", "touchpoint", "team")

    def validate(self, attrs):
        attrs = super().validate(attrs)
        given = [name for name in self.SUBJECTS if attrs.get(name)]
        if not given:
            raise serializers.ValidationError({"journey": ["Give one of journey, touchpoint or team (a slug)."]})
        if len(given) > 1:
            raise serializers.ValidationError(
                {given[1]: [f"Give only one of journey, touchpoint or team, not both {given[0]} and {given[1]}."]}
            )
        attrs["kind"], attrs["slug"] = given[0], attrs[given[0]]
        attrs["period"] = period_of(attrs.get("since"), attrs.get("until"))
        if attrs["period"].days > (attrs["period"].since - self.FIRST_DAY).days:
            raise serializers.ValidationError(
                {"since": [f"The period before it, of equal length, must begin on {self.FIRST_DAY:%Y-%m-%d} or later."]}
            )
        return attrs
