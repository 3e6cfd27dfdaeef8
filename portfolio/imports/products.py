"""Importing products: check every row, then create or update through the product and lifecycle services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import slug_re
from django.db import transaction
from django.utils.text import slugify

from lifecycle.services import StageMoveRefused, product_create, product_move_stage
from portfolio.imports.cells import CellError, duplicate_message, parse_choice, parse_money, unknown_message
from portfolio.imports.outcome import ImportOutcome, ImportRequest, checked_or_applied, csv_reader
from portfolio.models import Portfolio
from products.choices import Focus, Health, Market, Stage
from products.exports import PRODUCT_COLUMNS
from products.models import Product, User
from products.permissions import (
    can_create_product,
    can_reassign_product,
    product_ids_user_may_edit,
)
from products.services import product_update


@dataclass(frozen=True)
class Written:
    """What writing the staged measurements did."""

    created: int
    updated: int
    unchanged: int
    kpi_periods: set[tuple[int, dt.date]]
    product_ids: set[int]


# --------------------------------------------------------------------------------------------------
# Products: slug, name, portfolio, stage, market, focus, owner, health, planned_budget, actual_spend
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductRow:
    line: int
    slug: str
    name: str
    portfolio: Portfolio
    stage: str
    market: str
    focus: str
    owner: User
    planned_budget: Decimal | None  # None: no change (the export leaves money blank where it is hidden)
    actual_spend: Decimal | None


def import_products(request: ImportRequest, outcome: ImportOutcome) -> None:
    user = request.user
    portfolios = {p.slug: p for p in Portfolio.objects.all()}
    people = {u.username: u for u in User.objects.filter(is_active=True)}
    existing = {p.slug: p for p in Product.objects.select_related("portfolio", "owner")}
    editable = product_ids_user_may_edit(user, [p.pk for p in existing.values()])
    rows: list[ProductRow] = []
    seen: dict[str, int] = {}
    reader = csv_reader(request, PRODUCT_COLUMNS, outcome)
    for line, cells in reader:
        row = _product_row(line, cells, portfolios=portfolios, people=people, outcome=outcome)
        if row is None:
            continue
        if row.slug in seen:
            outcome.add(line, "slug", duplicate_message(seen[row.slug], "slug"))
            continue
        seen[row.slug] = line
        product = existing.get(row.slug)
        if product is None:
            if not can_create_product(user, row.portfolio):
                outcome.add(
                    line,
                    "slug",
                    f"There is no product “{row.slug}”, and you may not create products in {row.portfolio.name}.",
                )
                continue
        elif product.pk not in editable:
            outcome.add(line, "slug", f"You may not edit {row.slug}.")
            continue
        elif (row.owner != product.owner or row.portfolio != product.portfolio) and not can_reassign_product(
            user, product, row.portfolio
        ):
            column = "owner" if row.owner != product.owner else "portfolio"
            outcome.add(
                line,
                column,
                f"You may not change the {column} of {row.slug}: that is for its director or a VP.",
            )
            continue
        if problem := _money_problem(row, product):
            outcome.add(line, *problem)
            continue
        rows.append(row)
        if len(rows) % 500 == 0:
            request.progress(reader.rows)
    outcome.rows = reader.rows
    request.progress(reader.rows)
    if not outcome.ok:
        return
    with checked_or_applied(request, outcome):
        for row in rows:
            _write_product(row, existing.get(row.slug), request=request, outcome=outcome)


def _product_row(
    line: int, cells: list[str], *, portfolios: dict, people: dict, outcome: ImportOutcome
) -> ProductRow | None:
    slug, name, portfolio_slug, stage, market, focus, owner, health, planned, actual = cells
    errors = outcome.error_count
    if not slug:
        outcome.add(line, "slug", "The slug is missing.")
    elif not slug_re.match(slug) or len(slug) > 80:
        outcome.add(
            line,
            "slug",
            f"“{slug}” is not a slug: use at most 80 letters, digits, hyphens and underscores "
            f"(e.g. {slugify(slug)[:80] or 'my-product'}).",
        )
    if not name:
        outcome.add(line, "name", "The name is missing.")
    elif len(name) > 120:
        outcome.add(line, "name", f"The name is {len(name)} characters long; at most 120.")
    if portfolio_slug not in portfolios:
        outcome.add(line, "portfolio", unknown_message("portfolio", portfolio_slug, portfolios))
    if owner not in people:
        outcome.add(line, "owner", unknown_message("owner (username)", owner, people))
    parsed = {}
    for column, text, choices, noun in (
        ("stage", stage, Stage, "lifecycle stage"),
        ("market", market, Market, "market"),
        ("focus", focus, Focus, "focus"),
    ):
        try:
            parsed[column] = parse_choice(text, choices, noun)
        except CellError as error:
            outcome.add(line, column, str(error))
    if health:  # derived from the KPIs: read, never written
        try:
            parse_choice(health, Health, "health status")
        except CellError as error:
            outcome.add(line, "health", str(error))
    money = {}
    for column, text in (("planned_budget", planned), ("actual_spend", actual)):
        try:
            money[column] = parse_money(text)
        except CellError as error:
            outcome.add(line, column, str(error))
    if outcome.error_count != errors:
        return None
    return ProductRow(
        line=line,
        slug=slug,
        name=name,
        portfolio=portfolios[portfolio_slug],
        owner=people[owner],
        **parsed,
        **money,
    )


def _money_problem(row: ProductRow, product: Product | None) -> tuple[str, str] | None:
    """A product's money is the sum of its budget lines (docs/strategy.md): an import may carry it (the export
    does) but not change it. (column, message) for a value that differs, None when it is blank or the same."""
    for column, noun in (("planned_budget", "planned budget"), ("actual_spend", "actual spend")):
        value = getattr(row, column)
        current = getattr(product, column) if product is not None else Decimal("0")
        if value is not None and value != current:
            where = (
                f"{row.slug}'s budget lines ({current:,.2f})"
                if product
                else "the budget lines of a new product"
            )
            return (
                column,
                f"The {noun} is the sum of {where}: change the lines on the product's budget page, and leave "
                "this column blank or as exported.",
            )
    return None


def _write_product(
    row: ProductRow, product: Product | None, *, request: ImportRequest, outcome: ImportOutcome
) -> None:
    """Create or update one product through the services; a refused stage move is the row's problem."""
    user = request.user
    try:
        with transaction.atomic():
            if product is None:
                product = product_create(
                    product=Product(
                        slug=row.slug,
                        name=row.name,
                        portfolio=row.portfolio,
                        owner=row.owner,
                        market=row.market,
                        focus=row.focus,
                        stage=Stage.PROBLEM,
                    ),
                    by=user,
                )
                action = "created"
            else:
                changes = {
                    "name": row.name,
                    "portfolio": row.portfolio,
                    "owner": row.owner,
                    "market": row.market,
                    "focus": row.focus,
                }
                changed = {name: value for name, value in changes.items() if getattr(product, name) != value}
                for name, value in changed.items():
                    outcome.note_change(row.line, row.slug, name, _cell(getattr(product, name)), _cell(value))
                if changed:
                    product = product_update(product=product, changes=changed, by=user)
                action = "updated" if changed else "unchanged"
            if product.stage != row.stage:
                if action != "created":
                    outcome.note_change(row.line, row.slug, "stage", product.stage, row.stage)
                product_move_stage(product=product, to=row.stage, by=user, note=request.reason)
                outcome.extra["stage_moves"] = outcome.extra.get("stage_moves", 0) + 1
                action = "created" if action == "created" else "updated"
    except (StageMoveRefused, PermissionDenied) as refused:
        outcome.add(row.line, "stage", f"The move to {Stage(row.stage).label} is refused: {_reason(refused)}")
        return
    except ValidationError as invalid:
        outcome.add(row.line, "", _reason(invalid))
        return
    setattr(outcome, action, getattr(outcome, action) + 1)


def _cell(value: object) -> object:
    """A product's field as the file writes it: a portfolio by its slug, a person by their username."""
    for key in ("slug", "username"):
        if hasattr(value, key):
            return getattr(value, key)
    return value


def _reason(error: Exception) -> str:
    messages = getattr(error, "messages", None)
    return " ".join(messages) if messages else str(error)
