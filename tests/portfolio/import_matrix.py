"""The Import pages' rows of the permission matrix (tests/test_permission_matrix.py), as docs/permissions.md says.

``entries(matrix)`` builds the rows with the matrix's own helpers; ``fill`` puts the id of this world's import
(uploaded by the product's owner, found invalid) into a route; ``state`` is what a POST here could change.
"""

from __future__ import annotations

from products.models import ImportKind, ImportRun, ImportStatus, User


def entries(m) -> dict:
    importers = {
        m.PM_OWNER,
        m.PM_OTHER,
        m.SENIOR,
        m.PRODUCT_OWNER,
        m.DIRECTOR,
        m.DIRECTOR_OTHER,
        m.VP,
        m.SUPERUSER,
    }
    run_viewers = {m.PM_OWNER, m.VP, m.SUPERUSER}  # the uploader, VPs and superusers
    return {
        # An upload without a file is a form error (400); a valid upload only checks the file (nothing written).
        "portfolio:imports": m.Entry(get=m.only(importers, 200), post=m.only(importers, 400)),
        "portfolio:import-run": m.Entry(
            get=m.only(run_viewers, 200),
            post=m.everyone(405),
            gets=[m.Request(), m.Request(htmx_target="import-run-status")],
        ),
        # Only the uploader applies; this run was found invalid, so they are sent back to it with a message.
        "portfolio:import-apply": m.Entry(get=m.everyone(405), post=m.only({m.PM_OWNER}, m.REDIRECT)),
    }


def fill(route: str, world) -> str:
    if "/imports/<int:pk>/" not in route:
        return route
    if not hasattr(world, "import_run"):
        world.import_run = ImportRun.objects.create(
            kind=ImportKind.MEASUREMENTS,
            file_name="kpis.csv",
            uploaded_by=User.objects.get(username="pm-owner"),
            status=ImportStatus.INVALID,
            error_count=1,
            errors=[[2, "value", "“x” is not a number."]],
        )
    return route.replace("<int:pk>", str(world.import_run.pk))


def state() -> tuple:
    return tuple(ImportRun.objects.order_by("pk").values_list("status", "created", "updated"))
