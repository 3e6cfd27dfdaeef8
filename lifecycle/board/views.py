"""The lifecycle board: one URL for the page and its region; moves POST to their own URL and answer with the
refreshed region (htmx) or a redirect back to the board (plain form)."""

from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import reswap, retarget

from lifecycle.board.selectors import BoardCard, board_columns
from lifecycle.forms import StageMoveForm, announce_move
from lifecycle.selectors import stages_around
from lifecycle.summaries import checklists
from portfolio.kpis.selectors.scopes import portfolios
from products.choices import Stage
from products.forms import ProductFilterForm
from products.models import Product
from products.permissions import access_product, product_ids_user_may_edit
from products.selectors import people_on_products
from spm.web.regions import is_htmx, region_requested, render_region

BOARD = "lifecycle/board.html"


# Regions an htmx request may ask for, by the id of its target (HX-Target): a filter or a move swaps the
# board, "clear filters" swaps the filter bar with the board.
BOARD_REGIONS = ("board-region", "board-body")


def shown_stages(request: HttpRequest) -> list[str]:
    """The columns shown whole (``?show=<stage>``, repeatable); unknown stages are left out."""
    asked = set(request.GET.getlist("show"))
    return [stage for stage in Stage.values if stage in asked]


def raw_filter_query(request: HttpRequest) -> str:
    """The board's filters (and expanded columns) as they came, for the redirect of a move (the board validates
    them)."""
    filters = [(name, request.GET[name]) for name in ProductFilterForm.FILTERS if request.GET.get(name)]
    return urlencode([*filters, *(("show", stage) for stage in shown_stages(request))])


def slug_url(viewname: str) -> Callable[[str], str]:
    """``reverse()`` once per page, not once per card (140 calls cost ~4 ms of a 25 ms budget): a card's
    link is the URL with its slug put in, which needs no quoting."""
    marker = "board-card-slug"
    head, tail = reverse(viewname, kwargs={"slug": marker}).split(marker)
    return lambda slug: f"{head}{slug}{tail}"


def move_targets(stage: str) -> dict[str, list[tuple[str, str]]]:
    """The (value, label) pairs a product in ``stage`` can move to: ``later`` stages, then ``earlier`` ones."""
    later, earlier = stages_around(stage)
    return {
        "later": [(target.value, target.label) for target in later],
        "earlier": [(target.value, target.label) for target in earlier],
    }


def column_move_form(request: HttpRequest, stage: str) -> str:
    """The move-form partial for a column's stand-in card: board_display completes it for each card. Rendered
    without the request's context processors (with them each column cost a millisecond more): it needs the CSRF token
    only."""
    context = {"card": BoardCard.stand_in(), "csrf_token": get_token(request), **move_targets(stage)}
    return render_to_string(f"{BOARD}#move-form", context)


def board_context(
    request: HttpRequest, *, card: Product | None = None, moved: bool = False, region: bool = False
) -> dict:
    """Filters from the query string, the columns they select and which cards this user may move.

    ``card`` is a product shown whatever its place in its column (the one just moved, or whose move
    was refused); ``region`` adds the out-of-band summary to an htmx answer of the board region alone."""
    form = ProductFilterForm(
        request.GET,
        portfolios=portfolios().only("slug", "name"),
        people=people_on_products(),
        user=request.user,
    )
    active = form.active_filters()
    show = shown_stages(request)
    columns = board_columns(filters=active, include=card.pk if card else None, show=show)
    cards = [shown for column in columns for shown in column.cards]
    movable = product_ids_user_may_edit(request.user, [shown.pk for shown in cards])
    # Each card's current-stage gate checklist, for every card in two queries.
    gates = checklists(stages={shown.pk: shown.stage for shown in cards})
    filter_query = urlencode(active)
    # A move's answer (or its redirect) keeps the filters and the expanded columns.
    board_query = urlencode([*active.items(), *(("show", stage) for stage in show)])
    product_url, move_url = slug_url("products:detail"), slug_url("lifecycle:move")
    for shown in cards:
        shown.url = product_url(shown.slug)
        shown.may_move = shown.pk in movable
        shown.checklist = gates.get(shown.pk)
        if shown.may_move:
            # The filters ride along, so the answer (or the redirect without JavaScript) keeps them.
            shown.move_url = f"{move_url(shown.slug)}?{board_query}" if board_query else move_url(shown.slug)
    return {
        "form": form,
        "regions": {"results": "board-region", "body": "board-body"},
        "active_filters": active,
        "filter_query": filter_query,
        "board_url": reverse("lifecycle:board"),
        # Each column with its cards' Move control, rendered once for all of them.
        "columns": [
            (column, column_move_form(request, column.stage) if any(c.may_move for c in column.cards) else "")
            for column in columns
        ],
        "total": sum(column.count for column in columns),
        "movable": movable,
        "moved_id": card.pk if card and moved else None,
        "region_request": region,
    }


@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def board(request: HttpRequest) -> HttpResponse:
    region = region_requested(request, BOARD_REGIONS)
    context = board_context(request, region=region == "board-region")
    return render_region(request, BOARD, region, context)


@require_POST
@vary_on_headers("HX-Request")
def move(request: HttpRequest, slug: str) -> HttpResponse:
    """Move one product to another stage. The board's filters ride along in the query string."""
    product = access_product(request.user, slug, action="move_stage")
    form = StageMoveForm(request.POST)
    transition = form.move(product=product, by=request.user)
    if transition is not None:
        announce_move(request, transition, product)
        if is_htmx(request):
            context = board_context(request, card=product, moved=True, region=True)
            response = render(request, f"{BOARD}#move-result", context)
            return retarget(reswap(response, "outerHTML"), "#board-region")
        query = raw_filter_query(request)
        return redirect(f"{reverse('lifecycle:board')}{'?' + query if query else ''}#card-{product.slug}")

    if is_htmx(request):
        # 200, so htmx swaps it into the form's own target with its default response handling.
        refused = BoardCard.from_product(product)
        refused.move_url, refused.may_move, refused.move_form = request.get_full_path(), True, form
        return render(request, f"{BOARD}#move-form", {"card": refused, **move_targets(product.stage)})
    # Without JavaScript: the whole board again, this card's form open with the error and the input kept.
    context = board_context(request, card=product)
    cards = (shown for column, _ in context["columns"] for shown in column.cards)
    refused = next((shown for shown in cards if shown.pk == product.pk), None)
    if refused is None:  # filtered out meanwhile: say it at the top
        messages.error(request, " ".join(error for errors in form.errors.values() for error in errors))
    else:
        refused.move_form = form
        context.update(move_targets(product.stage))
    return render(request, BOARD, context, status=422)
