"""Strategy pages: objectives and coverage, investment, priorities, roadmap, scenarios (docs/strategy.md).

Thin: parse the query string or form, ask ``portfolio.permissions``, call a selector or service, render the
page or (for htmx, chosen by HX-Target) one of its regions. ``?format=csv`` streams a page's tables.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from portfolio import investment, objectives, plan, prioritization, scenarios
from portfolio import permissions as strategy_permissions
from portfolio import strategy_charts as charts
from portfolio import strategy_exports as exports
from portfolio import strategy_forms as forms
from portfolio.charts import figure_json
from portfolio.models import Alignment, Objective, Portfolio, PriorityScore, Scenario, ScenarioLine
from portfolio.selectors import budget_scope, portfolios
from portfolio.templatetags.strategy_display import currency_symbol
from portfolio.views import region_requested
from products.models import Product, User
from products.permissions import PM_LEVEL, can_see_budget, is_leadership, product_ids_user_may_edit

PRODUCTS_PER_PAGE = 25
RANKED_PER_PAGE = 50
LINES_PER_PAGE = 50
BUBBLES = 300


def _render(request, template: str, region: str | None, context: dict, *, status: int = 200) -> HttpResponse:
    return render(request, f"{template}#{region}" if region else template, context, status=status)


def _htmx(request) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


def _filtered_products(filters: dict):
    products = Product.objects.all()
    for name, lookup in (
        ("portfolio", "portfolio__slug"),
        ("stage", "stage"),
        ("market", "market"),
        ("focus", "focus"),
    ):
        if filters.get(name):
            products = products.filter(**{lookup: filters[name]})
    return products


def _money_products(user, products):
    """Of ``products``, those whose money the user may see (lazy)."""
    visible = budget_scope(user)
    return products if visible is None else products.filter(pk__in=visible.values("pk"))


def _currency() -> str:
    return currency_symbol().strip()


# ==========================================================================================================
# Objectives and coverage
# ==========================================================================================================

OBJECTIVES = "portfolio/strategy/objectives.html"
OBJECTIVE_REGIONS = ("objectives-results",)


@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def objective_list(request: HttpRequest) -> HttpResponse:
    """Objectives with key results and aligned products, and the gaps: objectives without a product behind
    them, products that serve no objective. ``?format=csv`` (``table=unaligned`` for the products)."""
    all_portfolios = list(portfolios())
    form = forms.ObjectiveFilterForm(request.GET, portfolios=all_portfolios)
    filters = form.cleaned_or_default()
    portfolio = next((p for p in all_portfolios if p.slug == filters.get("portfolio")), None)
    products = _filtered_products(filters)
    quarters = investment.year_quarters(timezone.localdate().year)
    money_products = _money_products(request.user, products)
    funding, funding_total = investment.objective_funding(products=money_products, quarters=quarters)
    view = objectives.coverage(portfolio=portfolio, products=products, funding=funding)
    if request.GET.get("format") == "csv":
        if request.GET.get("table") == "unaligned":
            return exports.unaligned_csv(view.unaligned_products)
        return exports.objectives_csv(view.objectives)
    paginator = Paginator(
        view.unaligned_products.select_related("portfolio").only("slug", "name", "stage", "portfolio__name"),
        PRODUCTS_PER_PAGE,
    )
    paginator.count = view.unaligned_count  # counted with the products in view already
    page = paginator.get_page(filters["page"])
    shown = [aligned[4] for item in view.objectives for aligned in item.aligned]
    context = {
        "form": form,
        "coverage": view,
        "unaligned_page": page,
        "editable_ids": product_ids_user_may_edit(request.user, shown),
        "funding_year": quarters[0].year,
        "funding_total": funding_total,
        "shows_money": money_products is products or money_products.exists(),
        # Anyone who may edit some product sees the form; the POST checks this product and objective.
        "can_align_any": is_leadership(request.user) or request.user.role in PM_LEVEL,
    }
    return _render(request, OBJECTIVES, region_requested(request, OBJECTIVE_REGIONS), context)


def _align_target(request, objective: Objective) -> tuple[Product, int]:
    form = forms.AlignmentForm(request.POST)
    if not form.is_valid():
        raise objectives.AlignmentInvalid(" ".join(e for errors in form.errors.values() for e in errors))
    text = form.cleaned_data["product"].strip()
    product = (
        Product.objects.select_related("portfolio")
        .filter(Q(slug=text) | Q(name__iexact=text))
        .order_by("pk")
        .first()
    )
    if product is None:
        raise objectives.AlignmentInvalid(f"No product called “{text}”.")
    return product, form.cleaned_data["weight"]


def _alignment_answer(request, objective: Objective, *, level: str, text: str) -> HttpResponse:
    """After an alignment write: for htmx, the objective's card again (with a note); otherwise back to the page
    with a message."""
    if not _htmx(request):
        getattr(messages, level)(request, text)
        return redirect(f"{reverse('portfolio:objectives')}#objective-{objective.pk}")
    products = Product.objects.all()
    quarters = investment.year_quarters(timezone.localdate().year)
    money_products = _money_products(request.user, products)
    funding, _ = investment.objective_funding(products=money_products, quarters=quarters)
    view = objectives.coverage(portfolio=objective.portfolio, products=products, funding=funding)
    card = next(item for item in view.objectives if item.objective.pk == objective.pk)
    shown = [aligned[4] for aligned in card.aligned]
    context = {
        "view": card,
        "editable_ids": product_ids_user_may_edit(request.user, shown),
        "funding_year": quarters[0].year,
        "shows_money": money_products is products or money_products.exists(),
        "can_align_any": True,
        "card_note": {"level": "success" if level == "success" else "error", "text": text},
    }
    return render(request, f"{OBJECTIVES}#objective-card", context)


@require_POST
@vary_on_headers("HX-Request")
def alignment_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Align a product to this objective (or change its weight). Editors of the product only."""
    objective = get_object_or_404(Objective.objects.select_related("portfolio"), pk=pk)
    try:
        product, weight = _align_target(request, objective)
    except objectives.AlignmentInvalid as error:
        return _alignment_answer(request, objective, level="error", text=str(error))
    if not strategy_permissions.can_align(request.user, product, objective):
        raise PermissionDenied("You may not align this product to that objective.")
    try:
        objectives.alignment_set(product=product, objective=objective, weight=weight, by=request.user)
    except objectives.AlignmentInvalid as error:
        return _alignment_answer(request, objective, level="error", text=str(error))
    return _alignment_answer(
        request,
        objective,
        level="success",
        text=f"{product.name} now serves “{objective.title}” at {weight}%.",
    )


