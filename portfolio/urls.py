from django.urls import path

from portfolio import views

app_name = "portfolio"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("portfolio/rollups/", views.rollups, name="rollups"),
    path("portfolio/rollups/cell/", views.rollup_cell, name="rollup-cell"),
    path("portfolio/kpis/", views.kpis, name="kpis"),
    path("portfolio/measurements/", views.measurements, name="measurements"),
]
