from cases.api.views import CaseViewSet
from cases.insights.urls import api_urlpatterns as insights
from cvx_site.api import Router

router = Router()
router.register("cases", CaseViewSet, basename="case")

urlpatterns = [
    *insights,
    *router.urls,
]
