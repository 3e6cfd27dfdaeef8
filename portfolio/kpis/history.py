"""A product's KPI targets and measurements in its audit history, for the product page's History tab."""

from __future__ import annotations

from django.utils.dateformat import format as date_format

from portfolio.models import KPI, KPITarget, Measurement
from products.models import Product
from spm.history.pages import HistorySource
from spm.history.values import Names


def _kpi(record, names: Names) -> str:
    return names.get((KPI, record.kpi_id)) or "a removed KPI"


def kpi_history_sources(*, product: Product) -> list[HistorySource]:
    """The product's KPI targets and measurements (no money among them)."""
    return [
        HistorySource(
            kind="target",
            records=KPITarget.history.filter(product_id=product.pk),
            subject=lambda record, names: f"Target for {_kpi(record, names)}",
            fields=("kpi", "target"),
            subject_fields=("kpi",),
            labels={"kpi": "KPI"},
        ),
        HistorySource(
            kind="measurement",
            records=Measurement.history.filter(product_id=product.pk),
            subject=lambda record, names: f"{_kpi(record, names)} for {date_format(record.period, 'j M Y')}",
            # Who recorded it and when is the entry's own who and when.
            fields=("kpi", "period", "value"),
            subject_fields=("kpi",),
            labels={"kpi": "KPI"},
        ),
    ]
