"""Snapshot the HTML of the main pages and their htmx regions, per demo person, to compare two versions.

A refactor that should not change what anyone sees is checked by taking a snapshot before and after on the
same seeded database and diffing the two folders:

    DATABASE_URL=sqlite:////tmp/snap.sqlite3 .venv/bin/python manage.py seed_demo --products 60 --seed 1
    DATABASE_URL=sqlite:////tmp/snap.sqlite3 .venv/bin/python bench/snapshot.py /tmp/before
    ... change the code ...
    DATABASE_URL=sqlite:////tmp/snap.sqlite3 .venv/bin/python bench/snapshot.py /tmp/after
    diff -r /tmp/before /tmp/after

Nonces, CSRF tokens and relative times are replaced by placeholders, so only real differences remain. Nothing
is written to the database (every request is a GET).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spm.settings")
os.environ.setdefault("SPM_DEMO_PASSWORD", "demo")

import django

django.setup()

from django.test import Client  # noqa: E402

PEOPLE = ("director", "pm", "junior", "admin")

# (name, path, the region an htmx request targets or None for the whole page)
REQUESTS = (
    ("dashboard", "/", None),
    ("dashboard-filter", "/?stage=mvp&market=b2b", "dashboard-results"),
    ("dashboard-sort", "/?sort=health&dir=desc", "product-table"),
    ("dashboard-page", "/?page=2", "product-table"),
    ("products", "/products/", None),
    ("products-sort", "/products/?sort=stage&dir=asc", "product-table"),
    ("products-csv", "/products/?format=csv", None),
    ("product", "/products/{product}/", None),
    ("product-edit", "/products/{product}/edit/", None),
    ("product-history", "/products/{product}/history/", None),
    ("board", "/lifecycle/board/", None),
    ("board-filter", "/lifecycle/board/?market=b2c", "board-region"),
    ("board-show", "/lifecycle/board/?show=mvp", None),
    ("work", "/lifecycle/products/{product}/work/", None),
    ("work-add", "/lifecycle/products/{product}/work/pain-points/add/", None),
    ("analytics", "/lifecycle/analytics/", None),
    ("analytics-filter", "/lifecycle/analytics/?market=b2b", "analytics-results"),
    ("analytics-csv", "/lifecycle/analytics/?format=csv", None),
    ("rollups", "/portfolio/rollups/", None),
    ("rollups-stage", "/portfolio/rollups/?dimension=stage&grain=quarter", "rollups-results"),
    ("rollups-owner", "/portfolio/rollups/?dimension=owner", "rollups-results"),
    ("rollups-csv", "/portfolio/rollups/?format=csv&grain=quarter", None),
    ("kpis", "/portfolio/kpis/", None),
    ("kpis-csv", "/portfolio/kpis/?format=csv", None),
    ("measurements", "/portfolio/measurements/", None),
    ("measurements-page", "/portfolio/measurements/?page=3", "measurement-table"),
    ("objectives", "/portfolio/objectives/", None),
    ("objectives-filter", "/portfolio/objectives/?market=b2c", "objectives-results"),
    ("investment", "/portfolio/investment/", None),
    ("investment-objective", "/portfolio/investment/?dimension=objective", "investment-results"),
    ("investment-csv", "/portfolio/investment/?format=csv", None),
    ("product-budget", "/portfolio/investment/{product}/", None),
    ("priorities", "/portfolio/priorities/", None),
    ("priorities-wsjf", "/portfolio/priorities/?rank=wsjf", "priorities-results"),
    ("priority-edit", "/portfolio/priorities/{product}/edit/", None),
    ("roadmap", "/portfolio/roadmap/", None),
    ("roadmap-csv", "/portfolio/roadmap/?format=csv", None),
    ("scenarios", "/portfolio/scenarios/", None),
    ("scenario", "/portfolio/scenarios/{scenario}/", None),
    ("imports", "/portfolio/imports/", None),
    ("healthz", "/healthz", None),
)

NOISE = (
    (re.compile(r'nonce="[^"]*"'), 'nonce="N"'),
    (re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*"'), r'\1T"'),
    (re.compile(r'("X-CSRFToken": ?")[^"]*"'), r'\1T"'),
    (re.compile(r"&quot;X-CSRFToken&quot;: ?&quot;[^&]*&quot;"), "&quot;X-CSRFToken&quot;: &quot;T&quot;"),
    (re.compile(r'(csrf-token" content=")[^"]*"'), r'\1T"'),
    (
        re.compile(
            r"(?:\b\d+|\ban?)[\xa0 ](?:second|minute|hour|day)s?(?:,[\xa0 ]\d+[\xa0 ](?:second|minute|hour)s?)? ago|\bnow\b"
        ),
        "AGO",
    ),
    (re.compile(r'"checked_at": "[^"]*"'), '"checked_at": "X"'),
)


def normalised(text: str) -> str:
    for pattern, replacement in NOISE:
        text = pattern.sub(replacement, text)
    return text


def main(folder: Path) -> int:
    from portfolio.models import Scenario
    from products.models import Product

    product = Product.objects.filter(owner__username="pm").order_by("slug").first()
    scenario = Scenario.objects.order_by("pk").first()
    names = {"product": product.slug if product else "none", "scenario": scenario.pk if scenario else 0}
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for username in PEOPLE:
        client = Client(HTTP_HOST="127.0.0.1")
        from products.models import User

        client.force_login(User.objects.get(username=username))
        for name, path, region in REQUESTS:
            headers = {"HX-Request": "true", "HX-Target": region} if region else {}
            response = client.get(path.format(**names), headers=headers)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            text = f"{response.status_code} {response.get('Content-Type', '')}\n" + body.decode()
            (folder / f"{username}--{name}.html").write_text(normalised(text))
            written += 1
    print(f"{written} responses written to {folder}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: bench/snapshot.py FOLDER")
    sys.exit(main(Path(sys.argv[1])))