@require_POST
@vary_on_headers("HX-Request")
def alignment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    alignment = get_object_or_404(Alignment.objects.select_related("product__portfolio", "objective"), pk=pk)
    if not strategy_permissions.can_align(request.user, alignment.product, alignment.objective):
        raise PermissionDenied("You may not change this product's alignment.")
    objectives.alignment_remove(alignment=alignment, by=request.user)
    objective = Objective.objects.select_related("portfolio").get(pk=alignment.objective_id)
    text = f"{alignment.product.name} no longer serves “{objective.title}”."
    return _alignment_answer(request, objective, level="success", text=text)


# ==========================================================================================================
# Investment
# ==========================================================================================================

INVESTMENT = "portfolio/strategy/investment.html"
INVESTMENT_REGIONS = ("investment-results", "investment-products")
PRODUCT_BUDGET = "portfolio/strategy/product_budget.html"


@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def investment_overview(request: HttpRequest) -> HttpResponse:
    """Planned budget and actual spend per quarter, rolled up by portfolio, objective, stage, focus, market or
    quarter; burn against plan; the products furthest over plan. Money of products the user may see only."""
    today = timezone.localdate()
    form = forms.InvestmentFilterForm(
        request.GET, portfolios=portfolios(), years=investment.line_years(), current_year=today.year
    )
    filters = form.cleaned_or_default()
    quarters = investment.year_quarters(filters["year"])
    products = _money_products(request.user, _filtered_products(filters))
    dimension = filters["dimension"]
    if request.GET.get("format") == "csv":
        if request.GET.get("table") == "products":
            values = investment.product_money_rows(products=products, quarters=quarters, today=today)
            return exports.product_money_csv(values, quarters=quarters, today=today)
        rows = investment.investment_rollup(
            products=products, quarters=quarters, dimension=dimension, today=today
        )
        return exports.money_csv(rows, dimension=dimension, quarters=quarters)
    region = region_requested(request, INVESTMENT_REGIONS)
    paginator = Paginator(
        investment.product_money_rows(products=products, quarters=quarters, today=today), PRODUCTS_PER_PAGE
    )
    # A plain count of the grouped rows would aggregate every line a second time.
    paginator.count = investment.products_with_lines(products=products, quarters=quarters)
    page = paginator.get_page(filters["page"])
    overview = None
    if region != "investment-products" and dimension == "objective":
        # The split, the quarter chart and this page of products from one pass over the lines.
        overview = investment.objective_overview(
            products=products,
            quarters=quarters,
            offset=(page.number - 1) * PRODUCTS_PER_PAGE,
            limit=PRODUCTS_PER_PAGE,
            today=today,
        )
        page.object_list = overview.product_values
    product_rows = [
        investment.money_row(values, quarters=quarters, today=today) for values in page.object_list
    ]
    context = {"form": form, "page": page, "product_rows": product_rows, "quarters": quarters}
    if region != "investment-products":
        if overview is not None:
            rows, by_quarter = overview.rows, overview.by_quarter
        else:
            rows, by_quarter = investment.rollup_with_quarters(
                products=products, quarters=quarters, dimension=dimension, today=today
            )
        totals = investment.totals_of(rows, fraction=investment.current_fraction(quarters, today))
        context.update(
            rows=rows,
            totals=totals,
            dimension_label=investment.DIMENSIONS[dimension],
            allocation=figure_json(
                charts.allocation_donut(
                    rows=rows, currency=_currency(), title=f"Planned {filters['year']} by {dimension}"
                )
            )
            if totals.planned
            else "",
            burn=figure_json(charts.budget_vs_actual(rows=by_quarter, currency=_currency()))
            if by_quarter
            else "",
            restricted=budget_scope(request.user) is not None,
        )
    return _render(request, INVESTMENT, region, context)


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def product_budget(request: HttpRequest, slug: str) -> HttpResponse:
    """One product's quarterly budget lines; leadership of its portfolio edits them (POST one line)."""
    product = get_object_or_404(Product.objects.select_related("portfolio", "owner"), slug=slug)
    if not can_see_budget(request.user, product):
        raise PermissionDenied("This product's budget is not shared with you.")
    can_edit = strategy_permissions.can_edit_budget(request.user, product)
    form = forms.BudgetLineForm(
        initial={"quarter": investment.quarter_start(timezone.localdate()), "kind": "opex"}
    )
    status = 200
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("Only leadership of this portfolio changes its budget.")
        form = forms.BudgetLineForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            line = investment.budget_line_set(
                product=product,
                quarter=data["quarter"],
                kind=data["kind"],
                planned=data["planned"],
                actual=data["actual"] if data["actual"] is not None else investment.ZERO,
                by=request.user,
            )
            messages.success(
                request, f"Saved {investment.quarter_label(line.quarter)} {line.get_kind_display().lower()}."
            )
            if not _htmx(request):
                return redirect("portfolio:product-budget", slug=product.slug)
            form = forms.BudgetLineForm(initial={"quarter": data["quarter"], "kind": data["kind"]})
        else:
            status = 400 if not _htmx(request) else 200
    lines = investment.product_quarter_lines(product=product)
    if request.method == "GET" and request.GET.get("format") == "csv":
        return exports.budget_lines_csv(product, lines)
    context = {
        "product": product,
        "lines": lines,
        "form": form,
        "can_edit": can_edit,
        "totals": {
            "planned": sum((line.planned for line in lines), investment.ZERO),
            "actual": sum((line.actual for line in lines), investment.ZERO),
        },
        "quarter_label": investment.quarter_label,
    }
    region = "budget-lines" if _htmx(request) else None
    return _render(request, PRODUCT_BUDGET, region, context, status=status)


