from django.urls import path

from portfolio import import_views, views
from portfolio.strategy_urls import urlpatterns as strategy_urlpatterns

app_name = "portfolio"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("portfolio/rollups/", views.rollups, name="rollups"),
    path("portfolio/rollups/cell/", views.rollup_cell, name="rollup-cell"),
    path("portfolio/kpis/", views.kpis, name="kpis"),
    path("portfolio/measurements/", views.measurements, name="measurements"),
    path("portfolio/imports/", import_views.imports, name="imports"),
    path("portfolio/imports/<int:pk>/", import_views.import_run, name="import-run"),
    path("portfolio/imports/<int:pk>/apply/", import_views.import_apply, name="import-apply"),
]

# Objectives, investment, priorities, roadmap and scenarios (docs/strategy.md).
urlpatterns += strategy_urlpatterns
