"""Scenario pages: list, detail, edits, approval, comparison."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from portfolio.kpis.selectors.scopes import portfolios
from portfolio.models import Portfolio, Scenario, ScenarioLine
from portfolio.periods import quarter_label
from portfolio.strategy import charts, exports, forms
from portfolio.strategy import permissions as strategy_permissions
from portfolio.strategy.rules import LivePlanChanged, ScenarioRefused, currency_symbol
from portfolio.strategy.selectors.plan import plan_changes, plan_history
from portfolio.strategy.selectors.scenarios import horizon, scenario_lines, scenario_summary, scope_objectives
from portfolio.strategy.selectors.scenarios import scenario_compare as scenarios_scenario_compare
from portfolio.strategy.selectors.scenarios import scenario_list as scenarios_scenario_list
from portfolio.strategy.services.scenarios import (
    scenario_add_product,
    scenario_change_budget,
    scenario_create_from_live,
    scenario_pause_product,
    scenario_remove_new_product,
)
from portfolio.strategy.services.scenarios import scenario_approve as scenarios_scenario_approve
from portfolio.strategy.services.scenarios import scenario_discard as scenarios_scenario_discard
from portfolio.strategy.views.investment import LINES_PER_PAGE
from products.selectors import active_people
from spm.web.charts import figure_json
from spm.web.regions import is_htmx, region_requested, render_region

# ==========================================================================================================
# Scenarios
# ==========================================================================================================

SCENARIOS = "portfolio/strategy/scenarios.html"
SCENARIO = "portfolio/strategy/scenario.html"
SCENARIO_REGIONS = ("scenario-summary", "scenario-lines")
CONFIRM_LINES = 10  # changed lines listed on the step before approving or discarding


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
            scenario = scenario_create_from_live(
                name=data["name"],
                portfolio=data["portfolio"],
                by=request.user,
                description=data["description"],
            )
            messages.success(request, f"Created “{scenario.name}” from the live plan.")
            return redirect(scenario)
        status = 400
    listed = scenarios_scenario_list(user=request.user)
    if request.GET.get("format") == "csv":
        if request.GET.get("table") == "history":
            return exports.plan_history_csv(plan_changes())
        return exports.scenarios_csv(listed)
    context = {
        "form": form,
        "can_create": bool(plannable) or organisation,
        "scenarios": list(listed[:100]),
        "history": plan_history(limit=15),
    }
    return render(request, SCENARIOS, context, status=status)


def _scenario(request, pk: int) -> Scenario:
    _require_scenarios(request)
    return get_object_or_404(
        Scenario.objects.select_related("portfolio__director", "created_by", "decided_by"), pk=pk
    )


def _scenario_context(
    request, scenario: Scenario, *, page_number=1, changed_only=False, lines_only=False, **extra
) -> dict:
    """The scenario page's context; ``lines_only`` for the lines region alone (no summary, no forms)."""
    lines = scenario_lines(scenario=scenario, changed_only=changed_only)
    quarters = horizon(scenario)
    context = {
        "scenario": scenario,
        "horizon_label": f"{quarter_label(quarters[0])} - {quarter_label(quarters[-1])}",
        "page": Paginator(lines, LINES_PER_PAGE).get_page(page_number),
        "changed_only": changed_only,
        "can_edit": scenario.is_draft and strategy_permissions.can_edit_scenario(request.user, scenario),
        "conflict": None,
    }
    if not lines_only:
        summary = scenario_summary(scenario=scenario)
        scope_portfolios = [scenario.portfolio] if scenario.portfolio else list(portfolios())
        context.update(
            summary=summary,
            funding_figure=figure_json(
                charts.objective_funding(objectives=summary.objectives, currency=currency_symbol().strip())
            )
            if summary.objectives
            else "",
        )
        if "new_product_form" not in extra:  # a refused add keeps its own, with the person's input
            context["new_product_form"] = forms.ScenarioNewProductForm(
                portfolios=scope_portfolios, objectives=summary.scope_objectives, people=active_people()
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
            return exports.scenario_funding_csv(scenario_summary(scenario=scenario))
        return exports.scenario_lines_csv(scenario_lines(scenario=scenario))
    region = region_requested(request, SCENARIO_REGIONS)
    context = _scenario_context(
        request,
        scenario,
        page_number=request.GET.get("page") or 1,
        changed_only=request.GET.get("changed") == "1",
        lines_only=region == "scenario-lines",
    )
    return render_region(request, SCENARIO, region, context)


def _editable_scenario(request, pk: int) -> Scenario:
    scenario = _scenario(request, pk)
    if not strategy_permissions.can_edit_scenario(request.user, scenario):
        raise PermissionDenied("You may not change this scenario.")
    return scenario


def _after_edit(request, scenario: Scenario, *, region: str = "scenario-lines") -> HttpResponse:
    if not is_htmx(request):
        return redirect(scenario)
    context = _scenario_context(
        request,
        scenario,
        page_number=request.POST.get("page") or 1,
        changed_only=request.POST.get("changed") == "1",
        lines_only=True,
    )
    response = render_region(request, SCENARIO, region, context)
    response["HX-Trigger"] = "scenario-changed"
    return response


@require_POST
def scenario_line_update(request: HttpRequest, pk: int, line_pk: int) -> HttpResponse:
    """Change one line: its budget over the horizon (``planned``), or pause / resume it (``paused``)."""
    scenario = _editable_scenario(request, pk)
    line = get_object_or_404(ScenarioLine, pk=line_pk, scenario=scenario)
    try:
        if "paused" in request.POST:
            scenario_pause_product(scenario=scenario, line=line, paused=request.POST["paused"] == "1")
        elif request.POST.get("remove") == "1":
            scenario_remove_new_product(scenario=scenario, line=line)
        else:
            form = forms.ScenarioBudgetForm(request.POST)
            if not form.is_valid():
                raise ScenarioRefused(" ".join(e for errors in form.errors.values() for e in errors))
            scenario_change_budget(scenario=scenario, line=line, planned=form.cleaned_data["planned"])
    except ScenarioRefused as refused:
        messages.error(request, str(refused))
        if not is_htmx(request):
            return redirect(scenario)
    return _after_edit(request, scenario)


@require_POST
def scenario_product_add(request: HttpRequest, pk: int) -> HttpResponse:
    scenario = _editable_scenario(request, pk)
    scope_portfolios = [scenario.portfolio] if scenario.portfolio else list(portfolios())
    objectives_in_scope = scope_objectives(scenario)
    people = active_people()
    form = forms.ScenarioNewProductForm(
        request.POST, portfolios=scope_portfolios, objectives=objectives_in_scope, people=people
    )
    if form.is_valid():
        data = form.cleaned_data
        owner = next(person for person in people if person.username == data["owner"])
        portfolio = next(p for p in scope_portfolios if p.slug == data["portfolio"])
        objective = next((o for o in objectives_in_scope if o.pk == data["objective"]), None)
        try:
            scenario_add_product(
                scenario=scenario,
                name=data["name"],
                portfolio=portfolio,
                owner=owner,
                market=data["market"],
                focus=data["focus"],
                objective=objective,
                planned=data["planned"],
            )
        except ScenarioRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, f"Added {data['name']} to the scenario.")
            return redirect(scenario)
    context = _scenario_context(request, scenario, new_product_form=form)
    return render(request, SCENARIO, context, status=400)


