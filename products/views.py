from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from lifecycle.history import lifecycle_history_sources
from lifecycle.selectors import product_timeline
from lifecycle.summaries import product_gate
from portfolio.alerts.selectors import follow_mode
from portfolio.dashboard.selectors import budget_scope, dashboard_products, product_table
from portfolio.kpis.charts import kpi_trend
from portfolio.kpis.forms import MeasurementForm
from portfolio.kpis.history import kpi_history_sources
from portfolio.kpis.selectors.cards import key_kpi, product_kpi_cards
from portfolio.kpis.selectors.measurements import product_recent_measurements
from portfolio.kpis.selectors.scopes import portfolios
from portfolio.kpis.services import measurement_record
from products import permissions, selectors
from products.exports import product_csv_response
from products.forms import ProductFilterForm, ProductForm
from products.history import HISTORY_PER_PAGE, product_history_sources
from products.models import Product
from products.services import ProductEditConflict, product_update
from spm.history.pages import history_page
from spm.web.charts import figure_json
from spm.web.figures import kpi_number
from spm.web.regions import is_htmx, region_requested, render_region

PRODUCT_LIST = "products/list.html"
# Regions an htmx request may ask for (its HX-Target): a filter, sort or page swaps the table; "clear
# filters" swaps the form with the table.
PRODUCT_LIST_REGIONS = ("product-table", "products-body")


@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def product_list(request: HttpRequest) -> HttpResponse:
    """Every product, filtered, sorted and paged from the query string; ``?format=csv`` streams them all."""
    form = ProductFilterForm(
        request.GET, portfolios=portfolios(), people=selectors.people_on_products(), user=request.user
    )
    filters = form.cleaned_or_default()
    if request.GET.get("format") == "csv":
        visible = budget_scope(request.user)
        kpi = key_kpi() if filters["sort"] == "key_kpi" else None
        products = dashboard_products(filters=filters, kpi=kpi, budget_visible=visible)
        return product_csv_response(
            products,
            budget_ids=None if visible is None else set(visible.values_list("pk", flat=True)),
            filename=f"products-{timezone.localdate():%Y-%m-%d}.csv",
        )
    context = {
        "form": form,
        "table": product_table(filters=filters, user=request.user),
        "regions": {"table": "product-table", "results": "product-table", "body": "products-body"},
    }
    return render_region(request, PRODUCT_LIST, region_requested(request, PRODUCT_LIST_REGIONS), context)


def _detail_context(request: HttpRequest, product: Product, **overrides) -> dict:
    user = request.user
    cards = product_kpi_cards(product=product)
    chart_figures = [
        (
            card,
            figure_json(
                kpi_trend(
                    name=card.kpi.name,
                    unit=card.kpi.unit,
                    periods=card.periods,
                    values=card.values,
                    target=card.target,
                    tolerance=float(card.kpi.tolerance),
                    direction=card.kpi.direction,
                    forecast=card.forecast,
                    outlook=card.outlook,
                    frequency=card.kpi.frequency,
                    time_aggregation=card.kpi.time_aggregation,
                )
            ),
            f"figure-{card.kpi.pk}",
        )
        for card in cards
    ]
    can_edit = permissions.can_edit_product(user, product)
    can_record = permissions.can_record_measurement(user, product)
    context = {
        "product": product,
        "members": selectors.product_members(product=product),
        "timeline": product_timeline(product=product),
        "lifecycle_gate": product_gate(product=product),
        "cards": cards,
        "chart_figures": chart_figures,
        "activity": product_recent_measurements(product=product),
        "can_edit": can_edit,
        "can_record": can_record,
        "follow_mode": follow_mode(user, product),
        "show_budget": permissions.can_see_budget(user, product),
        "currency_code": settings.SPM_CURRENCY,  # the one currency of every budget (docs/strategy.md)
        "product_form": ProductForm(instance=product) if can_edit else None,
        "measurement_form": MeasurementForm() if can_record else None,
    }
    context.update(overrides)
    return context


