"""Reads about products and people: querysets shaped for pages, no writes."""

from dataclasses import dataclass

from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When

from products.choices import Health, Stage
from products.models import Membership, Product, User

HEALTH_ORDER = [Health.OFF_TARGET, Health.AT_RISK, Health.ON_TARGET, Health.NO_DATA]


def _position(field: str, values: list[str]) -> Case:
    return Case(
        *[When(**{field: value}, then=Value(i)) for i, value in enumerate(values)],
        default=Value(len(values)),
        output_field=IntegerField(),
    )


# What a product table shows: loading only these keeps a page of rows cheap to build.
#: Sort key (a product table column, a query-string value) -> ORDER BY fields.
SORTS = {
    "name": ("name",),
    "portfolio": ("portfolio__name", "name"),
    "owner": ("owner__username", "name"),
    "stage": ("stage_position", "name"),
    "days": ("-stage_entered_at", "name"),  # fewest days in stage first
    "market": ("market", "name"),
    "focus": ("focus", "name"),
    "health": ("health_rank", "name"),
    "key_kpi": ("key_kpi_value", "name"),
    "planned": ("planned_budget", "name"),
    "actual": ("actual_spend", "name"),
}
TABLE_FIELDS = (
    "slug",
    "name",
    "market",
    "focus",
    "stage",
    "stage_entered_at",
    "planned_budget",
    "actual_spend",
    "health",
    "portfolio__slug",
    "portfolio__name",
    "owner__username",
    "owner__first_name",
    "owner__last_name",
)


def product_list(*, search: str = "") -> QuerySet[Product]:
    """Products with their portfolio and owner joined, for tables (only the fields a table shows)."""
    products = Product.objects.select_related("portfolio", "owner").only(*TABLE_FIELDS)
    if search:
        products = products.filter(Q(name__icontains=search) | Q(slug__icontains=search))
    return products


#: Filter name -> lookup: the scope filters every page's filter bar shares (values as in the query string).
FILTER_LOOKUPS = (
    ("portfolio", "portfolio__slug"),
    ("stage", "stage"),
    ("market", "market"),
    ("focus", "focus"),
    ("health", "health"),
    ("owner", "owner__username"),
)


def owner_or_member(username: str) -> Q:
    """Products the person owns or is a member of. The memberships as a subquery, not a join: a join would
    repeat an owned product once per member."""
    memberships = Membership.objects.filter(user__username=username).values("product_id")
    return Q(owner__username=username) | Q(pk__in=memberships)


def products_filtered(products: QuerySet[Product], *, filters: dict) -> QuerySet[Product]:
    """``products`` narrowed by the scope filters that are set (portfolio slug, stage, market, focus, health,
    owner username) and by ``member`` (a username: products they own or are a member of); the one product
    filter every page uses, with or without its own joins and order."""
    for name, lookup in FILTER_LOOKUPS:
        if filters.get(name):
            products = products.filter(**{lookup: filters[name]})
    if filters.get("member"):
        products = products.filter(owner_or_member(filters["member"]))
    return products


def member_counts(products: QuerySet[Product], *, username: str) -> tuple[int, int]:
    """(owned, member of): how ``products`` (already narrowed to the person's, ``owner_or_member``) split
    between those the person owns and the others, which they are a member of. One aggregate."""
    counts = products.order_by().aggregate(
        owned=Count("pk", filter=Q(owner__username=username)), all=Count("pk")
    )
    return counts["owned"], counts["all"] - counts["owned"]


def product_filter(*, filters: dict) -> QuerySet[Product]:
    """Products matching the dashboard filters, sorted as asked; a stable order (name, then id) breaks ties.

    ``filters`` is ``ProductFilterForm.cleaned_or_default()``: q, portfolio (slug), stage, market, focus,
    health, owner (username), sort, dir. Sorting by a KPI is the portfolio selectors' job: here such a sort
    falls back to the name.
    """
    products = products_filtered(product_list(search=filters.get("q") or ""), filters=filters)
    sort = filters.get("sort") or "name"
    if sort not in SORTS or sort == "key_kpi":
        sort = "name"
    if sort == "stage":
        products = products.annotate(stage_position=_position("stage", Stage.values))
    if sort == "health":
        products = products.annotate(health_rank=_position("health", HEALTH_ORDER))
    return products.order_by(*sort_fields(sort, filters.get("dir") or "asc"))


def sort_fields(sort: str, direction: str) -> list[str]:
    """ORDER BY fields for a table sort; the first field flips for descending, the rest keep the order stable."""
    fields = [*SORTS.get(sort, SORTS["name"]), "pk"]
    if direction == "desc":
        fields[0] = fields[0][1:] if fields[0].startswith("-") else f"-{fields[0]}"
    return fields


def product_get(*, slug: str) -> Product:
    """One product with its portfolio and owner; raises ``Product.DoesNotExist``."""
    return Product.objects.select_related("portfolio", "portfolio__director", "owner").get(slug=slug)


def product_members(*, product: Product) -> QuerySet[Membership]:
    return product.memberships.select_related("user").order_by("role", "user__username")


def stage_counts(products: QuerySet[Product] | None = None) -> dict[str, int]:
    """Number of products in each stage, every stage present, in lifecycle order."""
    products = Product.objects.all() if products is None else products
    counts = dict(products.order_by().values_list("stage").annotate(n=Count("pk")))
    return {stage.value: counts.get(stage.value, 0) for stage in Stage}


@dataclass(frozen=True, slots=True)
class Person:
    """Someone in a filter's choices: the fields a select needs, without a model instance each (a filter bar
    lists every person on a product, 250 in the benchmark: their instances cost a dashboard partial ~3 ms)."""

    username: str
    first_name: str
    last_name: str
    owns_products: bool = False

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


def people_on_products() -> list[Person]:
    """People who own or are a member of at least one product, for the member filter; ``owns_products`` says
    who owns one, so the owner filter's choices come from the same query."""
    rows = (
        User.objects.annotate(owns_products=Exists(Product.objects.filter(owner=OuterRef("pk"))))
        .filter(Q(owns_products=True) | Exists(Membership.objects.filter(user=OuterRef("pk"))))
        .order_by("username")
        .values_list("username", "first_name", "last_name", "owns_products")
    )
    return [Person(*row) for row in rows]


def active_people() -> list[User]:
    """Every active person, by name: who may own a product (a scenario's proposed one, for instance)."""
    return list(
        User.objects.filter(is_active=True)
        .only("username", "first_name", "last_name")
        .order_by("first_name", "last_name", "username")
    )


def owners() -> QuerySet[User]:
    """People who own at least one product, for the owner filter."""
    return (
        User.objects.filter(pk__in=Product.objects.values("owner"))
        .only("username", "first_name", "last_name")
        .order_by("username")
    )
