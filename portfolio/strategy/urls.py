"""URLs of the strategy pages, added to the portfolio app's namespace by ``portfolio.urls``."""

from django.urls import path

from portfolio.strategy.views import investment, objectives, priorities, roadmap, scenarios

urlpatterns = [
    path("portfolio/objectives/", objectives.objective_list, name="objectives"),
    path("portfolio/objectives/<int:pk>/align/", objectives.alignment_create, name="alignment-create"),
    path(
        "portfolio/objectives/alignments/<int:pk>/remove/",
        objectives.alignment_delete,
        name="alignment-delete",
    ),
    path("portfolio/investment/", investment.investment_overview, name="investment"),
    path("portfolio/investment/<slug:slug>/", investment.product_budget, name="product-budget"),
    path(
        "portfolio/investment/<slug:slug>/lines/<int:pk>/delete/",
        investment.product_budget_delete,
        name="product-budget-delete",
    ),
    path("portfolio/priorities/", priorities.priority_list, name="priorities"),
    path("portfolio/priorities/<slug:slug>/edit/", priorities.priority_edit, name="priority-edit"),
    path("portfolio/roadmap/", roadmap.roadmap_view, name="roadmap"),
    path("portfolio/scenarios/", scenarios.scenario_list, name="scenarios"),
    path("portfolio/scenarios/compare/", scenarios.scenario_compare, name="scenario-compare"),
    path("portfolio/scenarios/<int:pk>/", scenarios.scenario_detail, name="scenario"),
    path(
        "portfolio/scenarios/<int:pk>/lines/<int:line_pk>/",
        scenarios.scenario_line_update,
        name="scenario-line",
    ),
    path(
        "portfolio/scenarios/<int:pk>/products/", scenarios.scenario_product_add, name="scenario-product-add"
    ),
    path("portfolio/scenarios/<int:pk>/approve/", scenarios.scenario_approve, name="scenario-approve"),
    path("portfolio/scenarios/<int:pk>/discard/", scenarios.scenario_discard, name="scenario-discard"),
]
