from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from cvx_site import views
from feedback import views as feedback_views

api_v1 = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-v1:schema"), name="docs"),
    path("", include("journeys.api.urls")),
    path("", include("feedback.api.urls")),
    path("", include("cases.api.urls")),
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="cases:home"), name="root"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("cases/", include("cases.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("s/<str:token>/", feedback_views.survey, name="survey"),
    path("admin/", admin.site.urls),
    path("_nested_admin/", include("nested_admin.urls")),
    path("api/v1/", include((api_v1, "api-v1"))),
]