def _confirm_step(request: HttpRequest, scenario: Scenario, action: str) -> HttpResponse:
    """The step before approving or discarding (``action``): the scenario page opened on a section that says
    what will change, with the one button that does it. A decided scenario has nothing left to decide."""
    if not scenario.is_draft:
        messages.info(request, f"“{scenario.name}” is already {scenario.get_status_display().lower()}.")
        return redirect(scenario)
    context = _scenario_context(request, scenario, confirming=action)
    context["confirm_lines"] = list(scenario_lines(scenario=scenario, changed_only=True)[:CONFIRM_LINES])
    return render(request, SCENARIO, context)


@require_http_methods(["GET", "POST"])
def scenario_approve(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve: the scenario's changes become the live plan. GET asks first, naming what will change; the POST
    from that step approves. If the live plan changed since the copy, show those changes and ask to confirm
    (the form then carries the version the user saw)."""
    scenario = _editable_scenario(request, pk)
    if request.method == "GET":
        return _confirm_step(request, scenario, "approve")
    form = forms.ScenarioApproveForm(request.POST)
    confirm = form.cleaned_data.get("confirm_version") if form.is_valid() else None
    try:
        change = scenarios_scenario_approve(scenario=scenario, by=request.user, confirm_version=confirm)
    except LivePlanChanged as changed:
        context = _scenario_context(request, scenario, conflict=changed)
        return render(request, SCENARIO, context, status=409)
    except ScenarioRefused as refused:
        messages.error(request, str(refused))
        return redirect(scenario)
    messages.success(request, f"Approved “{scenario.name}”: the live plan is now version {change.version}.")
    return redirect(scenario)


@require_http_methods(["GET", "POST"])
def scenario_discard(request: HttpRequest, pk: int) -> HttpResponse:
    """Discard: the scenario stays, read-only, and the live plan is untouched. GET asks first."""
    scenario = _editable_scenario(request, pk)
    if request.method == "GET":
        return _confirm_step(request, scenario, "discard")
    try:
        scenarios_scenario_discard(scenario=scenario, by=request.user)
    except ScenarioRefused as refused:
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
    summaries = scenarios_scenario_compare(scenarios=sorted(chosen, key=lambda s: ids.index(s.pk)))
    if request.GET.get("format") == "csv":
        return exports.compare_csv(summaries)
    context = {
        "summaries": summaries,
        "all_scenarios": list(scenarios_scenario_list(user=request.user)[:100]),
        "ids": ids,
    }
    return render(request, "portfolio/strategy/compare.html", context)
