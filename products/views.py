from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from lifecycle import selectors as lifecycle_selectors
from portfolio import charts
from portfolio import selectors as portfolio_selectors
from portfolio.forms import MeasurementForm
from portfolio.services import measurement_record
from products import permissions, selectors
from products.forms import ProductForm
from products.models import Product
from products.services import product_update


@require_GET
def product_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()[:100]
    page = Paginator(selectors.product_list(search=search), 50).get_page(request.GET.get("page"))
    return render(request, "products/list.html", {"page": page, "q": search})


def _product_or_404(slug: str) -> Product:
    try:
        return selectors.product_get(slug=slug)
    except Product.DoesNotExist:
        raise Http404("No product with that slug.") from None


def _detail_context(request: HttpRequest, product: Product, **overrides) -> dict:
    user = request.user
    cards = portfolio_selectors.product_kpi_cards(product=product)
    chart_figures = [
        (
            card,
            charts.kpi_trend(
                name=card.kpi.name,
                unit=card.kpi.unit,
                periods=card.periods,
                values=card.values,
                target=card.target,
                tolerance=float(card.kpi.tolerance),
                direction=card.kpi.direction,
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
        "timeline": lifecycle_selectors.product_timeline(product=product),
        "cards": cards,
        "chart_figures": chart_figures,
        "activity": portfolio_selectors.product_recent_measurements(product=product),
        "can_edit": can_edit,
        "can_record": can_record,
        "show_budget": permissions.can_see_budget(user, product),
        "product_form": ProductForm(instance=product) if can_edit else None,
        "measurement_form": MeasurementForm() if can_record else None,
    }
    context.update(overrides)
    return context


@require_GET
@vary_on_headers("HX-Request")
def product_detail(request: HttpRequest, slug: str) -> HttpResponse:
    product = _product_or_404(slug)
    return render(request, "products/detail.html", _detail_context(request, product))


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def product_edit(request: HttpRequest, slug: str) -> HttpResponse:
    """The inline edit form (GET), and saving it (POST). Errors keep what the user typed."""
    product = _product_or_404(slug)
    if not permissions.can_edit_product(request.user, product):
        raise PermissionDenied("You may not edit this product.")
    htmx = bool(request.htmx) and not request.htmx.history_restore_request
    if request.method == "GET":
        form = ProductForm(instance=product)
        if htmx:
            return render(
                request, "products/detail.html#product-edit", {"product": product, "product_form": form}
            )
        return render(request, "products/edit.html", {"product": product, "product_form": form})
    form = ProductForm(request.POST, instance=Product.objects.get(pk=product.pk))
    if not form.is_valid():
        template = "products/detail.html#product-edit" if htmx else "products/edit.html"
        return render(request, template, {"product": product, "product_form": form, "editing": True})
    product = product_update(product=product, changes=form.cleaned_data, by=request.user)
    messages.success(request, f"Saved {product.name}.")
    if htmx:
        context = _detail_context(request, selectors.product_get(slug=product.slug))
        return render(request, "products/detail.html#product-header", context)
    return redirect(product)


@require_POST
@vary_on_headers("HX-Request")
def measurement_create(request: HttpRequest, slug: str) -> HttpResponse:
    """Record (or correct) one KPI value for this product; rollups follow in the background."""
    product = _product_or_404(slug)
    if not permissions.can_record_measurement(request.user, product):
        raise PermissionDenied("You may not record measurements for this product.")
    htmx = bool(request.htmx)
    form = MeasurementForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        measurement = measurement_record(
            product=product, kpi=data["kpi"], period=data["period"], value=data["value"], by=request.user
        )
        messages.success(
            request,
            f"Recorded {measurement.kpi.name} = {measurement.value:g} for the period of {measurement.period:%d %b %Y}.",
        )
        if not htmx:
            return redirect(product)
        form = MeasurementForm(initial={"kpi": data["kpi"]})
    elif not htmx:
        return render(
            request, "products/detail.html", _detail_context(request, product, measurement_form=form)
        )
    context = _detail_context(request, product, measurement_form=form)
    return render(request, "products/detail.html#kpis", context)
