from rest_framework.routers import SimpleRouter

from django.urls import path

from cases.api.metrics import MetricsView
from cases.api.views import CaseViewSet

router = SimpleRouter()
router.register("cases", CaseViewSet, basename="case")

urlpatterns = [path("metrics/", MetricsView.as_view(), name="metrics"), *router.urls]
