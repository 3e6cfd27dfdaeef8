"""The strategy pages' rows of the permission matrix (tests/test_permission_matrix.py), as docs/permissions.md
says: who may GET and POST the objectives, investment, priorities and scenario URLs.

``entries(matrix)`` builds the rows with the matrix's own helpers; ``fill`` puts the ids of this world's
objective, alignment, scenario and line into a route; ``state`` is what a POST here could change.
"""

from __future__ import annotations

from decimal import Decimal

from portfolio.models import (
    Alignment,
    BudgetLine,
    Objective,
    PlanChange,
    PriorityScore,
    Scenario,
    ScenarioLine,
)
from portfolio.strategy.services.scenarios import scenario_create_from_live
from products.models import User


def entries(m) -> dict:
    leadership = {m.DIRECTOR, m.DIRECTOR_OTHER, m.VP, m.SUPERUSER}
    planners = {m.DIRECTOR, m.VP, m.SUPERUSER}  # of the directed portfolio's scenario
    budget_viewers = {m.JUNIOR, m.PM_OWNER, m.SENIOR, m.PRODUCT_OWNER} | leadership
    request = m.Request
    return {
        "portfolio:objectives": m.Entry(
            get=m.everyone(200),
            post=m.everyone(405),
            gets=[
                request(),
                request(htmx_target="objectives-results"),
                request(query="format=csv"),
                request(query="format=csv&table=unaligned"),
            ],
        ),
        "portfolio:alignment-create": m.Entry(
            get=m.everyone(405),
            post=m.only(m.EDITORS, m.REDIRECT),
            posts=[request(data={"product": "target", "weight": "50"})],
            changes_on_post=True,
        ),
        "portfolio:alignment-delete": m.Entry(
            get=m.everyone(405), post=m.only(m.EDITORS, m.REDIRECT), changes_on_post=True
        ),
        "portfolio:investment": m.Entry(
            get=m.everyone(200),
            post=m.everyone(405),
            gets=[
                request(),
                request(htmx_target="investment-results"),
                request(query="dimension=objective"),
                request(query="format=csv"),
                request(query="format=csv&table=products"),
            ],
        ),
        "portfolio:product-budget": m.Entry(
            get=m.only(budget_viewers, 200),
            post=m.only(planners, m.REDIRECT),
            posts=[request(data={"quarter": "2026-04-01", "kind": "opex", "planned": "100", "actual": "0"})],
            changes_on_post=True,
        ),
        # GET is the step that asks first; its button posts the deletion.
        "portfolio:product-budget-delete": m.Entry(
            get=m.only(planners, 200), post=m.only(planners, m.REDIRECT), changes_on_post=True
        ),
        "portfolio:priorities": m.Entry(
            get=m.everyone(200),
            post=m.everyone(405),
            gets=[request(), request(htmx_target="priority-table"), request(query="rank=wsjf&format=csv")],
        ),
        "portfolio:priority-edit": m.Entry(
            get=m.only(m.EDITORS, 200),
            post=m.only(m.EDITORS, m.REDIRECT),
            posts=[
                request(
                    data={
                        "reach": "100",
                        "impact": "1",
                        "confidence": "50",
                        "effort": "2",
                        "business_value": "5",
                        "time_criticality": "3",
                        "risk_reduction": "2",
                        "job_size": "3",
                    }
                )
            ],
            changes_on_post=True,
        ),
        "portfolio:roadmap": m.Entry(
            get=m.everyone(200),
            post=m.everyone(405),
            gets=[request(), request(htmx_target="roadmap-results"), request(query="late=on&format=csv")],
        ),
        "portfolio:scenarios": m.Entry(
            get=m.only(leadership, 200),
            post={**m.only(planners, m.REDIRECT), m.DIRECTOR_OTHER: 400},
            gets=[request(), request(query="format=csv")],
            posts=[request(data={"name": "Cut ten percent", "portfolio": "<portfolio>"})],
            changes_on_post=True,
        ),
        "portfolio:scenario-compare": m.Entry(
            get=m.only(leadership, 200), post=m.everyone(405), gets=[request(query="s=<scenario>")]
        ),
        "portfolio:scenario": m.Entry(
            get=m.only(leadership, 200),
            post=m.everyone(405),
            gets=[request(), request(htmx_target="scenario-lines"), request(query="format=csv")],
        ),
        "portfolio:scenario-line": m.Entry(
            get=m.everyone(405),
            post=m.only(planners, m.REDIRECT),
            posts=[request(data={"planned": "123"}), request(data={"paused": "1"})],
            changes_on_post=True,
        ),
        "portfolio:scenario-product-add": m.Entry(
            get=m.everyone(405),
            post=m.only(planners, m.REDIRECT),
            posts=[
                request(
                    data={
                        "name": "New thing",
                        "portfolio": "<portfolio>",
                        "owner": "pm-owner",
                        "market": "b2b",
                        "focus": "customer",
                        "objective": "",
                        "planned": "1000",
                    }
                )
            ],
            changes_on_post=True,
        ),
        # GET is the step that says what will change and asks first; its button posts.
        "portfolio:scenario-approve": m.Entry(
            get=m.only(planners, 200), post=m.only(planners, m.REDIRECT), changes_on_post=True
        ),
        # GET is the step that says what will change and asks first; its button posts.
        "portfolio:scenario-discard": m.Entry(
            get=m.only(planners, 200), post=m.only(planners, m.REDIRECT), changes_on_post=True
        ),
    }


