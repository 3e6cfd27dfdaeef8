"""Reads about products and people: querysets shaped for pages, no writes."""

from django.db.models import Count, QuerySet

from products.models import Membership, Product, Stage


def product_list(*, search: str = "") -> QuerySet[Product]:
    """Products with their portfolio and owner joined, for tables."""
    products = Product.objects.select_related("portfolio", "owner")
    if search:
        products = products.filter(name__icontains=search)
    return products


def product_get(*, slug: str) -> Product:
    """One product with its portfolio and owner; raises ``Product.DoesNotExist``."""
    return Product.objects.select_related("portfolio", "owner").get(slug=slug)


def product_members(*, product: Product) -> QuerySet[Membership]:
    return product.memberships.select_related("user").order_by("role", "user__username")


def stage_counts() -> dict[str, int]:
    """Number of products in each stage, every stage present, in lifecycle order."""
    counts = dict(Product.objects.values_list("stage").annotate(n=Count("pk")).order_by())
    return {stage.value: counts.get(stage.value, 0) for stage in Stage}
