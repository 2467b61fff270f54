from datetime import UTC

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField

from feedback.choices import FeedbackKind, IdentityKind, NpsCategory, SentimentLabel
from feedback.models import Customer, FeedbackResponse
from feedback.validation import normalise_identity


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 time, handed to the database in UTC: PostgreSQL refuses
    offsets beyond ±15:59 (`-17:02` is valid ISO 8601 and a 500 there)."""

    def to_python(self, value):
        value = super().to_python(value)
        try:
            return value.astimezone(UTC) if value is not None else None
        except OverflowError:
            raise forms.ValidationError("Out of range once converted to UTC.", code="overflow") from None


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class FeedbackFilterSet(django_filters.FilterSet):
    touchpoint = django_filters.CharFilter(field_name="touchpoint__slug")
    journey = django_filters.CharFilter(field_name="touchpoint__stage__journey__slug")
    team = django_filters.CharFilter(field_name="touchpoint__team__slug")
    kind = django_filters.ChoiceFilter(choices=FeedbackKind.choices)
    nps_category = django_filters.ChoiceFilter(choices=NpsCategory.choices)
    sentiment_label = django_filters.ChoiceFilter(choices=SentimentLabel.choices)
    occurred_after = UtcDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = UtcDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = FeedbackResponse
        fields = [
            "touchpoint",
            "journey",
            "team",
            "kind",
            "source",
            "external_id",
            "customer",
            "nps_category",
            "sentiment_label",
            "occurred_after",
            "occurred_before",
        ]


class CustomerFilterSet(django_filters.FilterSet):
    email = django_filters.CharFilter(method="by_identity")
    phone = django_filters.CharFilter(method="by_identity")
    external_id = django_filters.CharFilter(method="by_identity")
    social = django_filters.CharFilter(method="by_identity")
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Customer
        fields = ["email", "phone", "external_id", "social", "name"]

    def by_identity(self, queryset, name, value):
        kind = IdentityKind(name)
        return queryset.filter(identities__kind=kind, identities__value=normalise_identity(kind, value))
