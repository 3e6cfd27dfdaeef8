"""The product page's lifecycle work: every stage's work products added, edited and deleted in place, the
checklists that follow the work, the stage move from the product page, permissions and query counts."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from lifecycle.models import Hypothesis, Milestone, PainPoint, ProblemStatement, Release, StageTransition
from lifecycle.work.selectors import product_work
from products.choices import Role, Stage
from products.models import Product
from tests.factories import KPIFactory, MembershipFactory, PortfolioFactory, ProductFactory, UserFactory
from tests.lifecycle.factories import FeedbackItemFactory, fill_gates, fill_stage

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true", "HX-Target": "lifecycle-work"}


@pytest.fixture
def portfolio():
    return PortfolioFactory(name="Payments", slug="payments")


@pytest.fixture
def pm():
    return UserFactory(username="pm", role=Role.PM)


@pytest.fixture
def product(portfolio, pm):
    return ProductFactory(name="Atlas", slug="atlas", portfolio=portfolio, owner=pm, stage=Stage.PROBLEM)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def work_url(product: Product, tail: str = "") -> str:
    return f"/lifecycle/products/{product.slug}/work/{tail}"


def test_the_product_page_shows_the_current_gate_and_loads_the_work_section(product, pm):
    html = logged_in(pm).get(product.get_absolute_url()).content.decode()
    section = html.split('id="lifecycle-work"', 1)[1].split("</section>", 1)[0]
    assert 'hx-get="/lifecycle/products/atlas/work/"' in section
    assert "Gate to leave Problem" in section
    assert "0 of 4</strong> gate criteria met" in section
    assert "Problem statement written" in section
    assert 'href="/lifecycle/products/atlas/work/"' in section  # works without JavaScript too


def test_the_work_section_lists_every_stage_with_its_checklist(product, pm):
    response = logged_in(pm).get(work_url(product), headers=HTMX)
    html = response.content.decode()
    assert "<html" not in html
    assert response["Vary"].count("HX-Request") == 1
    stages = re.findall(r'<details class="work-stage stage stage--(\w+)" id="work-\w+"( open)?>', html)
    assert [stage for stage, _ in stages] == list(Stage.values)
    assert [stage for stage, is_open in stages if is_open] == ["problem"]  # the current stage is open
    assert "At least 2 pain points" in html
    assert "0 pain points recorded; 2 needed." in html


def test_adding_work_products_ticks_the_checklist(product, pm):
    client = logged_in(pm)
    response = client.post(
        work_url(product, "problem-statement/add/"), {"statement": "Invoices take weeks."}, headers=HTMX
    )
    assert response.status_code == 200
    assert ProblemStatement.objects.get(product=product).statement == "Invoices take weeks."
    for description in ("Manual matching", "Late fees"):
        response = client.post(
            work_url(product, "pain-points/add/"),
            {"description": description, "severity": "high"},
            headers=HTMX,
        )
    html = response.content.decode()
    assert "Saved pain point: Late fees." in html
    assert "2 pain points recorded." in html
    assert "2 of 4</strong> gate criteria met to leave Problem" in html
    assert list(PainPoint.objects.filter(product=product).values_list("description", flat=True)) == [
        "Manual matching",
        "Late fees",
    ]


def test_a_sheet_is_written_once_and_edited_after(product, pm):
    client = logged_in(pm)
    client.post(work_url(product, "problem-statement/add/"), {"statement": "First"}, headers=HTMX)
    client.post(work_url(product, "problem-statement/add/"), {"statement": "Second"}, headers=HTMX)
    assert list(ProblemStatement.objects.values_list("statement", flat=True)) == ["Second"]


def test_bad_input_keeps_the_form_with_its_errors_and_saves_nothing(product, pm):
    response = logged_in(pm).post(
        work_url(product, "opportunity/add/"), {"tam": "100", "sam": "500", "som": "10"}, headers=HTMX
    )
    html = response.content.decode()
    assert "SAM cannot be larger than TAM." in html
    assert 'value="500"' in html  # the input is kept
    assert not product.__class__.objects.get(pk=product.pk).__dict__.get("opportunity")
    from lifecycle.models import OpportunityCase

    assert not OpportunityCase.objects.exists()


def test_editing_a_row_opens_its_form_in_place_and_saves(product, pm):
    pain = PainPoint.objects.create(product=product, description="Slow", severity="low")
    client = logged_in(pm)
    html = client.get(work_url(product, f"pain-points/{pain.pk}/edit/"), headers=HTMX).content.decode()
    entry = html.split(f'id="work-pain-points-{pain.pk}"', 1)[1].split("</li>", 1)[0]
    assert f'hx-post="/lifecycle/products/atlas/work/pain-points/{pain.pk}/edit/"' in entry
    assert 'value="Slow"' in entry
    client.post(
        work_url(product, f"pain-points/{pain.pk}/edit/"),
        {"description": "Very slow", "severity": "critical"},
        headers=HTMX,
    )
    pain.refresh_from_db()
    assert (pain.description, pain.severity) == ("Very slow", "critical")


def test_deleting_a_row(product, pm):
    pain = PainPoint.objects.create(product=product, description="Slow")
    response = logged_in(pm).post(work_url(product, f"pain-points/{pain.pk}/delete/"), headers=HTMX)
    assert "Deleted pain point: Slow." in response.content.decode()
    assert not PainPoint.objects.exists()


def test_delete_asks_first_in_place_naming_the_row_and_deletes_nothing(product, pm):
    pain = PainPoint.objects.create(product=product, description="Checkout is slow")
    delete_url = work_url(product, f"pain-points/{pain.pk}/delete/")
    section = logged_in(pm).get(work_url(product), headers=HTMX).content.decode()
    # The row's Delete is a link to the step, not a form that deletes (nor a JavaScript confirm()).
    assert f'href="{delete_url}" hx-get="{delete_url}"' in section
    assert "hx-confirm" not in section
    response = logged_in(pm).get(delete_url, headers=HTMX)
    html = response.content.decode()
    row = html.split(f'id="work-pain-points-{pain.pk}"', 1)[1].split("</li>", 1)[0]
    assert "Delete the pain point “Checkout is slow”?" in row
    assert "the Problem gate is checked again without it" in row
    assert f'hx-post="{delete_url}"' in row
    assert "csrfmiddlewaretoken" in row
    assert ">Keep it</a>" in row
    assert PainPoint.objects.filter(pk=pain.pk).exists()


def test_without_javascript_the_delete_step_is_a_page_and_its_button_deletes(product, pm):
    pain = PainPoint.objects.create(product=product, description="Checkout is slow")
    delete_url = work_url(product, f"pain-points/{pain.pk}/delete/")
    client = logged_in(pm)
    page = client.get(delete_url).content.decode()
    assert "<h1" in page
    assert "Delete pain point</h1>" in page
    assert "Delete the pain point “Checkout is slow”?" in page
    assert f'action="{delete_url}"' in page
    assert "hx-post" not in page.split('class="confirm"', 1)[1].split("</form>", 1)[0]
    assert PainPoint.objects.filter(pk=pain.pk).exists()
    response = client.post(delete_url)
    assert response.status_code == 302
    assert not PainPoint.objects.filter(pk=pain.pk).exists()


def test_a_work_sheet_has_no_delete_step(product, pm):
    sheet = ProblemStatement.objects.create(product=product, statement="Payments fail")
    response = logged_in(pm).get(work_url(product, f"problem-statement/{sheet.pk}/delete/"))
    assert response.status_code == 404
    assert ProblemStatement.objects.filter(pk=sheet.pk).exists()


def test_without_javascript_a_write_redirects_to_the_work_page_and_errors_get_a_page(product, pm):
    client = logged_in(pm)
    response = client.post(work_url(product, "personas/add/"), {"name": "Finance lead"})
    assert response.status_code == 302
    assert response["Location"] == "/lifecycle/products/atlas/work/#work-problem"
    page = client.get(response["Location"])
    assert "Finance lead" in page.content.decode()
    response = client.post(work_url(product, "personas/add/"), {"name": ""})
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()


def test_a_row_of_another_product_is_not_found(product, pm, portfolio):
    other = ProductFactory(portfolio=portfolio, owner=pm)
    pain = PainPoint.objects.create(product=other, description="Not yours")
    client = logged_in(pm)
    assert client.post(work_url(product, f"pain-points/{pain.pk}/delete/")).status_code == 404
    assert client.get(work_url(product, "no-such-kind/add/")).status_code == 404
    assert PainPoint.objects.filter(pk=pain.pk).exists()


def test_choices_of_related_rows_are_the_products_own(product, pm, portfolio):
    Hypothesis.objects.create(product=product, statement="Ours")
    Hypothesis.objects.create(product=ProductFactory(portfolio=portfolio), statement="Theirs")
    client = logged_in(pm)
    # the "Add" link loads the form in place
    form = client.get(work_url(product, "experiments/add/"), headers=HTMX).content.decode()
    assert ">Ours</option>" in form
    assert "Theirs" not in form


def test_add_forms_load_in_place_on_request(product, pm):
    client = logged_in(pm)
    html = client.get(work_url(product), headers=HTMX).content.decode()
    assert '<details class="work-add"' not in html  # only the move form comes with the section
    assert html.count("<form") == 1
    research = html.split('id="work-research"', 1)[1].split('id="work-mvp"', 1)[0]
    link = '<a class="btn btn--sm" href="/lifecycle/products/atlas/work/hypotheses/add/" hx-get="/lifecycle/products/atlas/work/hypotheses/add/" hx-target="closest .work-add" hx-swap="outerHTML">Add hypothesis</a>'
    assert link in research
    response = client.get(work_url(product, "hypotheses/add/"), headers=HTMX)
    form = response.content.decode()
    assert "<html" not in form
    assert form.lstrip().startswith('<details class="work-add" open>')
    assert '<summary class="btn btn--sm">Add hypothesis</summary>' in form
    # The form opened in place has its first field focused (htmx honours autofocus after the swap).
    first_field = form.split("<form", 1)[1].split("</label>", 1)[1]
    assert first_field.split(">", 1)[0].count("autofocus") == 1
    assert 'hx-post="/lifecycle/products/atlas/work/hypotheses/add/" hx-target="#lifecycle-work"' in form
    assert 'name="csrfmiddlewaretoken"' in form
    assert "<html" in client.get(work_url(product, "hypotheses/add/")).content.decode()  # without JavaScript
    # a sheet not written yet is "Write …"; a refused add keeps its form open with the errors
    assert ">Write mvp scope and launch</a>" in html
    assert ">Add pain point</a>" in html
    refused = client.post(work_url(product, "pain-points/add/"), {"description": ""}, headers=HTMX)
    block = refused.content.decode().split('id="work-block-pain-points"', 1)[1].split("</section>", 1)[0]
    assert '<details class="work-add" open>' in block
    assert "This field is required." in block
    # people who may not edit get no link
    junior = MembershipFactory(product=product, role=Role.JUNIOR_PM).user
    assert "work-add" not in logged_in(junior).get(work_url(product), headers=HTMX).content.decode()
    assert logged_in(junior).get(work_url(product, "hypotheses/add/"), headers=HTMX).status_code == 403


@pytest.mark.parametrize("role", [Role.JUNIOR_PM, Role.INTERN])
def test_people_who_may_not_edit_see_the_work_but_no_forms_and_get_403_on_writes(product, role):
    member = MembershipFactory(product=product, role=role).user
    PainPoint.objects.create(product=product, description="Slow")
    client = logged_in(member)
    html = client.get(work_url(product), headers=HTMX).content.decode()
    assert "Slow" in html
    assert "<form" not in html
    response = client.post(work_url(product, "pain-points/add/"), {"description": "Mine"}, headers=HTMX)
    assert response.status_code == 403
    assert PainPoint.objects.count() == 1


def test_money_of_the_business_case_only_for_those_who_may_see_the_budget(product):
    from lifecycle.models import OpportunityCase

    OpportunityCase.objects.create(product=product, tam=1000, sam=100, som=10, expected_return=777777)
    stranger = UserFactory(role=Role.PM)
    html = logged_in(stranger).get(work_url(product), headers=HTMX).content.decode()
    assert "TAM €1,000" in html
    assert "777,777" not in html


def test_feedback_counts_and_sentiment_trend(product, pm):
    today = timezone.localdate()
    FeedbackItemFactory.create_batch(3, product=product, sentiment="positive", received_on=today)
    FeedbackItemFactory(product=product, sentiment="negative", received_on=today, segment="b2c")
    html = logged_in(pm).get(work_url(product), headers=HTMX).content.decode()
    assert "<strong>4</strong> feedback items:" in html
    assert "3 positive, 0 neutral, 1 negative" in html
    assert "B2B 3, B2C 1" in html
    row = re.search(rf"<tr><td>{today:%b %Y}</td>(.*?)</tr>", html).group(1)
    assert re.findall(r">(-?\d+)<", row) == ["3", "0", "1", "50"]


def test_the_on_time_rate_of_releases_and_milestones(product, pm):
    today = timezone.localdate()
    Release.objects.create(
        product=product, name="1.0", planned_date=today, actual_date=today, status="shipped"
    )
    Release.objects.create(
        product=product,
        name="1.1",
        planned_date=today - dt.timedelta(days=9),
        actual_date=today,
        status="shipped",
    )
    Release.objects.create(product=product, name="2.0", planned_date=today - dt.timedelta(days=1))
    html = logged_in(pm).get(work_url(product), headers=HTMX).content.decode()
    assert "On-time rate <strong>50%</strong>: 1 of 2" in html
    assert html.count('status--off_target">Late</span>') == 2  # shipped late, and overdue


@pytest.mark.parametrize("stage", [Stage.PROBLEM, Stage.FEEDBACK])
@pytest.mark.parametrize("size", [1, 12])
def test_the_work_section_takes_a_fixed_number_of_queries(
    product, pm, django_assert_max_num_queries, size, stage
):
    Product.objects.filter(pk=product.pk).update(stage=stage)
    for _ in range(size):
        fill_stage(product, Stage.PROBLEM)
        fill_stage(product, Stage.FEEDBACK)
        fill_stage(product, Stage.EXECUTION)
    client = logged_in(pm)
    # session, user, product, permission checks, the work summary, the sheets, one per list, the feedback
    # stats (the add forms, and their choices, load on request): the same on every database
    with django_assert_max_num_queries(20):
        response = client.get(work_url(product), headers=HTMX)
    assert response.status_code == 200


def test_the_section_lists_each_kind_in_its_own_order(product, pm):
    fill_stage(product, Stage.PROBLEM)
    fill_stage(product, Stage.EXECUTION)
    work = product_work(product=product, user=pm)
    expected = {
        "pain-points": list(PainPoint.objects.filter(product=product).order_by("pk")),
        "milestones": list(Milestone.objects.filter(product=product).order_by("planned_date", "pk")),
    }
    for slug, rows in expected.items():
        assert [entry.instance for entry in work.block(slug).entries] == rows
    milestone = work.block("milestones").entries[0].instance
    assert milestone.release_id is None or milestone.release.product_id == product.pk


# ------------------------------------------------------------------------------------------- moves from the page


def test_a_move_from_the_page_with_the_gate_met_reloads_the_page(product, pm):
    fill_gates(product)
    response = logged_in(pm).post(
        f"/lifecycle/products/{product.slug}/move/", {"to": "opportunity"}, headers=HTMX
    )
    assert response.status_code == 204
    assert response["HX-Refresh"] == "true"
    assert Product.objects.get(pk=product.pk).stage == "opportunity"


def test_a_move_with_unmet_criteria_lists_them_and_a_pm_cannot_override(product, pm):
    PainPoint.objects.create(product=product, description="Slow")
    client = logged_in(pm)
    html = client.post(
        f"/lifecycle/products/{product.slug}/move/", {"to": "opportunity"}, headers=HTMX
    ).content.decode()
    assert "Atlas is not ready to leave Problem: 4 criteria unmet" in html
    assert 'name="override_reason"' not in html
    response = client.post(
        f"/lifecycle/products/{product.slug}/move/",
        {"to": "opportunity", "override_reason": "Trust me"},
        headers=HTMX,
    )
    assert response.status_code == 403
    assert Product.objects.get(pk=product.pk).stage == "problem"


def test_the_director_overrides_with_a_reason_recorded_on_the_transition(product, portfolio):
    client = logged_in(portfolio.director)
    html = client.get(work_url(product), headers=HTMX).content.decode()
    assert 'name="override_reason"' in html  # offered up front: the gate is not met
    client.post(
        f"/lifecycle/products/{product.slug}/move/",
        {"to": "opportunity", "override_reason": "Board asked for a sizing now."},
        headers=HTMX,
    )
    transition = StageTransition.objects.get(product=product)
    assert transition.gate_overridden
    assert transition.override_reason == "Board asked for a sizing now."
    assert "Problem statement written: No problem statement yet." in transition.unmet_criteria
    assert transition.history.get().override_reason == "Board asked for a sizing now."


def test_a_write_without_the_csrf_token_is_refused(product, pm):
    client = Client(enforce_csrf_checks=True)
    client.force_login(pm)
    response = client.post(work_url(product, "pain-points/add/"), {"description": "Sneaky"}, headers=HTMX)
    assert response.status_code == 403
    assert not PainPoint.objects.exists()


def test_work_text_is_escaped(product, pm):
    PainPoint.objects.create(product=product, description='<script>alert("x")</script>')
    html = logged_in(pm).get(work_url(product), headers=HTMX).content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in html


def test_a_pm_walks_a_product_from_problem_to_execution_through_the_forms(product, pm, portfolio):
    """Every stage's work recorded through its forms, then the move: the gate opens each time."""
    from portfolio.models import Objective

    objective = Objective.objects.create(portfolio=portfolio, title="Grow B2B revenue")
    kpi = KPIFactory(name="Activation rate")
    today = timezone.localdate()
    client = logged_in(pm)
    work = {
        "problem": [
            ("problem-statement", {"statement": "Teams chase invoices by hand."}),
            ("pain-points", {"description": "Slow matching", "severity": "high"}),
            ("pain-points", {"description": "Late fees", "severity": "medium"}),
            ("personas", {"name": "Finance lead"}),
            ("competitors", {"name": "Legacy ERP", "gap": "No self-service"}),
        ],
        "opportunity": [
            ("goals", {"title": "Halve time to pay", "objective": objective.pk}),
            (
                "opportunity",
                {
                    "tam": "1000000",
                    "sam": "200000",
                    "som": "20000",
                    "business_case": "Pays back in a year.",
                    "expected_return": "300000",
                    "investment": "100000",
                    "target_date": str(today + dt.timedelta(days=200)),
                },
            ),
        ],
        "research": [
            ("hypotheses", {"statement": "Self-service halves support calls", "outcome": "validated"}),
            (
                "experiments",
                {"title": "Prototype test", "method": "prototype", "status": "done", "outcome": "validated"},
            ),
            (
                "research-notes",
                {"title": "Five interviews", "body": "All wanted it.", "noted_on": str(today)},
            ),
        ],
        "mvp": [
            (
                "mvp",
                {"scope": "Upload\nMatch", "launch_date": str(today), "result": "Pilot met its targets."},
            ),
            (
                "success-criteria",
                {"description": "Activation over 40%", "kpi": kpi.pk, "target": "40", "met": "true"},
            ),
        ],
        "feedback": [("feedback-themes", {"name": "Speed"})],
        "strategy": [
            ("strategy", {"positioning": "Fastest way to get paid.", "pricing_notes": "Per seat."}),
            *[
                (
                    "roadmap",
                    {
                        "title": f"Item {n}",
                        "target_date": str(today + dt.timedelta(days=30 * n)),
                        "status": "planned",
                        "order": n,
                    },
                )
                for n in range(1, 4)
            ],
        ],
    }
    stages = list(Stage.values)
    for stage in stages[:-1]:
        for kind, data in work.get(stage, []):
            response = client.post(work_url(product, f"{kind}/add/"), data)
            assert response.status_code == 302, (kind, response.content.decode()[:2000])
        if stage == "feedback":
            theme = product.feedback_themes.get()
            for n in range(10):
                response = client.post(
                    work_url(product, "feedback/add/"),
                    {
                        "received_on": str(today),
                        "source": "interview",
                        "segment": "b2b",
                        "sentiment": "positive",
                        "score": "9",
                        "text": f"Great {n}",
                        "theme": theme.pk,
                        "kpi": kpi.pk,
                    },
                )
                assert response.status_code == 302, response.content.decode()[:2000]
        if stage == "opportunity":  # the product serves the objective: aligned on the objectives page
            response = client.post(
                f"/portfolio/objectives/{objective.pk}/align/", {"product": product.slug, "weight": "100"}
            )
            assert response.status_code in (200, 302), response.content.decode()[:2000]
        next_stage = stages[stages.index(stage) + 1]
        response = client.post(f"/lifecycle/products/{product.slug}/move/", {"to": next_stage})
        assert response.status_code == 302, (stage, response.content.decode()[:3000])
        assert Product.objects.get(pk=product.pk).stage == next_stage
    assert not StageTransition.objects.filter(product=product, gate_overridden=True).exists()
    assert StageTransition.objects.filter(product=product).count() == 6


