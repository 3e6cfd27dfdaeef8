"""The one set of paging links: where each link goes, which are disabled, and that filters survive paging."""

from django.core.paginator import Paginator
from django.template import Context, Template
from django.test import RequestFactory

from products.forms import ProductFilterForm

TEMPLATE = Template('{% load pagination %}{% page_links page "#table" form=form hint="entries" %}')


def render(page_number: int, *, path: str = "/products/", query: str = "", form=None) -> str:
    request = RequestFactory().get(f"{path}?{query}")
    page = Paginator(range(95), 10).get_page(page_number)
    return TEMPLATE.render(Context({"request": request, "page": page, "form": form}))


def test_first_page_disables_first_and_previous_and_links_next_and_last():
    html = render(1)
    assert (
        '<span class="btn btn--sm" aria-disabled="true">First<span class="visually-hidden"> entries' in html
    )
    assert '<span class="btn btn--sm" aria-disabled="true">Previous' in html
    assert 'rel="next" href="/products/?page=2" hx-get="/products/?page=2"' in html
    assert 'href="/products/?page=10"' in html  # Last: 95 rows of 10 make 10 pages
    assert 'hx-target="#table" hx-swap="outerHTML show:#table:top" hx-push-url="true"' in html


def test_page_one_is_the_clean_url_without_a_page_parameter():
    html = render(3, query="page=3&changed=1")
    assert 'rel="prev" href="/products/?changed=1&amp;page=2"' in html
    assert 'href="/products/?changed=1"' in html  # First keeps the other parameters, drops page=1
    assert html.count("aria-disabled") == 0


def test_last_page_disables_next_and_last():
    html = render(10)
    assert '<span class="btn btn--sm" aria-disabled="true">Next' in html
    assert '<span class="btn btn--sm" aria-disabled="true">Last' in html
    assert 'rel="prev" href="/products/?page=9"' in html


def test_a_filter_form_keeps_its_valid_filters_and_drops_what_it_refused(db):
    form = ProductFilterForm({"stage": "mvp", "health": "not-a-health", "page": "2"})
    html = render(2, query="stage=mvp&health=not-a-health&page=2", form=form)
    assert 'rel="next" href="/products/?stage=mvp&amp;page=3"' in html
    assert "not-a-health" not in html
