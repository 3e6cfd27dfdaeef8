"""Security logging on logger ``spm.security``: every denied request (HTTP 403) and every failed login.

A record says who (username, or "anonymous"), what (method and path, never the query string or the body) and
from where (the client address; a proxy's X-Forwarded-For is logged beside it, not trusted over it). A failed
login logs the username that was tried and never the password.
"""

import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger("spm.security")

#: Usernames typed at the login form are logged up to this length.
USERNAME_LOGGED = 150


def client_address(request: HttpRequest | None) -> tuple[str, str]:
    """The connecting address and, when a proxy sent one, its X-Forwarded-For header."""
    if request is None:
        return "", ""
    return request.META.get("REMOTE_ADDR", ""), request.META.get("HTTP_X_FORWARDED_FOR", "")


def log_failed_login(
    sender: Any, credentials: dict, request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """Receiver of ``django.contrib.auth.signals.user_login_failed`` (connected in ``spm.apps``)."""
    username = str(credentials.get("username", ""))[:USERNAME_LOGGED]
    ip, forwarded_for = client_address(request)
    logger.warning(
        "Failed login for %r from %s%s",
        username,
        ip or "an unknown address",
        f" (forwarded for {forwarded_for})" if forwarded_for else "",
        extra={"event": "login_failed", "username": username, "ip": ip, "forwarded_for": forwarded_for},
    )


class DeniedRequestLogMiddleware:
    """Logs every response with status 403: a view's or the admin's ``PermissionDenied``, a CSRF failure.

    Sits first in MIDDLEWARE so it sees the 403s answered by the middleware after it too.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 403:
            self.log_denied(request, reason=getattr(request, "_spm_denied_reason", ""))
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        # Remember why; the 403 response itself is built by Django's handler further out.
        if isinstance(exception, PermissionDenied):
            request._spm_denied_reason = str(exception)

    @staticmethod
    def log_denied(request: HttpRequest, *, reason: str) -> None:
        user = getattr(request, "user", None)
        username = user.get_username() if user is not None and user.is_authenticated else "anonymous"
        ip, forwarded_for = client_address(request)
        logger.warning(
            "Denied %s %s to %s from %s%s",
            request.method,
            request.path,
            username,
            ip or "an unknown address",
            f": {reason}" if reason else "",
            extra={
                "event": "denied",
                "username": username,
                "method": request.method,
                "path": request.path,
                "ip": ip,
                "forwarded_for": forwarded_for,
                "reason": reason,
            },
        )
