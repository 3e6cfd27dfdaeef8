"""A product's lifecycle work section and its in-place add, edit and delete."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from lifecycle.forms import StageMoveForm, announce_move
from lifecycle.services import work_product_delete, work_product_save
from lifecycle.work.forms import work_form
from lifecycle.work.kinds import KINDS_BY_SLUG, WorkKind
from lifecycle.work.selectors import WorkBlock, product_work, work_product_get
from products.choices import Stage
from products.models import Product
from products.permissions import access_product
from spm.web.regions import is_htmx

# ------------------------------------------------------------------------------------------------------------
# The product page's "Lifecycle work" section: work products added, edited and deleted in place (htmx swaps the
# section), the current stage's checklist, and the stage move. Without JavaScript every form posts and
# redirects back to the product page, or shows the form alone with its errors.
# ------------------------------------------------------------------------------------------------------------

WORK = "lifecycle/includes/work_section.html"
WORK_FORM_PAGE = "lifecycle/work_form.html"
WORK_PAGE = "lifecycle/work.html"


# The one-to-one work sheets, joined for a section read at once (not after a write, which would leave them stale).
WITH_SHEETS = Product.objects.select_related(
    "portfolio", "portfolio__director", "owner", "problem", "opportunity", "mvp", "strategy"
)


def _kind(kind: str) -> WorkKind:
    if kind not in KINDS_BY_SLUG:
        raise Http404("No such kind of work product.")
    return KINDS_BY_SLUG[kind]


def _work_section(
    request: HttpRequest,
    product: Product,
    *,
    open_stage: str | None = None,
    editing: tuple[str, int, object] | None = None,
    deleting: tuple[str, int] | None = None,
    adding: tuple[str, object] | None = None,
    move_form: StageMoveForm | None = None,
) -> HttpResponse:
    """The section, re-read after a change: ``editing`` (kind, pk, form) opens one row's edit form, ``deleting``
    (kind, pk) asks to confirm deleting one row, ``adding`` (kind, form) keeps a refused add form with its
    errors, ``move_form`` a refused move."""
    work = product_work(product=product, user=request.user, open_stage=open_stage, form_factory=work_form)
    if editing:
        slug, pk, form = editing
        for entry in work.block(slug).entries:
            if entry.instance.pk == pk:
                entry.form = form
    if deleting:
        slug, pk = deleting
        for entry in work.block(slug).entries:
            if entry.instance.pk == pk:
                entry.confirm_delete = True
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
    product = access_product(request.user, slug, action="view", queryset=WITH_SHEETS)
    stage = request.GET.get("stage", "")
    open_stage = stage if stage in Stage.values else None
    if is_htmx(request):
        return _work_section(request, product, open_stage=open_stage)
    work = product_work(product=product, user=request.user, open_stage=open_stage, form_factory=work_form)
    return render(request, WORK_PAGE, {"lifecycle_work": work, "product": product})


def _autofocus(form):
    """Mark the field the eye goes to in a form shown in place: its first field with a problem, else its first
    field. htmx focuses an ``autofocus`` element after the swap (and the browser scrolls it into view)."""
    names = [name for name in form.errors if name in form.fields] or [
        name for name, field in form.fields.items() if not field.widget.is_hidden
    ]
    if names:
        form.fields[names[0]].widget.attrs["autofocus"] = True
    return form


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def work_add(request: HttpRequest, slug: str, kind: str) -> HttpResponse:
    """Add a work product (a sheet: write it, creating it the first time)."""
    product, work_kind = access_product(request.user, slug, action="edit_work"), _kind(kind)
    instance = work_product_get(product=product, kind=work_kind, pk=None) if work_kind.sheet else None
    if request.method == "GET":
        form = work_form(kind, product=product, instance=instance)
        if is_htmx(request):  # a closed stage's "Add" link: the form in place, open, its first field focused
            block = WorkBlock(
                kind=work_kind, product=product, entries=[], may_edit=True, form=_autofocus(form)
            )
            context = {"product": product, "kind": work_kind, "block": block, "opened": True}
            return render(request, f"{WORK}#add-form", context)
        return render(request, WORK_FORM_PAGE, {"product": product, "kind": work_kind, "form": form})
    form = work_form(kind, product=product, instance=instance, data=request.POST)
    if form.is_valid():
        saved = work_product_save(product=product, instance=form.save(commit=False), by=request.user)
        messages.success(request, f"Saved {work_kind.label.lower()}: {saved}.")
        if is_htmx(request):
            return _work_section(request, product, open_stage=work_kind.stage)
        return _back_to_product(product, work_kind.stage)
    if is_htmx(request):
        return _work_section(request, product, open_stage=work_kind.stage, adding=(kind, _autofocus(form)))
    context = {"product": product, "kind": work_kind, "form": form}
    return render(request, WORK_FORM_PAGE, context, status=422)


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def work_edit(request: HttpRequest, slug: str, kind: str, pk: int) -> HttpResponse:
    """Edit one work product: its form in place (GET), saving it (POST)."""
    product, work_kind = access_product(request.user, slug, action="edit_work"), _kind(kind)
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
        if is_htmx(request):
            return _work_section(request, product, open_stage=work_kind.stage)
        return _back_to_product(product, work_kind.stage)
    if is_htmx(request):
        editing = (kind, pk, _autofocus(form))
        return _work_section(request, product, open_stage=work_kind.stage, editing=editing)
    context = {"product": product, "kind": work_kind, "form": form, "instance": instance}
    return render(request, WORK_FORM_PAGE, context, status=422 if request.method == "POST" else 200)


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def work_delete(request: HttpRequest, slug: str, kind: str, pk: int) -> HttpResponse:
    """Delete one work product: first a step that names it and asks (GET: in place, or a page of its own
    without JavaScript), then the deletion (POST, from that step's button)."""
    product, work_kind = access_product(request.user, slug, action="edit_work"), _kind(kind)
    try:
        instance = work_product_get(product=product, kind=work_kind, pk=pk)
    except work_kind.model.DoesNotExist:
        raise Http404("No such work product on this product.") from None
    if instance is None or instance.pk != pk or work_kind.sheet:
        raise Http404("No such work product on this product.")
    if request.method == "GET":
        if is_htmx(request):
            return _work_section(request, product, open_stage=work_kind.stage, deleting=(kind, pk))
        context = {"product": product, "kind": work_kind, "instance": instance, "deleting": True}
        return render(request, WORK_FORM_PAGE, context)
    work_product_delete(product=product, instance=instance, by=request.user)
    messages.success(request, f"Deleted {work_kind.label.lower()}: {instance}.")
    if is_htmx(request):
        return _work_section(request, product, open_stage=work_kind.stage)
    return _back_to_product(product, work_kind.stage)


@require_POST
@vary_on_headers("HX-Request")
def product_move(request: HttpRequest, slug: str) -> HttpResponse:
    """Move a product from its page: the same service and rules as the board. Done: the page again (htmx
    reloads it, as the header shows the stage); refused: the section with the form, its errors, the unmet
    criteria and, for directors and VPs, the override reason."""
    product = access_product(request.user, slug, action="move_stage")
    form = StageMoveForm(request.POST)
    transition = form.move(product=product, by=request.user)
    if transition is not None:
        announce_move(request, transition, product)
        if is_htmx(request):
            # The whole page shows the stage (its header, the timeline): reload whichever page this is.
            response = HttpResponse(status=204)
            response["HX-Refresh"] = "true"
            return response
        return redirect(f"{product.get_absolute_url()}#lifecycle-work")
    if is_htmx(request):
        return _work_section(request, product, move_form=form)
    context = {"product": product, "move_form": form, "gate_refusal": form.gate_refusal}
    return render(request, WORK_FORM_PAGE, context, status=422)
