from django.db.models import Prefetch
from rest_framework import viewsets

from cvx_site.api import ReadAnyWriteWithModelPerms
from journeys.api.serializers import JourneySerializer, TouchpointSerializer
from journeys.filtersets import JourneyFilterSet, TouchpointFilterSet
from journeys.models import Journey, Stage, Touchpoint

_touchpoints = Touchpoint.objects.select_related("stage__journey", "team", "default_owner")


class JourneyViewSet(viewsets.ModelViewSet):
    """Journeys with their stages and touchpoints, in order. CX admins write."""

    serializer_class = JourneySerializer
    permission_classes = [ReadAnyWriteWithModelPerms]
    filterset_class = JourneyFilterSet
    lookup_field = "slug"
    queryset = Journey.objects.select_related("based_on").prefetch_related(
        Prefetch(
            "stages",
            queryset=Stage.objects.order_by("position", "id").prefetch_related(
                Prefetch("touchpoints", queryset=_touchpoints.order_by("position", "id"))
            ),
        )
    )


class TouchpointViewSet(viewsets.ModelViewSet):
    """Touchpoints, filterable by journey, channel and team. CX admins write."""

    serializer_class = TouchpointSerializer
    permission_classes = [ReadAnyWriteWithModelPerms]
    filterset_class = TouchpointFilterSet
    lookup_field = "slug"
    queryset = _touchpoints.all()
