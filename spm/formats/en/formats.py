"""English display formats (``LANGUAGE_CODE`` ``en-gb``; also any other ``en-*``): Django's British ones with the
24-hour clock that the app's pages write (``|date:"j M Y, H:i"``), so the admin and the pages agree.

Only display formats live here. The input formats (what a form accepts: ``25/10/2006``, ``2006-10-25 14:30``) stay
Django's for the language, and numbers are grouped only where a page or the admin asks for it:
``USE_THOUSAND_SEPARATOR`` stays off (numbers also go into URLs, CSV, form values and data attributes).
"""

# Django date format syntax: https://docs.djangoproject.com/en/stable/ref/templates/builtins/#date
DATE_FORMAT = "j M Y"  # 25 Oct 2006
TIME_FORMAT = "H:i"  # 14:30
DATETIME_FORMAT = "j M Y, H:i"  # 25 Oct 2006, 14:30
YEAR_MONTH_FORMAT = "F Y"  # October 2006
MONTH_DAY_FORMAT = "j F"  # 25 October
SHORT_DATE_FORMAT = "d/m/Y"  # 25/10/2006
SHORT_DATETIME_FORMAT = "d/m/Y H:i"  # 25/10/2006 14:30
FIRST_DAY_OF_WEEK = 1  # Monday

DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
