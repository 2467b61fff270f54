import django_filters

from feedback.choices import FeedbackKind, IdentityKind, NpsCategory, SentimentLabel
from feedback.models import Customer, FeedbackResponse
from feedback.validation import normalise_identity


class FeedbackFilterSet(django_filters.FilterSet):
    touchpoint = django_filters.CharFilter(field_name="touchpoint__slug")
    journey = django_filters.CharFilter(field_name="touchpoint__stage__journey__slug")
    team = django_filters.CharFilter(field_name="touchpoint__team__slug")
    kind = django_filters.ChoiceFilter(choices=FeedbackKind.choices)
    nps_category = django_filters.ChoiceFilter(choices=NpsCategory.choices)
    sentiment_label = django_filters.ChoiceFilter(choices=SentimentLabel.choices)
    occurred_after = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = FeedbackResponse
        fields = ["touchpoint", "journey", "team", "kind", "source", "external_id", "customer",
                  "nps_category", "sentiment_label", "occurred_after", "occurred_before"]


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
