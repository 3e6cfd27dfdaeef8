from django.apps import AppConfig


class PortfolioConfig(AppConfig):
    name = "portfolio"
    verbose_name = "Portfolio and KPIs"

    def ready(self) -> None:
        # Lower apps announce moves between rollup scopes; the portfolio marks those rollups stale.
        from lifecycle.signals import stage_changed
        from portfolio.kpis.services import rollups_scope_changed
        from products.signals import product_scope_changed

        stage_changed.connect(rollups_scope_changed, dispatch_uid="portfolio-stage-changed")
        # ... and the people who follow a product hear about its moves (docs/alerts.md).
        from portfolio.alerts.services import stage_changed_notify

        stage_changed.connect(stage_changed_notify, dispatch_uid="portfolio-stage-changed-notify")
        product_scope_changed.connect(rollups_scope_changed, dispatch_uid="portfolio-product-scope-changed")
        # Register the Celery tasks in every process, so services can enqueue them by name.
        import portfolio.tasks  # noqa: F401