# ==========================================================================================================
# Priorities
# ==========================================================================================================

PRIORITIES = "portfolio/strategy/priorities.html"
PRIORITY_REGIONS = ("priorities-results", "priority-table")


@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def priority_list(request: HttpRequest) -> HttpResponse:
    """Products ranked by RICE or WSJF with the scoring shown, a value-vs-effort bubble chart, inline edits."""
    form = forms.PriorityFilterForm(request.GET, portfolios=portfolios())
    filters = form.cleaned_or_default()
    rank = filters["rank"]
    products = _filtered_products(filters)
    ranked = prioritization.ranked_scores(products=products, by=rank)
    if request.GET.get("format") == "csv":
        return exports.priorities_csv(ranked, rank=rank)
    page = Paginator(ranked, RANKED_PER_PAGE).get_page(filters["page"])
    start = page.start_index() if page.paginator.count else 1
    rows = [prioritization.RankedRow(rank=start + i, score=score) for i, score in enumerate(page.object_list)]
    editable = product_ids_user_may_edit(request.user, [row.score.product_id for row in rows])
    region = region_requested(request, PRIORITY_REGIONS)
    context = {"form": form, "page": page, "rows": rows, "rank": rank, "editable_ids": editable}
    if region != "priority-table":
        # Plain values for the chart: a few hundred model instances would cost more than the query.
        top = list(ranked.values_list("product__name", "effort", "rice", "wsjf", "reach")[:BUBBLES])
        unscored = products.filter(priority__isnull=True).order_by("name", "pk")
        unscored_first = list(unscored.only("slug", "name")[:10])
        context.update(
            bubbles=figure_json(charts.value_effort_bubbles(rows=top, rank=rank)) if top else "",
            bubble_count=len(top),
            unscored=unscored_first,
            unscored_count=unscored.count() if unscored_first else 0,
            unscored_editable=product_ids_user_may_edit(request.user, [p.pk for p in unscored_first]),
        )
    return _render(request, PRIORITIES, region, context)


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def priority_edit(request: HttpRequest, slug: str) -> HttpResponse:
    """A product's RICE and WSJF inputs: the inline row form (GET), saving it (POST). Product editors only."""
    product = get_object_or_404(Product.objects.select_related("portfolio"), slug=slug)
    if not strategy_permissions.can_edit_priority(request.user, product):
        raise PermissionDenied("You may not score this product.")
    score = PriorityScore.objects.filter(product=product).first()
    htmx = _htmx(request)
    if request.method == "GET":
        initial = {}
        if score is not None:
            initial = {name: getattr(score, name) for name in prioritization.SCORE_FIELDS}
            initial["impact"] = next(
                (f"{c}" for c in prioritization.IMPACT_CHOICES if c == score.impact), "1"
            )
        form = forms.PriorityScoreForm(initial=initial or {"confidence": 80, "impact": "1"})
        context = {
            "product": product,
            "score": score,
            "score_form": form,
            "rank_no": request.GET.get("rank_no"),
        }
        return _render(
            request, "portfolio/strategy/priority_edit.html", "priority-form" if htmx else None, context
        )
    form = forms.PriorityScoreForm(request.POST)
    if not form.is_valid():
        context = {
            "product": product,
            "score": score,
            "score_form": form,
            "rank_no": request.POST.get("rank_no"),
        }
        return _render(
            request,
            "portfolio/strategy/priority_edit.html",
            "priority-form" if htmx else None,
            context,
            status=200 if htmx else 400,
        )
    values = {name: form.cleaned_data[name] for name in prioritization.SCORE_FIELDS}
    score = prioritization.priority_score_set(product=product, values=values, by=request.user)
    if htmx:
        row = prioritization.RankedRow(rank=request.POST.get("rank_no") or "\u2013", score=score)
        response = render(
            request,
            "portfolio/strategy/priorities.html#priority-row",
            {"row": row, "editable_ids": {product.pk}, "rank": request.POST.get("rank") or "rice"},
        )
        return response
    messages.success(request, f"Saved the scores of {product.name}: RICE {score.rice}, WSJF {score.wsjf}.")
    return redirect(f"{reverse('portfolio:priorities')}")


