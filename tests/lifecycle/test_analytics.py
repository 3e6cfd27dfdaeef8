"""Lifecycle analytics against a hand-built history: funnel, conversion, time in stage, stuck products,
overrides, cumulative flow; the page, its HTMX region, its filters and its query count."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from lifecycle.analytics.filters import AnalyticsFilters
from lifecycle.analytics.flow import cumulative_flow
from lifecycle.analytics.selectors import (
    funnel_and_stuck_counts,
    gate_overrides,
    stage_funnel,
    stuck_products,
    stuck_thresholds,
)
from lifecycle.analytics.stays import percentile, stage_conversion, time_in_stage
from lifecycle.models import StageThreshold, StageTransition
from products.choices import Market, Role, Stage
from tests.factories import PortfolioFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 6, 1)


def at(day: int) -> dt.datetime:
    """Noon UTC of day ``day`` counted from 1 June 2026."""
    return dt.datetime.combine(DAY + dt.timedelta(days=day), dt.time(12), tzinfo=dt.UTC)


def history(product, *steps: tuple[int, str], **extra) -> None:
    """Record ``product``'s transitions: (day, stage) pairs from its start; the product ends in the last stage."""
    previous = ""
    for day, stage in steps:
        StageTransition.objects.create(
            product=product, from_stage=previous, to_stage=stage, at=at(day), **extra
        )
        previous = stage
    product.stage = previous
    product.stage_entered_at = at(steps[-1][0])
    product.save(update_fields=["stage", "stage_entered_at"])


@pytest.fixture
def portfolio():
    return PortfolioFactory(slug="payments")


@pytest.fixture
def built(portfolio):
    """Four products:
    A: problem d0, opportunity d10, research d40 (now research);
    B: problem d5, opportunity d25, back to problem d30 (now problem);
    C: problem d20 (now problem), B2C;
    D: problem d0, opportunity d3, research d9, mvp d15 (now mvp), another portfolio."""
    a = ProductFactory(slug="a", portfolio=portfolio)
    b = ProductFactory(slug="b", portfolio=portfolio)
    c = ProductFactory(slug="c", portfolio=portfolio, market=Market.B2C)
    d = ProductFactory(slug="d")
    history(a, (0, "problem"), (10, "opportunity"), (40, "research"))
    history(b, (5, "problem"), (25, "opportunity"), (30, "problem"))
    history(c, (20, "problem"))
    history(d, (0, "problem"), (3, "opportunity"), (9, "research"), (15, "mvp"))
    return {"a": a, "b": b, "c": c, "d": d}


WINDOW = AnalyticsFilters(start=DAY, end=DAY + dt.timedelta(days=49))


def test_the_funnel_counts_products_per_stage_now(built):
    assert stage_funnel(WINDOW) == {
        "problem": 2,
        "opportunity": 0,
        "research": 1,
        "mvp": 1,
        "feedback": 0,
        "strategy": 0,
        "execution": 0,
    }
    assert stage_funnel(AnalyticsFilters(start=DAY, end=DAY, portfolio="payments"))["mvp"] == 0


def test_conversion_counts_entries_in_the_window_that_moved_forward(built):
    rows = {row.stage.value: row for row in stage_conversion(WINDOW)}
    # problem: A, B, C, D entered (B twice: once); A, B, D moved forward; C did not. B's later re-entry counts
    # once for the product.
    assert (rows["problem"].entered, rows["problem"].went_on) == (4, 3)
    # opportunity: A, B, D entered; A and D moved forward; B moved back.
    assert (rows["opportunity"].entered, rows["opportunity"].went_on) == (3, 2)
    assert (rows["research"].entered, rows["research"].went_on) == (2, 1)
    assert rows["mvp"].entered == 1
    assert rows["mvp"].went_on == 0
    assert rows["feedback"].rate is None


def test_conversion_only_counts_moves_by_the_end_of_the_window(built):
    early = AnalyticsFilters(start=DAY, end=DAY + dt.timedelta(days=12))
    rows = {row.stage.value: row for row in stage_conversion(early)}
    # problem: A, B, D entered by day 12; A (d10) and D (d3) moved on by then, B (d25) not yet.
    assert (rows["problem"].entered, rows["problem"].went_on) == (3, 2)


def test_time_in_stage_takes_median_and_p90_of_stays_that_ended_in_the_window(built):
    times = {row.stage.value: row for row in time_in_stage(WINDOW, stuck_thresholds())}
    # problem stays ended: A 10, B 20, D 3 days (B's second and C's stays are open)
    assert times["problem"].stays == 3
    assert times["problem"].median_days == pytest.approx(10)
    assert times["problem"].p90_days == pytest.approx(18)  # 10 + 0.8 * (20 - 10)
    # opportunity stays: A 30, B 5, D 6
    assert times["opportunity"].median_days == pytest.approx(6)
    assert times["research"].stays == 1
    assert times["research"].median_days == pytest.approx(6)
    assert times["mvp"].stays == 0
    assert times["mvp"].median_days is None


