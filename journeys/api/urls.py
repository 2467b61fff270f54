from cvx_site.api import Router
from journeys.api.views import JourneyViewSet, TouchpointViewSet

router = Router()
router.register("journeys", JourneyViewSet, basename="journey")
router.register("touchpoints", TouchpointViewSet, basename="touchpoint")

urlpatterns = router.urls
