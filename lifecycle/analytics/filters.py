"""The window and product filters every lifecycle analytics read takes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import (
    QuerySet,
)
from django.utils import timezone

from lifecycle.models import StageTransition
from products.models import Product


@dataclass(frozen=True)
class AnalyticsFilters:
    start: dt.date
    end: dt.date
    portfolio: str = ""
    market: str = ""
    focus: str = ""

    def products(self) -> QuerySet[Product]:
        products = Product.objects.all()
        if self.portfolio:
            products = products.filter(portfolio__slug=self.portfolio)
        if self.market:
            products = products.filter(market=self.market)
        if self.focus:
            products = products.filter(focus=self.focus)
        return products

    def transitions(self) -> QuerySet[StageTransition]:
        transitions = StageTransition.objects.all()
        if self.portfolio:
            transitions = transitions.filter(product__portfolio__slug=self.portfolio)
        if self.market:
            transitions = transitions.filter(product__market=self.market)
        if self.focus:
            transitions = transitions.filter(product__focus=self.focus)
        return transitions

    @property
    def start_at(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.start, dt.time.min))

    @property
    def end_at(self) -> dt.datetime:
        """The end of the window's last day (exclusive bound)."""
        return timezone.make_aware(dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min))
