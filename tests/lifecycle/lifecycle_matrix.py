"""The lifecycle work and analytics rows of the permission matrix (tests/test_permission_matrix.py), as
docs/permissions.md says.

``entries(matrix)`` builds the rows with the matrix's own helpers; ``fill`` puts a work-product kind and one of
this world's pain points into a route; ``state`` is what a POST here could change.
"""

from __future__ import annotations

from lifecycle.models import PainPoint, ProblemStatement


def entries(m) -> dict:
    return {
        # No money on it: every signed-in person sees the analytics.
        "lifecycle:analytics": m.Entry(
            get=m.everyone(200),
            post=m.everyone(405),
            gets=[m.Request(), m.Request(htmx_target="analytics-results"), m.Request(query="format=csv")],
        ),
        # Everyone sees a product's lifecycle work; its editors write it and move the product.
        "lifecycle:work": m.Entry(
            get=m.everyone(200),
            post=m.everyone(405),
            gets=[m.Request(), m.Request(htmx_target="lifecycle-work")],
        ),
        "lifecycle:work-add": m.Entry(
            get=m.only(m.EDITORS, 200),
            post=m.only(m.EDITORS, m.REDIRECT),
            posts=[m.Request(data={"description": "Matrix pain", "severity": "high"})],
            changes_on_post=True,
        ),
        "lifecycle:work-edit": m.Entry(
            get=m.only(m.EDITORS, 200),
            post=m.only(m.EDITORS, m.REDIRECT),
            posts=[m.Request(data={"description": "Edited pain", "severity": "low"})],
            changes_on_post=True,
        ),
        # GET is the step that asks first; the POST from its button deletes.
        "lifecycle:work-delete": m.Entry(
            get=m.only(m.EDITORS, 200),
            post=m.only(m.EDITORS, m.REDIRECT),
            gets=[m.Request(), m.Request(htmx_target="lifecycle-work")],
            changes_on_post=True,
        ),
        "lifecycle:product-move": m.Entry(
            get=m.everyone(405),
            post=m.only(m.EDITORS, m.REDIRECT),
            posts=[m.Request(data={"to": "opportunity", "note": ""})],
            changes_on_post=True,
        ),
    }


def fill(route: str, world) -> str:
    """The route with the pain-points kind and the world product's first pain point."""
    if "/work/<slug:kind>/" not in route:
        return route
    route = route.replace("<slug:kind>", "pain-points")
    if "<int:pk>" in route:
        route = route.replace("<int:pk>", str(PainPoint.objects.filter(product=world.product).first().pk))
    return route


def state() -> tuple:
    return (
        list(PainPoint.objects.order_by("pk").values_list("description", "severity")),
        list(ProblemStatement.objects.order_by("pk").values_list("statement", flat=True)),
    )
