from django.db.models import Prefetch, ProtectedError
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.exceptions import NotFound

from cvx_site.api import ReadAnyWriteWithModelPerms
from cvx_site.errors import Conflict
from journeys.api.serializers import JourneySerializer, TouchpointSerializer
from journeys.filtersets import JourneyFilterSet, TouchpointFilterSet
from journeys.models import Journey, Stage, Touchpoint

_touchpoints = Touchpoint.objects.select_related("stage__journey", "team", "default_owner")
_DESTROY = extend_schema(responses={204: None, 409: OpenApiResponse(description="Feedback or cases refer to it.")})


class SlugLookup:
    """A slug with a NUL character names nothing: 404 before the lookup,
    which PostgreSQL would fail with a 500."""

    def get_object(self):
        if "\x00" in self.kwargs[self.lookup_url_kwarg or self.lookup_field]:
            raise NotFound
        return super().get_object()


def _delete_unless_in_use(instance) -> None:
    # Feedback and cases protect their touchpoint and journey (the history
    # must stay): refuse with 409 rather than fail with a 500.
    try:
        instance.delete()
    except ProtectedError:
        raise Conflict(f"{instance} has feedback or cases, so it cannot be deleted.") from None


@extend_schema_view(destroy=_DESTROY)
class JourneyViewSet(SlugLookup, viewsets.ModelViewSet):
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

    def perform_destroy(self, instance):
        _delete_unless_in_use(instance)


@extend_schema_view(destroy=_DESTROY)
class TouchpointViewSet(SlugLookup, viewsets.ModelViewSet):
    """Touchpoints, filterable by journey, channel and team. CX admins write."""

    serializer_class = TouchpointSerializer
    permission_classes = [ReadAnyWriteWithModelPerms]
    filterset_class = TouchpointFilterSet
    lookup_field = "slug"
    queryset = _touchpoints.all()

    def perform_destroy(self, instance):
        _delete_unless_in_use(instance)