def test_without_javascript_edit_links_open_the_form_on_a_page_and_a_refused_move_explains(product, pm):
    pain = PainPoint.objects.create(product=product, description="Slow")
    client = logged_in(pm)
    page = client.get(work_url(product, f"pain-points/{pain.pk}/edit/"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "<html" in html
    assert f'action="/lifecycle/products/atlas/work/pain-points/{pain.pk}/edit/"' in html
    assert 'value="Slow"' in html
    refused = client.post(f"/lifecycle/products/{product.slug}/move/", {"to": "opportunity"})
    assert refused.status_code == 422
    text = refused.content.decode()
    assert "not ready to leave Problem" in text
    assert "Problem statement written" in text
    assert Product.objects.get(pk=product.pk).stage == "problem"


def test_work_product_writes_are_in_the_products_history_tab(product, pm):
    client = logged_in(pm)
    client.post(work_url(product, "pain-points/add/"), {"description": "Slow matching", "severity": "high"})
    pain = PainPoint.objects.get()
    client.post(
        work_url(product, f"pain-points/{pain.pk}/edit/"),
        {"description": "Very slow", "severity": "critical"},
    )
    record = pain.history.first()
    assert (record.history_type, record.history_user) == ("~", pm)
    html = client.get(f"/products/{product.slug}/history/").content.decode()
    assert "Problem work: Pain point “Very slow”" in html
    assert "Problem work: Pain point “Slow matching”" in html


def test_business_case_money_in_the_history_only_for_budget_readers(product, pm):
    client = logged_in(pm)
    client.post(work_url(product, "opportunity/add/"), {"tam": "1000", "expected_return": "777777"})
    stranger = logged_in(UserFactory(role=Role.PM))
    # The figure as the history writes it: a bare "777" also turns up in timestamps' microseconds.
    assert "777,777" not in stranger.get(f"/products/{product.slug}/history/").content.decode()
    assert "777,777.00" in client.get(f"/products/{product.slug}/history/").content.decode()


def test_a_sheet_written_in_place_shows_its_new_text(product, pm):
    client = logged_in(pm)
    client.post(work_url(product, "problem-statement/add/"), {"statement": "First words"}, headers=HTMX)
    sheet = ProblemStatement.objects.get(product=product)
    html = client.post(
        work_url(product, f"problem-statement/{sheet.pk}/edit/"), {"statement": "Second words"}, headers=HTMX
    ).content.decode()
    assert "Second words" in html
    assert "First words" not in html
    assert "Second words" in client.get(work_url(product), headers=HTMX).content.decode()
