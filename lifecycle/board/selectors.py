"""Reads for the lifecycle board: its columns and cards in a fixed number of queries."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from lifecycle.gates import GateResult
from products.choices import Health, Stage
from products.models import Product
from products.selectors import product_filter, stage_counts

#: Cards per column, the longest-waiting first; "Show all" expands a column (``?show=<stage>``), and the product
#: list (which filters and pages) is a link away. The counts are always exact.
BOARD_CARDS_PER_STAGE = 10


STAND_IN_SLUG, STAND_IN_NAME, STAND_IN_URL = "stand-in-slug", "stand-in-name", "/stand-in-move-url/"


@dataclass
class BoardCard:
    """A product as a board card. Read with ``values()``: a board shows up to 140 cards per request, and
    model instances cost more than the whole query. ``url``, ``move_url``, ``may_move`` and ``move_form``
    are the view's to fill (links, and whether this user may move the card)."""

    pk: int
    slug: str
    name: str
    stage: str
    health: str
    owner_name: str
    days_in_stage: int
    url: str = ""
    move_url: str = ""
    may_move: bool = False
    move_form: object = None
    checklist: GateResult | None = None

    @property
    def health_label(self) -> str:
        return Health(self.health).label

    @classmethod
    def stand_in(cls) -> "BoardCard":
        """A card whose slug, name and move URL are markers: a template rendered for it once is completed for
        each real card by replacing the markers (``lifecycle.templatetags.board_display``)."""
        return cls(0, STAND_IN_SLUG, STAND_IN_NAME, "", "", "", 0, move_url=STAND_IN_URL, may_move=True)

    @classmethod
    def from_product(cls, product: Product) -> "BoardCard":
        return cls(
            pk=product.pk,
            slug=product.slug,
            name=product.name,
            stage=product.stage,
            health=product.health,
            owner_name=str(product.owner),
            days_in_stage=product.days_in_stage,
        )


@dataclass(frozen=True)
class BoardColumn:
    """One stage on the board: how many products match the filters, and the cards shown."""

    stage: Stage
    count: int
    cards: list[BoardCard]
    filters: dict[str, str] = field(default_factory=dict)
    #: The columns shown whole (``?show=<stage>``, in stage order), and whether this is one of them.
    show: tuple[str, ...] = ()
    limit: int = BOARD_CARDS_PER_STAGE

    @property
    def expanded(self) -> bool:
        return self.stage.value in self.show

    @property
    def shown(self) -> int:
        return len(self.cards)

    @property
    def more(self) -> bool:
        return self.count > self.shown

    @property
    def list_query(self) -> str:
        """Query string of the product list showing every product of this column (same filters)."""
        return urlencode({**self.filters, "stage": self.stage.value})

    def _board_query(self, show: set[str]) -> str:
        query = urlencode(
            [*self.filters.items(), *(("show", stage) for stage in Stage.values if stage in show)]
        )
        return f"?{query}" if query else ""

    @property
    def show_all_query(self) -> str:
        """``?query`` of the board with this column shown whole too (same filters), or "" for the plain board."""
        return self._board_query({*self.show, self.stage.value})

    @property
    def show_fewer_query(self) -> str:
        return self._board_query(set(self.show) - {self.stage.value})


def board_columns(
    *,
    filters: dict | None = None,
    limit_per_stage: int = BOARD_CARDS_PER_STAGE,
    include: int | None = None,
    show: Iterable[str] = (),
) -> list[BoardColumn]:
    """One column per stage, in lifecycle order, for the products matching ``filters``.

    Each column has the number of matching products and at most ``limit_per_stage`` cards, the
    longest-waiting first (oldest ``stage_entered_at``), plus the product ``include`` (a pk) wherever it
    stands, so a product that was just moved stays in sight. The stages in ``show`` have every card. ``filters`` are the active filters of
    ``ProductFilterForm`` (q, portfolio, stage, market, focus, health, owner). Two queries whatever the
    number of products: the counts by one aggregate; the cards by one query whose subquery numbers each
    stage's products with a row-number window.
    """
    filters = {name: value for name, value in (filters or {}).items() if value}
    matching = product_filter(filters=filters)
    counts = stage_counts(matching)
    ranked = (
        matching.order_by()
        .annotate(
            stage_row=Window(
                RowNumber(), partition_by=F("stage"), order_by=[F("stage_entered_at").asc(), F("pk").asc()]
            )
        )
        .filter(stage_row__lte=limit_per_stage)
        .values("pk")
    )
    show = tuple(stage for stage in Stage.values if stage in set(show))
    wanted = Q(pk__in=ranked)
    if show:
        wanted |= Q(stage__in=show)
    if include is not None:
        wanted |= Q(pk=include)
    rows = (
        matching.filter(wanted)
        .order_by("stage_entered_at", "pk")
        .values(
            "pk",
            "slug",
            "name",
            "stage",
            "health",
            "stage_entered_at",
            "owner__username",
            "owner__first_name",
            "owner__last_name",
        )
    )
    now = timezone.now()
    by_stage: dict[str, list[BoardCard]] = {stage.value: [] for stage in Stage}
    for row in rows:
        owner_name = f"{row['owner__first_name']} {row['owner__last_name']}".strip()
        by_stage[row["stage"]].append(
            BoardCard(
                pk=row["pk"],
                slug=row["slug"],
                name=row["name"],
                stage=row["stage"],
                health=row["health"],
                owner_name=owner_name or row["owner__username"],
                days_in_stage=max((now - row["stage_entered_at"]).days, 0),
            )
        )
    return [
        BoardColumn(
            stage=stage,
            count=counts[stage.value],
            cards=by_stage[stage.value],
            filters=filters,
            show=show,
            limit=limit_per_stage,
        )
        for stage in Stage
    ]
