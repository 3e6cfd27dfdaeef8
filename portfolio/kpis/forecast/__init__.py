"""KPI forecasts: where a KPI will land at the end of its period, with intervals and the chance of hitting target
(docs/kpis.md, "Forecasts"). ``methods`` holds the candidate models, ``projection`` picks one per series by
backtest and projects the period."""
