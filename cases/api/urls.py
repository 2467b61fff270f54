from rest_framework.routers import SimpleRouter

from cases.api.views import CaseViewSet
from cases.insights.urls import api_urlpatterns as insights

router = SimpleRouter()
router.register("cases", CaseViewSet, basename="case")

urlpatterns = [
    *insights,
    *router.urls,
]