# ==========================================================================================================
# Scenarios
# ==========================================================================================================

SCENARIOS = "portfolio/strategy/scenarios.html"
SCENARIO = "portfolio/strategy/scenario.html"
SCENARIO_REGIONS = ("scenario-summary", "scenario-lines")


def _require_scenarios(request) -> None:
    if not strategy_permissions.can_view_scenarios(request.user):
        raise PermissionDenied("Scenarios are for directors and VPs.")


def _plannable(user) -> list[Portfolio]:
    return [p for p in portfolios() if strategy_permissions.can_plan_portfolio(user, p)]


@require_http_methods(["GET", "POST"])
def scenario_list(request: HttpRequest) -> HttpResponse:
    """Every scenario, newest first, the plan's history, and (POST) a new scenario copied from the live plan."""
    _require_scenarios(request)
    plannable = _plannable(request.user)
    organisation = strategy_permissions.can_plan_portfolio(request.user, None)
    form = forms.ScenarioCreateForm(portfolios=plannable, organisation=organisation)
    status = 200
    if request.method == "POST":
        form = forms.ScenarioCreateForm(request.POST, portfolios=plannable, organisation=organisation)
        if not plannable and not organisation:
            raise PermissionDenied("You direct no portfolio to plan.")
        if form.is_valid():
            data = form.cleaned_data
            if not strategy_permissions.can_plan_portfolio(request.user, data["portfolio"]):
                raise PermissionDenied("You may not plan that portfolio.")
            scenario = scenarios.scenario_create_from_live(
                name=data["name"],
                portfolio=data["portfolio"],
                by=request.user,
                description=data["description"],
            )
            messages.success(request, f"Created “{scenario.name}” from the live plan.")
            return redirect(scenario)
        status = 400
    listed = scenarios.scenario_list(user=request.user)
    if request.GET.get("format") == "csv":
        if request.GET.get("table") == "history":
            return exports.plan_history_csv(plan.plan_changes())
        return exports.scenarios_csv(listed)
    context = {
        "form": form,
        "can_create": bool(plannable) or organisation,
        "scenarios": list(listed[:100]),
        "history": plan.plan_history(limit=15),
    }
    return render(request, SCENARIOS, context, status=status)


