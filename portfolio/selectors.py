"""Reads for the portfolio dashboards."""

from decimal import Decimal

from django.db.models import Count, Sum

from portfolio.models import Portfolio
from products.models import Health, Product


def portfolio_totals() -> dict[str, object]:
    """Headline numbers for the whole organisation, in a fixed number of queries."""
    money = Product.objects.aggregate(
        products=Count("pk"), planned=Sum("planned_budget"), actual=Sum("actual_spend")
    )
    health = dict(Product.objects.values_list("health").annotate(n=Count("pk")).order_by())
    return {
        "products": money["products"],
        "planned_budget": money["planned"] or Decimal("0"),
        "actual_spend": money["actual"] or Decimal("0"),
        "health": {choice: health.get(choice.value, 0) for choice in Health},
        "portfolios": Portfolio.objects.count(),
    }
