from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from lifecycle import selectors as lifecycle_selectors
from products import selectors
from products.models import Product


@require_GET
def product_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()[:100]
    page = Paginator(selectors.product_list(search=search), 50).get_page(request.GET.get("page"))
    return render(request, "products/list.html", {"page": page, "q": search})


@require_GET
def product_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        product = selectors.product_get(slug=slug)
    except Product.DoesNotExist:
        raise Http404("No product with that slug.") from None
    context = {
        "product": product,
        "members": selectors.product_members(product=product),
        "timeline": lifecycle_selectors.product_timeline(product=product),
    }
    return render(request, "products/detail.html", context)
