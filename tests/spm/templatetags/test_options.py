"""``{% select_options %}``: a filter select's options, the current one selected, the default written empty."""

from django.template import Context, Template


def render(choices, current="", blank=None) -> str:
    template = Template("{% load options %}{% select_options choices current blank %}")
    return template.render(Context({"choices": choices, "current": current, "blank": blank}))


def test_the_current_value_is_selected_and_the_default_is_written_empty():
    html = render([("native", "Native"), ("month", "Month")], current="month", blank="native")
    assert html == '<option value="">Native</option><option value="month" selected>Month</option>'


def test_values_and_labels_are_escaped():
    html = render([('"><script>', "<b>Zoë & co</b>")])
    assert html == '<option value="&quot;&gt;&lt;script&gt;">&lt;b&gt;Zoë &amp; co&lt;/b&gt;</option>'


def test_numbers_match_the_current_value_as_text():
    assert render([(7, "Zoe Olsen"), (8, "Ana Lima")], current="8").endswith(
        '<option value="8" selected>Ana Lima</option>'
    )
