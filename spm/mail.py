"""Email configuration from one URL (``SPM_EMAIL_URL``), read into Django's ``MAILERS`` setting (docs/alerts.md).

==============================================  =============================================================
``consolemail://``                              print each message to the process's output (embedded default)
``smtp://user:password@host:587?tls=1``         SMTP; ``?tls=1`` upgrades the connection with STARTTLS
``smtps://user:password@host:465``              SMTP over TLS from the first byte
``filemail:///var/spool/spm``                   one file per message in that folder
``memorymail://``                               kept in ``django.core.mail.outbox`` (tests)
==============================================  =============================================================

User name and password are percent-decoded (``%40`` for ``@``); ``?timeout=10`` sets the socket timeout in
seconds (default 10: a send never hangs a worker).
"""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

BACKENDS = {
    "consolemail": "django.core.mail.backends.console.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "smtps": "django.core.mail.backends.smtp.EmailBackend",
    "filemail": "django.core.mail.backends.filebased.EmailBackend",
    "memorymail": "django.core.mail.backends.locmem.EmailBackend",
}
TRUE = {"1", "true", "yes", "on"}
DEFAULT_TIMEOUT = 10


def mailers(url: str) -> dict:
    """``MAILERS`` for ``url``: one mailer, ``default``. A URL that cannot work is refused at start-up."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in BACKENDS:
        known = ", ".join(f"{name}://" for name in BACKENDS)
        raise ImproperlyConfigured(f"SPM_EMAIL_URL must start with one of {known}; got {url!r}.")
    config: dict = {"BACKEND": BACKENDS[scheme]}
    query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
    if scheme == "filemail":
        if not parts.path:
            raise ImproperlyConfigured(
                "SPM_EMAIL_URL filemail:// needs a folder, e.g. filemail:///var/spool/spm."
            )
        config["OPTIONS"] = {"file_path": parts.path}
    elif scheme in ("smtp", "smtps"):
        if not parts.hostname:
            raise ImproperlyConfigured(
                f"SPM_EMAIL_URL {scheme}:// needs a host, e.g. {scheme}://mail.example.com:587."
            )
        try:
            port = parts.port or (465 if scheme == "smtps" else 25)
            timeout = float(query.get("timeout", DEFAULT_TIMEOUT))
        except ValueError as error:
            raise ImproperlyConfigured(f"SPM_EMAIL_URL has a bad port or timeout: {error}.") from None
        config["OPTIONS"] = {
            "host": parts.hostname,
            "port": port,
            "username": unquote(parts.username or ""),
            "password": unquote(parts.password or ""),
            "use_ssl": scheme == "smtps",
            "use_tls": scheme == "smtp" and query.get("tls", "").lower() in TRUE,
            "timeout": timeout,
        }
    return {"default": config}
