import sys

from django.contrib.auth.decorators import login_not_required
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from psycopg.errors import QueryCanceled

from spm.health import broker_health, database_health, rollup_health


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness of the database, the broker and rollup freshness. Names no host, user or secret."""
    database = database_health()
    broker = broker_health()
    rollups = rollup_health() if database["status"] == "ok" else {"status": "unknown"}
    healthy = database["status"] == "ok" and broker["status"] in {"ok", "eager"}
    body = {
        "status": "ok" if healthy else "degraded",
        "database": database,
        "broker": broker,
        "rollups": rollups,
    }
    return JsonResponse(body, status=200 if healthy else 503)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "404.html", status=404)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A refused action, with our reason when there is one ("You may not edit this product.").

    spm.middleware.DeniedRequestLogMiddleware logs it on logger spm.security."""
    return render(request, "403.html", {"reason": str(exception or "")}, status=403)


#: How long a browser is told to wait before retrying when the database is unavailable or a query timed out.
DATABASE_RETRY_AFTER_SECONDS = 5


def server_error(request: HttpRequest) -> HttpResponse:
    """Handler 500. A database that is down, restarting or cancelled a slow query (statement timeout) answers 503
    with a page that says so and a Retry-After: the failure is temporary and nothing was half-written (every
    write is one transaction). Anything else is a 500."""
    # No context processors that touch the database: the error may be the database itself.
    from django.template import loader

    # Django calls this handler inside its `except` block: the exception being handled is the current one.
    error = sys.exc_info()[1]
    if isinstance(error, OperationalError | InterfaceError):
        timed_out = isinstance(getattr(error, "__cause__", None), QueryCanceled)
        page = loader.get_template("503.html").render({"timed_out": timed_out})
        response = HttpResponse(page, status=503)
        response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        return response
    return HttpResponse(loader.get_template("500.html").render(), status=500)