def _scenario(request, pk: int) -> Scenario:
    _require_scenarios(request)
    return get_object_or_404(Scenario.objects.select_related("portfolio", "created_by", "decided_by"), pk=pk)


def _scenario_context(
    request, scenario: Scenario, *, page_number=1, changed_only=False, lines_only=False, **extra
) -> dict:
    """The scenario page's context; ``lines_only`` for the lines region alone (no summary, no forms)."""
    lines = scenarios.scenario_lines(scenario=scenario, changed_only=changed_only)
    quarters = scenarios.horizon(scenario)
    context = {
        "scenario": scenario,
        "horizon_label": f"{investment.quarter_label(quarters[0])} - {investment.quarter_label(quarters[-1])}",
        "page": Paginator(lines, LINES_PER_PAGE).get_page(page_number),
        "changed_only": changed_only,
        "can_edit": scenario.is_draft and strategy_permissions.can_edit_scenario(request.user, scenario),
        "conflict": None,
    }
    if not lines_only:
        summary = scenarios.scenario_summary(scenario=scenario)
        scope_portfolios = [scenario.portfolio] if scenario.portfolio else list(portfolios())
        context.update(
            summary=summary,
            funding_figure=figure_json(
                charts.objective_funding(objectives=summary.objectives, currency=_currency())
            )
            if summary.objectives
            else "",
            new_product_form=forms.ScenarioNewProductForm(
                portfolios=scope_portfolios, objectives=summary.scope_objectives
            ),
        )
    context.update(extra)
    return context


