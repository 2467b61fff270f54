from rest_framework.routers import SimpleRouter

from feedback.api.views import CustomerViewSet, FeedbackViewSet

router = SimpleRouter()
router.register("feedback", FeedbackViewSet, basename="feedback")
router.register("customers", CustomerViewSet, basename="customer")

urlpatterns = router.urls
