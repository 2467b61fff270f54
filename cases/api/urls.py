from rest_framework.routers import SimpleRouter

from django.urls import path

from cases.api.metrics import MetricsView, RootCauseParetoView, ValueChainView
from cases.api.views import CaseViewSet

router = SimpleRouter()
router.register("cases", CaseViewSet, basename="case")

urlpatterns = [
    path("metrics/", MetricsView.as_view(), name="metrics"),
    path("metrics/root-causes/", RootCauseParetoView.as_view(), name="metrics-root-causes"),
    path("metrics/touchpoints/<str:slug>/value-chain/", ValueChainView.as_view(), name="metrics-value-chain"),
    *router.urls,
]
