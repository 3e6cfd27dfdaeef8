"""KPI figures as text and as a small SVG line, shared by every app's tables (products' and portfolio's): the
template tags of ``portfolio.templatetags.kpi_display`` and ``products.templatetags.product_table`` call these."""

from collections.abc import Sequence

from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

TREND_WORDS = {"up": "rising", "down": "falling", "flat": "flat"}


def sparkline(values: Sequence[float], target: float | None = None, width: int = 96, height: int = 24) -> str:
    """A small inline SVG line of recent values, with the target as a dotted line; text for screen readers.

    Drawn on the server with presentation attributes only (no style attribute, no script), so the strict
    CSP holds and a table of sparklines costs no extra request.
    """
    points = [float(v) for v in values if v is not None]
    if len(points) < 2:
        return format_html('<span class="sparkline sparkline--empty">{}</span>', "no history")
    low, high = min(points), max(points)
    if target is not None:
        low, high = min(low, target), max(high, target)
    span = (high - low) or 1.0
    pad = 2

    def y(value: float) -> float:
        return round(height - pad - (value - low) / span * (height - 2 * pad), 1)

    step = (width - 2 * pad) / (len(points) - 1)
    line = " ".join(f"{round(pad + i * step, 1)},{y(v)}" for i, v in enumerate(points))
    trend = "up" if points[-1] > points[-2] else "down" if points[-1] < points[-2] else "flat"
    label = f"Last {len(points)} values, {TREND_WORDS[trend]}: from {kpi_number(points[0])} to {kpi_number(points[-1])}"
    target_line = ""
    if target is not None:
        target_y = y(target)
        target_line = (
            f'<line x1="{pad}" x2="{width - pad}" y1="{target_y}" y2="{target_y}" stroke="#b45309" '
            'stroke-width="1" stroke-dasharray="2 2"/>'
        )
    # f-strings rather than format_html (a product table draws one per row): only the label is text, escaped;
    # the rest are numbers.
    label = escape(label)
    svg = (
        f'<svg class="sparkline" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{label}"><title>{label}</title>{target_line}'
        f'<polyline points="{line}" fill="none" stroke="#4f46e5" stroke-width="1.5" stroke-linejoin="round"/>'
        f'<circle cx="{round(pad + (len(points) - 1) * step, 1)}" cy="{y(points[-1])}" r="2" fill="#4f46e5"/></svg>'
    )
    return mark_safe(svg)  # noqa: S308 - numbers and an escaped label


def kpi_number(value: float | None, unit: str = "") -> str:
    """A KPI value for display: thousands separators, at most 4 significant decimals, unit after."""
    if value is None:
        return "—"
    if abs(value) >= 1000:
        text = f"{value:,.0f}"
    elif abs(value) >= 100:
        text = f"{value:,.1f}".rstrip("0").rstrip(".")
    else:
        text = f"{value:,.2f}".rstrip("0").rstrip(".")
    if not unit:
        return text
    if unit in {"€", "$", "£"}:
        return f"{unit}{text}"
    if unit == "%":
        return f"{text}%"
    return f"{text} {unit}"
