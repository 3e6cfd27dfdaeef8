"""URLs of the strategy pages, added to the portfolio app's namespace by ``portfolio.urls``."""

from django.urls import path

from portfolio import strategy_views as views

urlpatterns = [
    path("portfolio/objectives/", views.objective_list, name="objectives"),
    path("portfolio/objectives/<int:pk>/align/", views.alignment_create, name="alignment-create"),
    path("portfolio/objectives/alignments/<int:pk>/remove/", views.alignment_delete, name="alignment-delete"),
    path("portfolio/investment/", views.investment_overview, name="investment"),
    path("portfolio/investment/<slug:slug>/", views.product_budget, name="product-budget"),
    path("portfolio/priorities/", views.priority_list, name="priorities"),
    path("portfolio/priorities/<slug:slug>/edit/", views.priority_edit, name="priority-edit"),
    path("portfolio/roadmap/", views.roadmap_view, name="roadmap"),
    path("portfolio/scenarios/", views.scenario_list, name="scenarios"),
    path("portfolio/scenarios/compare/", views.scenario_compare, name="scenario-compare"),
    path("portfolio/scenarios/<int:pk>/", views.scenario_detail, name="scenario"),
    path(
        "portfolio/scenarios/<int:pk>/lines/<int:line_pk>/", views.scenario_line_update, name="scenario-line"
    ),
    path("portfolio/scenarios/<int:pk>/products/", views.scenario_product_add, name="scenario-product-add"),
    path("portfolio/scenarios/<int:pk>/approve/", views.scenario_approve, name="scenario-approve"),
    path("portfolio/scenarios/<int:pk>/discard/", views.scenario_discard, name="scenario-discard"),
]
