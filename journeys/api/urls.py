from rest_framework.routers import SimpleRouter

from journeys.api.views import JourneyViewSet, TouchpointViewSet

router = SimpleRouter()
router.register("journeys", JourneyViewSet, basename="journey")
router.register("touchpoints", TouchpointViewSet, basename="touchpoint")

urlpatterns = router.urls
