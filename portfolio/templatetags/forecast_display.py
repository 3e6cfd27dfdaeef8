"""Words for a stored forecast (``ProductForecast`` or ``ScopeForecast``) wherever one is shown: the one-line
summary (“forecast €24.1M (22.0M to 26.3M as a range) · 71 % chance on target”), and its explanation on demand (how it was
made: method, history, backtest error, what its intervals are). docs/kpis.md, "Forecasts"."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from portfolio.kpis.forecast.store import COMBINED
from portfolio.templatetags.rollup_display import chance_words, compact_range, kpi_compact, period_label
from portfolio.validity import FREQUENCY_NOUNS

register = template.Library()
DASH = "\N{EN DASH}"

STATUS_WORDS = {"on_target": "on target", "at_risk": "at risk", "off_target": "off target", "no_target": ""}
METHOD_WORDS = {
    "naive": "naive (the latest value carries on)",
    "seasonal naive": "seasonal naive (the same period a season before)",
    "drift": "drift (the average change so far carries on)",
    "damped trend": "damped trend (exponential smoothing of level and trend, the trend fading)",
    COMBINED: "combined from its products' forecasts",
}


def chance(probability: float | None) -> str:
    """“71 %”, “< 1 %”, “> 99 %”: a probability as a reader takes it (never “100 %” for a forecast)."""
    # Written by rollup_display, whose scorecard cells need it too (and cannot import this module: a cycle).
    return chance_words(probability)


@register.filter
def forecast_chance(forecast) -> str:
    return chance(getattr(forecast, "p_on_target", None))


@register.simple_tag
def forecast_line(forecast, unit: str = "") -> str:
    """The forecast in one line, or why there is none; empty without a forecast row at all."""
    if forecast is None:
        return ""
    if forecast.value is None:
        return f"No forecast: {forecast.reason}" if forecast.reason else "No forecast"
    if not forecast.remaining:
        return f"complete: {kpi_compact(forecast.value, unit)}"
    text = (
        f"forecast {kpi_compact(forecast.value, unit)} "
        f"({kpi_compact(forecast.low_80, unit)}{DASH}{kpi_compact(forecast.high_80, unit)})"
    )
    if forecast.p_on_target is not None:
        text += f" · {chance(forecast.p_on_target)} chance on target"
    return text


def coverage_line(accuracy, noun: str) -> str:
    """The measured coverage of the KPI's ranges (``ForecastAccuracy``, stored by ``manage.py forecast_backtest``
    and weekly by Celery beat), or that it has not been measured yet."""
    if accuracy is None:
        return mark_safe(  # a constant
            "<dt>Coverage</dt><dd>Not measured yet: <code>manage.py forecast_backtest</code> measures it (and "
            "Celery beat weekly)</dd>"
        )
    return format_html(
        "<dt>Coverage</dt><dd>Measured on this KPI on {}: with the last {} {}s of {} series hidden, {} fell "
        "inside their 80 % range and {} inside their 95 % range (MAPE {} %, naive {} %)</dd>",
        f"{accuracy.measured_at:%d %b %Y}",
        accuracy.hidden,
        noun,
        f"{accuracy.series:,}",
        f"{100 * accuracy.coverage_80:.0f} %",
        f"{100 * accuracy.coverage_95:.0f} %",
        f"{accuracy.mape:.1f}",
        f"{accuracy.naive_mape:.1f}",
    )


@register.simple_tag
def forecast_explanation(forecast, kpi, unit: str = "") -> str:
    """How a forecast was made, for a ``<details>`` beside it (escaped HTML)."""
    if forecast is None or forecast.value is None:
        return ""
    noun = FREQUENCY_NOUNS.get(kpi.frequency, "period")
    period = period_label(forecast.period, forecast.grain)
    lines = [
        format_html(
            "<dt>Period</dt><dd>{} · {} {}{} recorded, {} to come</dd>",
            period,
            forecast.done,
            noun,
            "" if forecast.done == 1 else "s",
            forecast.remaining,
        ),
        format_html("<dt>Method</dt><dd>{}</dd>", METHOD_WORDS.get(forecast.method, forecast.method)),
    ]
    if forecast.method == COMBINED:
        lines.append(
            format_html(
                "<dt>Products</dt><dd>{} with a forecast, combined by the KPI's aggregation "
                "(independent errors)</dd>",
                getattr(forecast, "products", 0),
            )
        )
    else:
        lines.append(
            format_html(
                "<dt>History</dt><dd>{} {}s; the method was chosen by {} backtests on that history</dd>",
                forecast.history_used,
                noun,
                forecast.origins,
            )
        )
    if forecast.backtest_error is not None:
        lines.append(
            format_html(
                "<dt>Backtest error</dt><dd>{} % on average (MAPE)</dd>", f"{forecast.backtest_error:.1f}"
            )
        )
    lines.append(
        format_html(
            "<dt>Ranges</dt><dd>80 %: {}\N{EN DASH}{} · 95 %: {}\N{EN DASH}{}, from the spread of the backtest "
            "errors</dd>",
            kpi_compact(forecast.low_80, unit),
            kpi_compact(forecast.high_80, unit),
            kpi_compact(forecast.low_95, unit),
            kpi_compact(forecast.high_95, unit),
        )
    )
    lines.append(coverage_line(getattr(kpi, "forecast_accuracy", None), noun))
    if forecast.target is not None:
        words = STATUS_WORDS.get(forecast.status, "")
        lines.append(
            format_html(
                "<dt>Target</dt><dd>{} for the period; the forecast ends {} · {} chance on target, "
                "{} within tolerance</dd>",
                kpi_compact(forecast.target, unit),
                words,
                chance(forecast.p_on_target),
                chance(forecast.p_within_tolerance),
            )
        )
    needed = getattr(forecast, "needed_per_period", None)
    if needed is not None and forecast.remaining:
        if kpi.time_aggregation == "last":  # the period's value is its last period's: that one must get there
            words = format_html("{} in the period's last {}", kpi_compact(needed, unit), noun)
        elif kpi.time_aggregation == "avg":
            words = format_html(
                "{} a {} on average for the rest of the period", kpi_compact(needed, unit), noun
            )
        else:
            words = format_html("{} a {} for the rest of the period", kpi_compact(needed, unit), noun)
        lines.append(format_html("<dt>Needed</dt><dd>{}</dd>", words))
    if forecast.method != COMBINED and forecast.target is not None and kpi.time_aggregation == "sum":
        reached = forecast.reached_after
        if kpi.direction != "lower":
            if reached is None:
                when = "not this period"
            elif reached == 0:
                when = "already"
            else:
                when = f"after {reached} more {noun}{'s' if reached != 1 else ''}"
            lines.append(format_html("<dt>Target reached</dt><dd>{}</dd>", when))
    return format_html(
        '<dl class="forecast__explanation">{}</dl>', format_html("".join(["{}"] * len(lines)), *lines)
    )


# --------------------------------------------------------------------------------------------------
# Dense tables: the drill-down's rows and headline (the scorecard's cells: rollup_display.scorecard_cells)
# --------------------------------------------------------------------------------------------------


@register.simple_tag
def forecast_compact(forecast, unit: str = "") -> str:
    """The forecast in a dense table: “forecast €24.1M (22.0 to 26.3 as a range)”, its 80 % range at the value's
    scale; empty without a forecast, or when the period is complete (its value is measured, not forecast)."""
    if forecast is None or forecast.value is None or not forecast.remaining:
        return ""
    span = compact_range(forecast.low_80, forecast.high_80, forecast.value)
    return f"forecast {kpi_compact(forecast.value, unit)}" + (f" ({span})" if span else "")


@register.simple_tag
def forecast_headline(forecast, unit: str = "") -> str:
    """``forecast_line`` with the range written once at the value's scale (“forecast 687k users (681.3 to 692.8)
    · > 99 % chance on target”, not the unit three times); a complete period or no forecast as ``forecast_line``."""
    text = forecast_compact(forecast, unit)
    if not text:
        return forecast_line(forecast, unit)
    odds = chance(forecast.p_on_target).replace(" ", "\N{NO-BREAK SPACE}")  # “> 99 %” stays whole
    return f"{text} · {odds} chance on target" if odds else text
