"""The portfolio app's Django admin, found here by admin autodiscovery: each sub-domain registers its own
models in its package's ``admin`` module."""

from portfolio.alerts import admin as alerts_admin
from portfolio.kpis import admin as kpis_admin
from portfolio.strategy import admin as strategy_admin

__all__ = ["alerts_admin", "kpis_admin", "strategy_admin"]
