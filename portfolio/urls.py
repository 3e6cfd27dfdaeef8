"""The portfolio app's URLs (namespace ``portfolio``), from its sub-domain packages' views."""

from django.urls import path

from portfolio.alerts import views as alerts
from portfolio.dashboard import views as dashboard
from portfolio.imports import views as imports
from portfolio.kpis import views as kpis
from portfolio.strategy.urls import urlpatterns as strategy_urlpatterns

app_name = "portfolio"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("portfolio/rollups/", kpis.rollups, name="rollups"),
    path("portfolio/rollups/cell/", kpis.rollup_cell, name="rollup-cell"),
    path("portfolio/kpis/", kpis.kpis, name="kpis"),
    path("portfolio/measurements/", kpis.measurements, name="measurements"),
    path("portfolio/imports/", imports.imports, name="imports"),
    path("portfolio/imports/<int:pk>/", imports.import_run, name="import-run"),
    path("portfolio/imports/<int:pk>/apply/", imports.import_apply, name="import-apply"),
    path("inbox/", alerts.inbox_page, name="inbox"),
    path("inbox/bell/", alerts.inbox_bell, name="inbox-bell"),
    path("inbox/read/", alerts.inbox_read, name="inbox-read"),
    path("inbox/settings/", alerts.alert_settings, name="alert-settings"),
    path("unsubscribe/<str:token>/", alerts.unsubscribe, name="unsubscribe"),
    path("follow/product/<slug:slug>/", alerts.follow_product, name="follow-product"),
    path("follow/portfolio/<int:pk>/", alerts.follow_portfolio, name="follow-portfolio"),
    path("follow/kpi/<int:pk>/", alerts.follow_kpi, name="follow-kpi"),
]

# Objectives, investment, priorities, roadmap and scenarios (docs/strategy.md).
urlpatterns += strategy_urlpatterns
