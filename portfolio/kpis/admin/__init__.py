"""KPIs in the Django admin: definitions, targets and measurements (``definitions``), rollups (``rollups``)."""

from portfolio.kpis.admin import definitions, rollups

__all__ = ["definitions", "rollups"]