@require_GET
@vary_on_headers("HX-Request")
def product_detail(request: HttpRequest, slug: str) -> HttpResponse:
    product = permissions.access_product(request.user, slug, action="view")
    return render(request, "products/detail.html", _detail_context(request, product))


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def product_edit(request: HttpRequest, slug: str) -> HttpResponse:
    """The inline edit form (GET), and saving it (POST). Errors keep what the user typed."""
    product = permissions.access_product(request.user, slug, action="edit")
    htmx = is_htmx(request)
    if request.method == "GET":
        form = ProductForm(instance=product)
        if htmx:
            return render(
                request, "products/detail.html#product-edit", {"product": product, "product_form": form}
            )
        return render(request, "products/edit.html", {"product": product, "product_form": form})
    form = ProductForm(request.POST, instance=Product.objects.get(pk=product.pk))
    template = "products/detail.html#product-edit" if htmx else "products/edit.html"
    if not form.is_valid():
        return render(request, template, {"product": product, "product_form": form, "editing": True})
    try:
        product = product_update(
            product=product,
            changes=form.changes(),
            by=request.user,
            expected_version=form.cleaned_data["version"],
        )
    except ProductEditConflict as conflict:
        # Someone saved since this form was loaded: show what they changed, keep what this user typed, and
        # carry the current version so that saving again (after a look) applies this input on top.
        context = {
            "product": conflict.current,
            "product_form": form.on_top_of(conflict),
            "conflict": conflict,
            "editing": True,
        }
        return render(request, template, context)
    messages.success(request, f"Saved {product.name}.")
    if htmx:
        context = _detail_context(request, selectors.product_get(slug=product.slug))
        return render(request, "products/detail.html#product-header", context)
    return redirect(product)


PRODUCT_HISTORY = "products/history.html"
# Regions an htmx request may ask for: the tab (from the overview's tab bar) or the list (a page link).
PRODUCT_HISTORY_REGIONS = ("product-tab", "product-history")


@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def product_history(request: HttpRequest, slug: str) -> HttpResponse:
    """The product's History tab: every recorded write to it and to what hangs off it, newest first, paged.

    Everyone who may see the product sees its history; money fields only those who may see its budget."""
    product = permissions.access_product(request.user, slug, action="view")
    show_budget = permissions.can_see_budget(request.user, product)
    context = {
        "product": product,
        "history": history_page(
            [
                *product_history_sources(product=product, show_money=show_budget),
                *lifecycle_history_sources(product=product, show_money=show_budget),
                *kpi_history_sources(product=product),
            ],
            page=request.GET.get("page"),
            per_page=HISTORY_PER_PAGE,
        ),
        "show_budget": show_budget,
    }
    region = region_requested(request, PRODUCT_HISTORY_REGIONS)
    if region is None:
        context["can_edit"] = permissions.can_edit_product(request.user, product)  # the page's header
    return render_region(request, PRODUCT_HISTORY, region, context)


@require_POST
@vary_on_headers("HX-Request")
def measurement_create(request: HttpRequest, slug: str) -> HttpResponse:
    """Record (or correct) one KPI value for this product; rollups follow in the background."""
    product = permissions.access_product(request.user, slug, action="record_measurement")
    htmx = is_htmx(request)  # a POST is never a history restore
    form = MeasurementForm(request.POST, product=product)
    if form.is_valid():
        data = form.cleaned_data
        measurement = measurement_record(
            product=product, kpi=data["kpi"], period=data["period"], value=data["value"], by=request.user
        )
        kpi = measurement.kpi
        messages.success(
            request,
            f"Recorded {kpi.name} = {kpi_number(measurement.value, kpi.unit)} for {form.counts_for}.",
        )
        if not htmx:
            return redirect(product)
        form = MeasurementForm(initial={"kpi": data["kpi"]})
    elif not htmx:
        return render(
            request, "products/detail.html", _detail_context(request, product, measurement_form=form)
        )
    context = _detail_context(request, product, measurement_form=form)
    return render(request, "products/detail.html#kpis", {**context, "kpis_region_alone": True})
