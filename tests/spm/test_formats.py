"""The project's display formats (spm/formats): dates and times on the 24-hour clock wherever Django formats them
(the admin), while what forms accept and what exports write stay as they were."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django import forms
from django.conf import settings
from django.template import Context, Template
from django.utils import formats

from tests.factories import ProductFactory

AFTERNOON = dt.datetime(2026, 5, 4, 14, 30, tzinfo=dt.UTC)


def test_dates_and_times_read_as_on_the_pages_24_hour_clock():
    assert formats.date_format(AFTERNOON, "DATETIME_FORMAT") == "4 May 2026, 14:30"
    assert formats.date_format(AFTERNOON, "SHORT_DATETIME_FORMAT") == "04/05/2026 14:30"
    assert formats.time_format(AFTERNOON.time()) == "14:30"
    assert formats.date_format(AFTERNOON.date()) == "4 May 2026"


@pytest.mark.parametrize(
    ("field", "typed", "value"),
    [
        (forms.DateField(), "04/05/2026", dt.date(2026, 5, 4)),
        (forms.DateField(), "2026-05-04", dt.date(2026, 5, 4)),
        (forms.TimeField(), "14:30", dt.time(14, 30)),
        (forms.DateTimeField(), "04/05/2026 14:30", dt.datetime(2026, 5, 4, 14, 30, tzinfo=dt.UTC)),
        (forms.DateTimeField(), "2026-05-04 14:30:00", dt.datetime(2026, 5, 4, 14, 30, tzinfo=dt.UTC)),
        (forms.DecimalField(), "2010207.50", Decimal("2010207.50")),
    ],
)
def test_forms_still_take_what_people_type(field, typed, value):
    assert field.clean(typed) == value


def test_numbers_are_grouped_only_where_asked():
    assert settings.USE_THOUSAND_SEPARATOR is False
    page = Template("{{ n }} {{ n|floatformat:2 }} {{ n|floatformat:'2g' }}").render(
        Context({"n": Decimal("2010207.50")})
    )
    assert page == "2010207.50 2010207.50 2,010,207.50"


@pytest.mark.django_db
def test_a_csv_export_still_writes_plain_numbers(admin_client):
    ProductFactory(slug="aurora", planned_budget=Decimal("2010207.50"), actual_spend=Decimal("1234.05"))
    response = admin_client.get("/products/", {"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    row = next(row for row in rows if row["slug"] == "aurora")
    assert (row["planned_budget"], row["actual_spend"]) == ("2010207.50", "1234.05")
