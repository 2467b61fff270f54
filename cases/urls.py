from django.urls import path

from cases import views
from cases.insights import urls as insights
from cases.messaging import views as messaging_views

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
    path("audit/", views.audit_trail, name="audit"),
    path("audit/export.csv", views.audit_export, name="audit-export"),
    path("audit/verify/", views.audit_verify, name="audit-verify"),
    path("audit/verify/progress/", views.audit_verify_progress, name="audit-verify-progress"),
    path("bulk-reassign/", views.bulk_reassign, name="bulk-reassign"),
    *insights.urlpatterns,
]
