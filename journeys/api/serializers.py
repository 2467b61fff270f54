from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from journeys.choices import ValueDimension
from journeys.models import Journey, Stage, Team, Touchpoint


class NulSafeSlugRelatedField(serializers.SlugRelatedField):
    """DRF's, but a slug with a NUL character is refused before the lookup,
    which PostgreSQL would fail with a 500 (no slug or username has one)."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("invalid")
        return super().to_internal_value(data)


class TouchpointSerializer(serializers.ModelSerializer):
    team = NulSafeSlugRelatedField(slug_field="slug", queryset=Team.objects.all())
    default_owner = NulSafeSlugRelatedField(
        slug_field="username", queryset=get_user_model().objects.all(), required=False, allow_null=True
    )
    journey = serializers.SlugRelatedField(source="stage.journey", slug_field="slug", read_only=True)
    value_dimensions = serializers.MultipleChoiceField(choices=ValueDimension.choices, required=False)

    class Meta:
        model = Touchpoint
        fields = [
            "id",
            "slug",
            "name",
            "journey",
            "stage",
            "position",
            "channel",
            "team",
            "default_owner",
            "value_dimensions",
            "listening_post",
            "first_contact_sla_hours",
            "resolution_sla_hours",
        ]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["value_dimensions"] = sorted(data["value_dimensions"])
        return data

    def validate(self, attrs):
        # The model's own cross-field rules (owner in team, SLA order) apply
        # to API writes exactly as to admin forms.
        attrs["value_dimensions"] = sorted(attrs.get("value_dimensions", []))
        candidate = Touchpoint(**{**self._current_values(), **attrs})
        try:
            candidate.clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return attrs

    def _current_values(self) -> dict:
        if self.instance is None:
            return {}
        return {
            f: getattr(self.instance, f)
            for f in ("stage", "team", "default_owner", "first_contact_sla_hours", "resolution_sla_hours")
        }


class StageSerializer(serializers.ModelSerializer):
    touchpoints = TouchpointSerializer(many=True, read_only=True)

    class Meta:
        model = Stage
        fields = ["id", "name", "position", "touchpoints"]


class JourneySerializer(serializers.ModelSerializer):
    based_on = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    stages = StageSerializer(many=True, read_only=True)

    class Meta:
        model = Journey
        fields = ["id", "slug", "name", "description", "state", "active", "position", "based_on", "stages"]
