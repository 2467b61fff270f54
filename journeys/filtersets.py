import django_filters

from journeys.choices import Channel, JourneyState
from journeys.models import Journey, Touchpoint


class JourneyFilterSet(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=JourneyState.choices)

    class Meta:
        model = Journey
        fields = ["state", "active"]


class TouchpointFilterSet(django_filters.FilterSet):
    journey = django_filters.CharFilter(field_name="stage__journey__slug", label="Journey slug")
    team = django_filters.CharFilter(field_name="team__slug", label="Team slug")
    channel = django_filters.MultipleChoiceFilter(choices=Channel.choices)

    class Meta:
        model = Touchpoint
        fields = ["journey", "team", "channel", "listening_post"]
