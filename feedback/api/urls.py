from django.urls import path

from cvx_site.api import Router
from feedback.api.views import CustomerViewSet, FeedbackViewSet
from feedback.surveys.api import SurveyRequestView

router = Router()
router.register("feedback", FeedbackViewSet, basename="feedback")
router.register("customers", CustomerViewSet, basename="customer")

urlpatterns = router.urls + [path("survey-requests/", SurveyRequestView.as_view(), name="survey-request")]
