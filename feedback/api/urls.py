from cvx_site.api import Router
from feedback.api.views import CustomerViewSet, FeedbackViewSet

router = Router()
router.register("feedback", FeedbackViewSet, basename="feedback")
router.register("customers", CustomerViewSet, basename="customer")

urlpatterns = router.urls