def test_percentile_interpolates_between_ranks():
    assert percentile([], 0.5) is None
    assert percentile([4], 0.9) == 4
    assert percentile([1, 2, 3, 4], 0.5) == 2.5
    assert percentile(list(range(11)), 0.9) == 9


def test_stuck_products_use_the_configured_threshold_per_stage(built):
    now = at(60)
    thresholds = stuck_thresholds()
    assert thresholds["problem"] == 60  # the default
    stuck = stuck_products(WINDOW, thresholds, now=now)
    assert stuck.total == 0
    StageThreshold.objects.create(stage=Stage.PROBLEM, stuck_after_days=35)
    StageThreshold.objects.create(stage=Stage.MVP, stuck_after_days=30)
    stuck = stuck_products(WINDOW, stuck_thresholds(), now=now)
    # problem: C (since d20: 40 days) is stuck, B (since d30: 30 days) is not; mvp: D (since d15: 45 days)
    assert stuck.counts["problem"] == 1
    assert stuck.counts["mvp"] == 1
    assert [(row.slug, row.days, row.threshold) for row in stuck.products] == [("d", 45, 30), ("c", 40, 35)]
    # The analytics read the stuck counts with the funnel, in one grouped query: the same numbers.
    funnel, counts = funnel_and_stuck_counts(WINDOW, stuck_thresholds(), now=now)
    assert counts == stuck.counts
    assert funnel == stage_funnel(WINDOW)


def test_stuck_means_longer_than_the_threshold_not_at_it(built):
    # mvp: D entered on day 15. A 45-day threshold: at day 60 (45 days in) D is at it, not over; at day 61, over.
    StageThreshold.objects.create(stage=Stage.MVP, stuck_after_days=45)
    thresholds = stuck_thresholds()
    assert stuck_products(WINDOW, thresholds, now=at(60)).counts["mvp"] == 0
    assert stuck_products(WINDOW, thresholds, now=at(60) + dt.timedelta(hours=23)).counts["mvp"] == 0
    later = stuck_products(WINDOW, thresholds, now=at(61))
    assert later.counts["mvp"] == 1
    assert [(row.slug, row.days, row.threshold) for row in later.products] == [("d", 46, 45)]


def test_execution_has_no_stuck_threshold(built):
    product = ProductFactory(slug="veteran", stage=Stage.EXECUTION)
    type(product).objects.filter(pk=product.pk).update(stage_entered_at=at(0) - dt.timedelta(days=2000))
    assert "execution" not in stuck_thresholds()
    stuck = stuck_products(WINDOW, stuck_thresholds(), now=at(60))
    assert "veteran" not in [row.slug for row in stuck.products]
    with pytest.raises(ValidationError) as refused:
        StageThreshold(stage=Stage.EXECUTION, stuck_after_days=365).full_clean()
    assert "Execution has no stuck threshold" in str(refused.value)
    times = {row.stage.value: row.threshold for row in time_in_stage(WINDOW, stuck_thresholds())}
    assert times["execution"] is None


def test_overrides_in_the_window_with_their_reasons(built):
    director = UserFactory(role=Role.DIRECTOR)
    product = built["c"]
    StageTransition.objects.create(
        product=product,
        from_stage="problem",
        to_stage="opportunity",
        at=at(45),
        by=director,
        gate_overridden=True,
        override_reason="Strategic bet",
        unmet_criteria=["A persona described: 0 personas recorded; 1 needed."],
    )
    overrides = gate_overrides(WINDOW)
    assert overrides.count == 1
    assert overrides.latest[0].override_reason == "Strategic bet"
    assert gate_overrides(AnalyticsFilters(start=DAY, end=DAY + dt.timedelta(days=40))).count == 0


def test_overrides_counted_beyond_the_listed_ones(built, monkeypatch):
    director = UserFactory(role=Role.DIRECTOR)
    for days, product in ((41, built["b"]), (45, built["c"])):
        StageTransition.objects.create(
            product=product,
            from_stage="problem",
            to_stage="opportunity",
            at=at(days),
            by=director,
            gate_overridden=True,
            override_reason=f"Bet {days}",
        )
    monkeypatch.setattr("lifecycle.analytics.selectors.OVERRIDES_LISTED", 1)
    overrides = gate_overrides(WINDOW)
    assert overrides.count == 2
    assert [row.override_reason for row in overrides.latest] == ["Bet 45"]


