from django.urls import path

from cases import views
from cases.insights import urls as insights
from cases.messaging import views as messaging_views
from cases.notifications import views as notification_views

app_name = "cases"

urlpatterns = [
    path("", views.home, name="home"),
    path("queue/<str:name>/", views.queue_view, name="queue"),
    path("search/", views.search_view, name="search"),
    path("queue/<str:name>/filters/", views.saved_filter_save, name="saved-filter-save"),
    path("filters/<int:pk>/delete/", views.saved_filter_delete, name="saved-filter-delete"),
    path("<int:pk>/", views.case_detail, name="detail"),
    path("<int:pk>/act/<str:action>/", views.case_act, name="act"),
    path("<int:pk>/messages/", messaging_views.case_messages_panel, name="messages"),
    path("notifications/", notification_views.notification_list, name="notifications"),
    path("notifications/bell/", notification_views.notification_bell, name="notifications-bell"),
    path("notifications/read/", notification_views.notifications_read, name="notifications-read"),
    path("notifications/settings/", notification_views.notification_settings, name="notification-settings"),
    path("notifications/<int:pk>/", notification_views.notification_open, name="notification-open"),
    path("audit/", views.audit_trail, name="audit"),
    path("audit/export.csv", views.audit_export, name="audit-export"),
    path("audit/verify/", views.audit_verify, name="audit-verify"),
    path("audit/verify/progress/", views.audit_verify_progress, name="audit-verify-progress"),
    path("bulk-reassign/", views.bulk_reassign, name="bulk-reassign"),
    *insights.urlpatterns,
]
