from django.urls import path

from cases.api.views import CaseViewSet
from cases.insights.urls import api_urlpatterns as insights
from cases.messaging.api import inbound_email
from cases.notifications.api import NotificationListView, NotificationReadView
from cvx_site.api import Router

router = Router()
router.register("cases", CaseViewSet, basename="case")

urlpatterns = [
    *insights,
    path("inbound-email/", inbound_email, name="inbound-email"),
    path("notifications/", NotificationListView.as_view(), name="notifications"),
    path("notifications/read/", NotificationReadView.as_view(), name="notifications-read"),
    *router.urls,
]
