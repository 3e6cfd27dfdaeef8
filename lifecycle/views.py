"""The lifecycle board: one URL for the page and its region; moves POST to their own URL and answer with the
refreshed region (htmx) or a redirect back to the board (plain form). Below it, the product page's lifecycle
work (work products and the stage move), and the lifecycle analytics."""

from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import reswap, retarget

from lifecycle import charts
from lifecycle.analytics import lifecycle_analytics
from lifecycle.exports import analytics_csv_response
from lifecycle.forms import AnalyticsFilterForm, StageMoveForm, work_form
from lifecycle.selectors import (
    BoardCard,
    WorkBlock,
    board_columns,
    checklists,
    product_work,
    stages_around,
    work_product_get,
)
from lifecycle.services import StageMoveRefused, product_move_stage, work_product_delete, work_product_save
from lifecycle.work import KINDS_BY_SLUG, WorkKind
from portfolio.selectors import portfolios
from products.forms import ProductFilterForm
from products.models import Product, Stage
from products.permissions import can_edit_product, can_move_stage, product_ids_user_may_edit
from products.selectors import owners

BOARD = "lifecycle/board.html"


# Regions an htmx request may ask for, by the id of its target (HX-Target): a filter or a move swaps the
# board, "clear filters" swaps the filter bar with the board.
BOARD_REGIONS = ("board-region", "board-body")


def is_region_request(request: HttpRequest) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


def region_requested(request: HttpRequest) -> str | None:
    """The region an htmx GET targets, or None for the whole page (also on a history restore)."""
    if not is_region_request(request):
        return None
    return request.htmx.target if request.htmx.target in BOARD_REGIONS else None


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


def stage_options(stage: str) -> str:
    return render_to_string(f"{BOARD}#stage-options", move_targets(stage))


