from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portfolio.selectors import portfolio_totals
from products.selectors import product_list, stage_counts


@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    context = {
        "totals": portfolio_totals(),
        "stages": stage_counts(),
        "products": product_list().order_by("-updated_at")[:25],
    }
    return render(request, "portfolio/dashboard.html", context)