@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def scenario_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The scenario beside the live plan, its lines (changed only with ?changed=1), and its controls."""
    scenario = _scenario(request, pk)
    if request.GET.get("format") == "csv":
        if request.GET.get("table") == "funding":
            return exports.scenario_funding_csv(scenarios.scenario_summary(scenario=scenario))
        return exports.scenario_lines_csv(scenarios.scenario_lines(scenario=scenario))
    region = region_requested(request, SCENARIO_REGIONS)
    context = _scenario_context(
        request,
        scenario,
        page_number=request.GET.get("page") or 1,
        changed_only=request.GET.get("changed") == "1",
        lines_only=region == "scenario-lines",
    )
    return _render(request, SCENARIO, region, context)


def _editable_scenario(request, pk: int) -> Scenario:
    scenario = _scenario(request, pk)
    if not strategy_permissions.can_edit_scenario(request.user, scenario):
        raise PermissionDenied("You may not change this scenario.")
    return scenario


def _after_edit(request, scenario: Scenario, *, region: str = "scenario-lines") -> HttpResponse:
    if not _htmx(request):
        return redirect(scenario)
    context = _scenario_context(
        request,
        scenario,
        page_number=request.POST.get("page") or 1,
        changed_only=request.POST.get("changed") == "1",
        lines_only=True,
    )
    response = _render(request, SCENARIO, region, context)
    response["HX-Trigger"] = "scenario-changed"
    return response


@require_POST
def scenario_line_update(request: HttpRequest, pk: int, line_pk: int) -> HttpResponse:
    """Change one line: its budget over the horizon (``planned``), or pause / resume it (``paused``)."""
    scenario = _editable_scenario(request, pk)
    line = get_object_or_404(ScenarioLine, pk=line_pk, scenario=scenario)
    try:
        if "paused" in request.POST:
            scenarios.scenario_pause_product(
                scenario=scenario, line=line, paused=request.POST["paused"] == "1"
            )
        elif request.POST.get("remove") == "1":
            scenarios.scenario_remove_new_product(scenario=scenario, line=line)
        else:
            form = forms.ScenarioBudgetForm(request.POST)
            if not form.is_valid():
                raise scenarios.ScenarioRefused(
                    " ".join(e for errors in form.errors.values() for e in errors)
                )
            scenarios.scenario_change_budget(
                scenario=scenario, line=line, planned=form.cleaned_data["planned"]
            )
    except scenarios.ScenarioRefused as refused:
        messages.error(request, str(refused))
        if not _htmx(request):
            return redirect(scenario)
    return _after_edit(request, scenario)


@require_POST
def scenario_product_add(request: HttpRequest, pk: int) -> HttpResponse:
    scenario = _editable_scenario(request, pk)
    scope_portfolios = [scenario.portfolio] if scenario.portfolio else list(portfolios())
    objectives_in_scope = scenarios.scope_objectives(scenario)
    form = forms.ScenarioNewProductForm(
        request.POST, portfolios=scope_portfolios, objectives=objectives_in_scope
    )
    if form.is_valid():
        data = form.cleaned_data
        owner = User.objects.filter(username=data["owner"].strip()).first()
        portfolio = next(p for p in scope_portfolios if p.slug == data["portfolio"])
        objective = next((o for o in objectives_in_scope if o.pk == data["objective"]), None)
        if owner is None:
            form.add_error("owner", "No person with that username.")
        else:
            try:
                scenarios.scenario_add_product(
                    scenario=scenario,
                    name=data["name"],
                    portfolio=portfolio,
                    owner=owner,
                    market=data["market"],
                    focus=data["focus"],
                    objective=objective,
                    planned=data["planned"],
                )
            except scenarios.ScenarioRefused as refused:
                form.add_error(None, str(refused))
            else:
                messages.success(request, f"Added {data['name']} to the scenario.")
                return redirect(scenario)
    context = _scenario_context(request, scenario, new_product_form=form)
    return render(request, SCENARIO, context, status=400)


@require_POST
def scenario_approve(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve: the scenario's changes become the live plan. If the live plan changed since the copy, show
    those changes and ask to confirm (the form then carries the version the user saw)."""
    scenario = _editable_scenario(request, pk)
    form = forms.ScenarioApproveForm(request.POST)
    confirm = form.cleaned_data.get("confirm_version") if form.is_valid() else None
    try:
        change = scenarios.scenario_approve(scenario=scenario, by=request.user, confirm_version=confirm)
    except scenarios.LivePlanChanged as changed:
        context = _scenario_context(request, scenario, conflict=changed)
        return render(request, SCENARIO, context, status=409)
    except scenarios.ScenarioRefused as refused:
        messages.error(request, str(refused))
        return redirect(scenario)
    messages.success(request, f"Approved “{scenario.name}”: the live plan is now version {change.version}.")
    return redirect(scenario)