def board_context(
    request: HttpRequest, *, card: Product | None = None, moved: bool = False, region: bool = False
) -> dict:
    """Filters from the query string, the columns they select and which cards this user may move.

    ``card`` is a product shown whatever its place in its column (the one just moved, or whose move
    was refused); ``region`` adds the out-of-band summary to an htmx answer of the board region alone."""
    form = ProductFilterForm(
        request.GET,
        portfolios=portfolios().only("slug", "name"),
        owners=owners().only("username", "first_name", "last_name"),
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
        # Each column with its Move <option>s, rendered once for all its cards.
        "columns": [
            (column, stage_options(column.stage) if any(c.may_move for c in column.cards) else "")
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
    region = region_requested(request)
    context = board_context(request, region=region == "board-region")
    return render(request, f"{BOARD}#{region}" if region else BOARD, context)


@require_POST
@vary_on_headers("HX-Request")
def move(request: HttpRequest, slug: str) -> HttpResponse:
    """Move one product to another stage. The board's filters ride along in the query string."""
    product = get_object_or_404(Product.objects.select_related("portfolio", "owner"), slug=slug)
    if not can_move_stage(request.user, product):
        raise PermissionDenied("You may not move this product between stages.")
    form = StageMoveForm(request.POST)
    if form.is_valid():
        try:
            transition = product_move_stage(
                product=product,
                to=form.cleaned_data["to"],
                by=request.user,
                note=form.cleaned_data["note"],
                override_reason=form.cleaned_data["override_reason"],
            )
        except StageMoveRefused as refusal:
            form.add_refusal(refusal)
        else:
            from_stage, to_stage = Stage(transition.from_stage), Stage(transition.to_stage)
            messages.success(request, f"Moved {product.name} from {from_stage.label} to {to_stage.label}.")
            if transition.gate_overridden:
                messages.warning(
                    request,
                    f"Gate overridden: {len(transition.unmet_criteria)} unmet criteri"
                    f"{'on' if len(transition.unmet_criteria) == 1 else 'a'} recorded with your reason.",
                )
            if is_region_request(request):
                context = board_context(request, card=product, moved=True, region=True)
                response = render(request, f"{BOARD}#move-result", context)
                return retarget(reswap(response, "outerHTML"), "#board-region")
            query = raw_filter_query(request)
            return redirect(f"{reverse('lifecycle:board')}{'?' + query if query else ''}#card-{product.slug}")

    if is_region_request(request):
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


# ------------------------------------------------------------------------------------------------------------
# The product page's "Lifecycle work" section: work products added, edited and deleted in place (htmx swaps the
# section), the current stage's checklist, and the stage move. Without JavaScript every form posts and
# redirects back to the product page, or shows the form alone with its errors.
# ------------------------------------------------------------------------------------------------------------

WORK = "lifecycle/includes/work_section.html"
WORK_FORM_PAGE = "lifecycle/work_form.html"
WORK_PAGE = "lifecycle/work.html"


def _product(slug: str, *, sheets: bool = False) -> Product:
    """The product with its portfolio and owner; ``sheets``: with its one-to-one work sheets too, for a section
    read at once (not after a write, which would leave them stale)."""
    related = ("portfolio", "owner", *(("problem", "opportunity", "mvp", "strategy") if sheets else ()))
    return get_object_or_404(Product.objects.select_related(*related), slug=slug)


def _kind(kind: str) -> WorkKind:
    if kind not in KINDS_BY_SLUG:
        raise Http404("No such kind of work product.")
    return KINDS_BY_SLUG[kind]


def _editable_product(request: HttpRequest, slug: str) -> Product:
    product = _product(slug)
    if not can_edit_product(request.user, product):
        raise PermissionDenied("You may not edit this product's lifecycle work.")
    return product


def _work_section(
    request: HttpRequest,
    product: Product,
    *,
    open_stage: str | None = None,
    editing: tuple[str, int, object] | None = None,
    adding: tuple[str, object] | None = None,
    move_form: StageMoveForm | None = None,
) -> HttpResponse:
    """The section, re-read after a change: ``editing`` (kind, pk, form) opens one row's edit form, ``adding``
    (kind, form) keeps a refused add form with its errors, ``move_form`` a refused move."""
    work = product_work(product=product, user=request.user, open_stage=open_stage)
    if editing:
        slug, pk, form = editing
        for entry in work.block(slug).entries:
            if entry.instance.pk == pk:
                entry.form = form
    if adding:
        slug, form = adding
        work.block(slug).form = form
    work.move_form = move_form
    return render(request, WORK, {"lifecycle_work": work, "product": product})


def _back_to_product(product: Product, stage: str) -> HttpResponse:
    return redirect(f"{reverse('lifecycle:work', kwargs={'slug': product.slug})}#work-{stage}")


@require_GET
@vary_on_headers("HX-Request")
def work(request: HttpRequest, slug: str) -> HttpResponse:
    """Every stage's work of a product: the section alone for htmx (the product page loads it as it scrolls
    into view; a cancelled edit reloads it), or a page of its own."""
    product = _product(slug, sheets=True)
    stage = request.GET.get("stage", "")
    open_stage = stage if stage in Stage.values else None
    if is_region_request(request):
        return _work_section(request, product, open_stage=open_stage)
    work = product_work(product=product, user=request.user, open_stage=open_stage)
    return render(request, WORK_PAGE, {"lifecycle_work": work, "product": product})


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def work_add(request: HttpRequest, slug: str, kind: str) -> HttpResponse:
    """Add a work product (a sheet: write it, creating it the first time)."""
    product, work_kind = _editable_product(request, slug), _kind(kind)
    instance = work_product_get(product=product, kind=work_kind, pk=None) if work_kind.sheet else None
    if request.method == "GET":
        form = work_form(kind, product=product, instance=instance)
        if is_region_request(request):  # a closed stage's "Add" link: the form in place, open
            block = WorkBlock(kind=work_kind, product=product, entries=[], may_edit=True, form=form)
            context = {"product": product, "kind": work_kind, "block": block, "opened": True}
            return render(request, f"{WORK}#add-form", context)
        return render(request, WORK_FORM_PAGE, {"product": product, "kind": work_kind, "form": form})
    form = work_form(kind, product=product, instance=instance, data=request.POST)
    if form.is_valid():
        saved = work_product_save(product=product, instance=form.save(commit=False), by=request.user)
        messages.success(request, f"Saved {work_kind.label.lower()}: {saved}.")
        if is_region_request(request):
            return _work_section(request, product, open_stage=work_kind.stage)
        return _back_to_product(product, work_kind.stage)
    if is_region_request(request):
        return _work_section(request, product, open_stage=work_kind.stage, adding=(kind, form))
    context = {"product": product, "kind": work_kind, "form": form}
    return render(request, WORK_FORM_PAGE, context, status=422)


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def work_edit(request: HttpRequest, slug: str, kind: str, pk: int) -> HttpResponse:
    """Edit one work product: its form in place (GET), saving it (POST)."""
    product, work_kind = _editable_product(request, slug), _kind(kind)
    try:
        instance = work_product_get(product=product, kind=work_kind, pk=pk)
    except work_kind.model.DoesNotExist:
        raise Http404("No such work product on this product.") from None
    if instance is None or instance.pk != pk:
        raise Http404("No such work product on this product.")
    data = request.POST if request.method == "POST" else None
    form = work_form(kind, product=product, instance=instance, data=data)
    if request.method == "POST" and form.is_valid():
        saved = work_product_save(product=product, instance=form.save(commit=False), by=request.user)
        messages.success(request, f"Saved {work_kind.label.lower()}: {saved}.")
        if is_region_request(request):
            return _work_section(request, product, open_stage=work_kind.stage)
        return _back_to_product(product, work_kind.stage)
    if is_region_request(request):
        return _work_section(request, product, open_stage=work_kind.stage, editing=(kind, pk, form))
    context = {"product": product, "kind": work_kind, "form": form, "instance": instance}
    return render(request, WORK_FORM_PAGE, context, status=422 if request.method == "POST" else 200)


@require_POST
@vary_on_headers("HX-Request")
def work_delete(request: HttpRequest, slug: str, kind: str, pk: int) -> HttpResponse:
    product, work_kind = _editable_product(request, slug), _kind(kind)
    try:
        instance = work_product_get(product=product, kind=work_kind, pk=pk)
    except work_kind.model.DoesNotExist:
        raise Http404("No such work product on this product.") from None
    if instance is None or instance.pk != pk:
        raise Http404("No such work product on this product.")
    work_product_delete(product=product, instance=instance, by=request.user)
    messages.success(request, f"Deleted {work_kind.label.lower()}: {instance}.")
    if is_region_request(request):
        return _work_section(request, product, open_stage=work_kind.stage)
    return _back_to_product(product, work_kind.stage)


@require_POST
@vary_on_headers("HX-Request")
def product_move(request: HttpRequest, slug: str) -> HttpResponse:
    """Move a product from its page: the same service and rules as the board. Done: the page again (htmx
    reloads it, as the header shows the stage); refused: the section with the form, its errors, the unmet
    criteria and, for directors and VPs, the override reason."""
    product = _product(slug)
    if not can_move_stage(request.user, product):
        raise PermissionDenied("You may not move this product between stages.")
    form = StageMoveForm(request.POST)
    if form.is_valid():
        try:
            transition = product_move_stage(
                product=product,
                to=form.cleaned_data["to"],
                by=request.user,
                note=form.cleaned_data["note"],
                override_reason=form.cleaned_data["override_reason"],
            )
        except StageMoveRefused as refusal:
            form.add_refusal(refusal)
        else:
            from_stage, to_stage = Stage(transition.from_stage), Stage(transition.to_stage)
            messages.success(request, f"Moved {product.name} from {from_stage.label} to {to_stage.label}.")
            if transition.gate_overridden:
                messages.warning(request, "Gate overridden: the unmet criteria and your reason are recorded.")
            if is_region_request(request):
                # The whole page shows the stage (its header, the timeline): reload whichever page this is.
                response = HttpResponse(status=204)
                response["HX-Refresh"] = "true"
                return response
            return redirect(f"{product.get_absolute_url()}#lifecycle-work")
    if is_region_request(request):
        return _work_section(request, product, move_form=form)
    context = {"product": product, "move_form": form, "gate_refusal": form.gate_refusal}
    return render(request, WORK_FORM_PAGE, context, status=422)


# ------------------------------------------------------------------------------------------------------------
# Lifecycle analytics: one URL for the page and its results region (a filter change swaps the results).
# ------------------------------------------------------------------------------------------------------------

ANALYTICS = "lifecycle/analytics.html"
ANALYTICS_REGIONS = ("analytics-results",)


@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def analytics(request: HttpRequest) -> HttpResponse:
    """Funnel, conversion, time in stage, stuck products, overrides and cumulative flow for a window and a
    scope from the query string; ``?format=csv`` gives the per-stage numbers. Everyone signed in may see it: it
    shows no money."""
    form = AnalyticsFilterForm(request.GET or None, portfolios=portfolios().only("slug", "name"))
    filters = form.filters()
    report = lifecycle_analytics(filters)
    if request.GET.get("format") == "csv":
        return analytics_csv_response(
            report, filename=f"lifecycle-{filters.start:%Y-%m-%d}-{filters.end:%Y-%m-%d}.csv"
        )
    context = {
        "form": form,
        "report": report,
        "funnel_figure": charts.figure_json(charts.funnel(report.funnel, report.conversion)),
        "flow_figure": charts.figure_json(charts.cumulative_flow(report.flow)),
        "csv_query": urlencode(
            {
                "format": "csv",
                "start": filters.start.isoformat(),
                "end": filters.end.isoformat(),
                **{
                    name: getattr(filters, name)
                    for name in ("portfolio", "market", "focus")
                    if getattr(filters, name)
                },
            }
        ),
    }
    region = request.htmx.target if is_region_request(request) else None
    template = f"{ANALYTICS}#{region}" if region in ANALYTICS_REGIONS else ANALYTICS
    return render(request, template, context)