def _strategy_world(world) -> dict[str, str]:
    if not hasattr(world, "strategy"):
        product = world.product
        portfolio = product.portfolio
        objective = Objective.objects.create(portfolio=portfolio, title="Matrix objective")
        other = Objective.objects.create(portfolio=portfolio, title="Second objective")
        alignment = Alignment.objects.create(product=product, objective=objective, weight=100)
        budget_line = BudgetLine.objects.create(
            product=product, quarter="2026-04-01", kind="opex", planned=Decimal("500")
        )
        director = User.objects.get(pk=portfolio.director_id)
        scenario = scenario_create_from_live(name="Matrix scenario", portfolio=portfolio, by=director)
        world.strategy = {
            "portfolio/objectives/<int:pk>/": f"portfolio/objectives/{other.pk}/",
            "alignments/<int:pk>/": f"alignments/{alignment.pk}/",
            "scenarios/<int:pk>/": f"scenarios/{scenario.pk}/",
            "lines/<int:line_pk>/": f"lines/{scenario.lines.get().pk}/",
            "lines/<int:pk>/delete/": f"lines/{budget_line.pk}/delete/",
            "<scenario>": str(scenario.pk),
            "<portfolio>": portfolio.slug,
        }
    return world.strategy


def fill(route: str, world) -> str:
    """The route with this world's ids in place of the strategy URLs' placeholders."""
    if "portfolio/" not in route or not any(
        part in route for part in ("objectives", "investment", "priorities", "scenarios", "roadmap")
    ):
        return route
    for placeholder, value in _strategy_world(world).items():
        if placeholder.startswith("<") and placeholder.endswith(">"):
            continue
        route = route.replace(placeholder, value)
    return route


def placeholder(value: str, world) -> str:
    """A query or form value with ``<scenario>`` or ``<portfolio>`` replaced."""
    if value in ("<scenario>", "<portfolio>"):
        return _strategy_world(world)[value]
    return (
        value.replace("<scenario>", _strategy_world(world)["<scenario>"]) if "<scenario>" in value else value
    )


def state() -> tuple:
    return (
        list(BudgetLine.objects.order_by("pk").values_list("planned", "actual")),
        list(Alignment.objects.order_by("pk").values_list("product_id", "objective_id", "weight")),
        list(PriorityScore.objects.order_by("pk").values_list("rice", "wsjf")),
        list(Scenario.objects.order_by("pk").values_list("status", flat=True)),
        list(ScenarioLine.objects.order_by("pk").values_list("planned", "paused")),
        PlanChange.objects.count(),
    )