@require_POST
def scenario_discard(request: HttpRequest, pk: int) -> HttpResponse:
    scenario = _editable_scenario(request, pk)
    try:
        scenarios.scenario_discard(scenario=scenario, by=request.user)
    except scenarios.ScenarioRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"Discarded “{scenario.name}”.")
    return redirect("portfolio:scenarios")


@require_GET
def scenario_compare(request: HttpRequest) -> HttpResponse:
    """Two or more scenarios side by side, each against the live plan: ``?s=<id>&s=<id>``."""
    _require_scenarios(request)
    ids = [int(value) for value in request.GET.getlist("s") if value.isdigit()][:4]
    chosen = list(Scenario.objects.select_related("portfolio").filter(pk__in=ids))
    if request.GET.getlist("s") and not chosen:
        raise Http404("No such scenarios.")
    summaries = scenarios.scenario_compare(scenarios=sorted(chosen, key=lambda s: ids.index(s.pk)))
    if request.GET.get("format") == "csv":
        return exports.compare_csv(summaries)
    context = {
        "summaries": summaries,
        "all_scenarios": list(scenarios.scenario_list(user=request.user)[:100]),
        "ids": ids,
    }
    return render(request, "portfolio/strategy/compare.html", context)


# ==========================================================================================================
# Roadmap
# ==========================================================================================================

ROADMAP = "portfolio/strategy/roadmap.html"
ROADMAP_REGIONS = ("roadmap-results",)
ROADMAP_ROWS_PER_PAGE = 50


@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def roadmap_view(request: HttpRequest) -> HttpResponse:
    """Roadmap items, releases and milestones across products on one timeline, filtered like the dashboard,
    with today's line and late entries in red; the same entries as a table and ``?format=csv``."""
    from portfolio import roadmap

    day = timezone.localdate()
    form = forms.RoadmapFilterForm(request.GET, portfolios=portfolios())
    filters = form.cleaned_or_default()
    rows = roadmap.roadmap_rows(
        products=_filtered_products(filters),
        kind=filters.get("kind") or "",
        late_only=bool(filters.get("late")),
        today=day,
    )
    if request.GET.get("format") == "csv":
        return exports.roadmap_csv(rows)
    shown, lanes = roadmap.chart_rows(rows)
    page = Paginator(rows, ROADMAP_ROWS_PER_PAGE).get_page(filters["page"])
    context = {
        "form": form,
        "page": page,
        "total": len(rows),
        "late_count": sum(row.late for row in rows),
        "lanes": lanes,
        "chart_lanes": min(lanes, roadmap.CHART_LANES),
        "timeline": figure_json(charts.roadmap_timeline(rows=shown, today=day)) if shown else "",
        "today": day,
    }
    return _render(request, ROADMAP, region_requested(request, ROADMAP_REGIONS), context)
