"""Routes of the insight pages (`urlpatterns`, under /cases/, names in the
`cases` namespace) and of the metrics API (`api_urlpatterns`, under /api/v1/)."""

from django.urls import path

from cases.insights import api, views

urlpatterns = [
    path("metrics/", views.metrics, name="metrics"),
    path("insights/", views.index, name="insights"),
    path("insights/journeys/<slug:slug>/map/", views.journey_map, name="insights-journey-map"),
    path("insights/journeys/<slug:slug>/", views.journey_detail, name="insights-journey"),
    path("insights/touchpoints/<slug:slug>/", views.touchpoint_detail, name="insights-touchpoint"),
    path("insights/root-causes/", views.root_causes, name="insights-root-causes"),
    path("insights/pillars/", views.pillars, name="insights-pillars"),
]

api_urlpatterns = [
    path("metrics/", api.MetricsView.as_view(), name="metrics"),
    path("pillars/", api.PillarsView.as_view(), name="pillars"),
    path("metrics/root-causes/", api.RootCauseParetoView.as_view(), name="metrics-root-causes"),
    path("metrics/touchpoints/<str:slug>/value-chain/", api.ValueChainView.as_view(), name="metrics-value-chain"),
]