def test_cumulative_flow_counts_products_in_each_stage_by_day(built):
    flow = cumulative_flow(AnalyticsFilters(start=DAY, end=DAY + dt.timedelta(days=49)))
    assert len(flow.days) == 50  # daily for a short window
    day = {d: i for i, d in enumerate(flow.days)}

    def on(offset: int) -> dict[str, int]:
        index = day[DAY + dt.timedelta(days=offset)]
        return {stage: values[index] for stage, values in flow.stages.items() if values[index]}

    assert on(0) == {"problem": 2}  # A and D
    assert on(10) == {"problem": 1, "opportunity": 1, "research": 1}  # B; A; D (d9)
    assert on(30) == {"problem": 2, "opportunity": 1, "mvp": 1}  # B (back), C; A; D
    assert on(45) == {"problem": 2, "research": 1, "mvp": 1}
    # every point adds up to the products that have started by then
    assert all(sum(values[i] for values in flow.stages.values()) <= 4 for i in range(len(flow.days)))


def test_a_long_window_is_charted_week_by_week(built):
    flow = cumulative_flow(
        AnalyticsFilters(start=DAY - dt.timedelta(days=300), end=DAY + dt.timedelta(days=49))
    )
    assert flow.days[1] - flow.days[0] == dt.timedelta(days=7)
    assert flow.days[-1] == DAY + dt.timedelta(days=49)
    assert flow.stages["research"][-1] == 1
    assert flow.stages["problem"][-1] == 2


# ------------------------------------------------------------------------------------------------- the page


@pytest.fixture
def client_signed_in():
    client = Client()
    client.force_login(UserFactory(role=Role.JUNIOR_PM))
    return client


def test_the_page_shows_the_numbers_for_the_window_in_the_query_string(client_signed_in, built):
    response = client_signed_in.get("/lifecycle/analytics/", {"start": "2026-06-01", "end": "2026-07-20"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "window 1 Jun 2026 to 20 Jul 2026" in html
    row = html.split('<tr data-stage="problem">', 1)[1].split("</tr>", 1)[0]
    assert '<td class="num">2</td><td class="num">4</td><td class="num">3</td><td class="num">75%</td>' in row
    assert 'data-figure="analytics-flow"' in html
    assert "&quot;stackgroup&quot;:&quot;stages&quot;" in html  # the figure, as JSON text for charts.js


def test_a_filter_change_swaps_only_the_results_and_keeps_valid_filters(client_signed_in, built):
    response = client_signed_in.get(
        "/lifecycle/analytics/",
        {"start": "2026-06-01", "end": "2026-07-20", "portfolio": "payments", "market": "b2x"},
        headers={"HX-Request": "true", "HX-Target": "analytics-results"},
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="analytics-results"')
    assert "“b2x” is not a market." in html
    assert "<strong>3</strong> products" in html  # the portfolio filter still applies
    assert "HX-Request" in response["Vary"]


def test_a_window_that_ends_before_it_starts_is_reported_and_the_default_used(client_signed_in, built):
    html = client_signed_in.get(
        "/lifecycle/analytics/", {"start": "2026-07-01", "end": "2026-06-01"}
    ).content.decode()
    assert "The window must end on or after its start." in html


def test_the_page_needs_a_login(client):
    assert client.get("/lifecycle/analytics/").status_code == 302


@pytest.mark.parametrize("size", [3, 40])
@pytest.mark.parametrize("headers", [{}, {"HX-Request": "true", "HX-Target": "analytics-results"}])
def test_the_page_takes_a_fixed_number_of_queries(
    client_signed_in, portfolio, django_assert_max_num_queries, size, headers
):
    for n in range(size):
        product = ProductFactory(portfolio=portfolio)
        history(product, (n % 20, "problem"), (n % 20 + 5, "opportunity"), (n % 20 + 9, "research"))
    # session, user, portfolios, thresholds, funnel, conversion, time in stage, stuck counts and list, overrides,
    # the flow's arrivals and departures before the window and its moves inside it
    with django_assert_max_num_queries(13):
        response = client_signed_in.get(
            "/lifecycle/analytics/", {"start": "2026-06-01", "end": "2026-07-20"}, headers=headers
        )
    assert response.status_code == 200


def test_the_csv_has_a_row_per_stage_with_the_pages_numbers(client_signed_in, built):
    response = client_signed_in.get(
        "/lifecycle/analytics/", {"start": "2026-06-01", "end": "2026-07-20", "format": "csv"}
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="lifecycle-2026-06-01-2026-07-20.csv"'
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0] == (
        "stage,products_now,entered_in_window,went_on,conversion,stays_ended_in_window,median_days,p90_days,"
        "stuck_after_days,stuck_now"
    )
    assert lines[1].startswith("problem,2,4,3,0.75,3,10.0,18.0,60,")
    assert lines[7] == "execution,0,,,,0,,,,0"  # no stuck threshold: products stay in execution
    html = client_signed_in.get(
        "/lifecycle/analytics/", {"start": "2026-06-01", "end": "2026-07-20"}
    ).content.decode()
    assert 'href="/lifecycle/analytics/?format=csv&amp;start=2026-06-01&amp;end=2026-07-20"' in html
