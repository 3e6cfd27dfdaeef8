"""SPM Dashboard settings, read from the environment.

Local defaults are safe for a developer's machine: DEBUG on, bound to localhost, SQLite, Celery eager.
Production sets ``SPM_DEBUG=false`` and must then provide ``SPM_SECRET_KEY`` and ``SPM_ALLOWED_HOSTS``.
"""

import datetime
import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from spm.mail import mailers

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# GENERAL
# ------------------------------------------------------------------------------
DEBUG = env_bool("SPM_DEBUG", default=True)

SECRET_KEY = os.environ.get("SPM_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SPM_SECRET_KEY is not set. Outside DEBUG the secret key must come from the environment: "
            "export SPM_SECRET_KEY to a long random string (python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )
    # Only ever used with DEBUG on, on a developer's machine.
    SECRET_KEY = "django-insecure-local-development-only"  # noqa: S105

ALLOWED_HOSTS = env_list("SPM_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]" if DEBUG else "")
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("SPM_ALLOWED_HOSTS is not set: list the host names this site answers to.")

SPM_DEMO_PASSWORD = os.environ.get("SPM_DEMO_PASSWORD", "")
# The currency of every budget and spend (ISO 4217 code), shown by the `money` template filter (docs/strategy.md).
SPM_CURRENCY = os.environ.get("SPM_CURRENCY", "EUR").strip().upper() or "EUR"

# EMAIL (docs/alerts.md): one URL says where mail goes; the embedded default prints it.
MAILERS = mailers(os.environ.get("SPM_EMAIL_URL", "") or "consolemail://")
DEFAULT_FROM_EMAIL = os.environ.get("SPM_EMAIL_FROM", "") or "SPM Dashboard <spm@localhost>"
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Hysteresis (docs/alerts.md): a KPI cell's worse status must hold this many periods before it alerts.
try:
    SPM_ALERT_HOLD_PERIODS = int(os.environ.get("SPM_ALERT_HOLD_PERIODS", "") or 1)
except ValueError:
    raise ImproperlyConfigured(
        "SPM_ALERT_HOLD_PERIODS must be a whole number of periods, 1 or more."
    ) from None
if SPM_ALERT_HOLD_PERIODS < 1:
    raise ImproperlyConfigured("SPM_ALERT_HOLD_PERIODS must be a whole number of periods, 1 or more.")
# Where an email's links point (scheme and host, no trailing slash).
SPM_BASE_URL = (
    os.environ.get("SPM_BASE_URL", "")
    or ("http://127.0.0.1:8000" if DEBUG else f"https://{ALLOWED_HOSTS[0]}")
).rstrip("/")

TIME_ZONE = "UTC"
USE_TZ = True
LANGUAGE_CODE = "en-gb"
USE_I18N = False
# Dates and times as the pages write them (24-hour clock) wherever Django formats them, the admin included:
# https://docs.djangoproject.com/en/stable/topics/i18n/formatting/#creating-custom-format-files. Thousands are
# grouped only where asked (USE_THOUSAND_SEPARATOR stays off: numbers go into URLs, CSV and form values).
FORMAT_MODULE_PATH = ["spm.formats"]

# APPS
# ------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "simple_history",
    # Login throttling (AXES_* under SECURITY).
    "axes",
    "spm.apps.SpmConfig",
    "products",
    "lifecycle",
    "portfolio",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outside the CSRF and login checks, so it sees every 403 they or a view answer (logger spm.security).
    "spm.middleware.DeniedRequestLogMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Tells django-simple-history who makes each change (views and admin alike).
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its lockout answer (429).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "spm.urls"
WSGI_APPLICATION = "spm.wsgi.application"
AUTH_USER_MODEL = "products.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# DATABASE
# ------------------------------------------------------------------------------
# Unset DATABASE_URL: a SQLite file beside manage.py (the embedded default).
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
    # A query running longer than this is cancelled, so a slow query answers a friendly 503 page (spm.views)
    # instead of holding a web worker. Set for the web processes only (bench/serve.sh, docker-compose.yml):
    # the rollup worker's full recompute and seeding run long statements on purpose. Unset or 0: no limit.
    STATEMENT_TIMEOUT_MS = int(os.environ.get("SPM_STATEMENT_TIMEOUT_MS") or 0)
    if STATEMENT_TIMEOUT_MS and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["options"] = f"-c statement_timeout={STATEMENT_TIMEOUT_MS}"
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SPM_SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": {
                # https://docs.djangoproject.com/en/6.0/ref/databases/#setting-pragma-options
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-64000;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
    # The measurement series index carries the value (INCLUDE) on PostgreSQL; SQLite indexes the key columns
    # only, which is all it needs (docs/kpis.md, "Forecasts").
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# CELERY
# ------------------------------------------------------------------------------
# Unset CELERY_BROKER_URL: tasks run eagerly, in process, through the same code path.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
if CELERY_TASK_ALWAYS_EAGER:
    CELERY_BROKER_URL = "memory://"  # never used to send: tasks run in process
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "reconcile-rollups": {"task": "portfolio.tasks.rollups_reconcile", "schedule": 15 * 60.0},
    # Sunday 03:00 in TIME_ZONE: the forecasts' measured accuracy (docs/kpis.md, "Forecasts").
    "measure-forecast-accuracy": {
        "task": "portfolio.tasks.forecast_accuracy_measure",
        "schedule": crontab(minute=0, hour=3, day_of_week=0),
    },
    # Daily 07:00: products newly stuck in their stage (docs/alerts.md).
    "notify-stuck-products": {
        "task": "portfolio.tasks.products_stuck_notify",
        "schedule": crontab(minute=0, hour=7),
    },
    # Daily 07:05, 07:10, 07:15: roadmap items newly late; spend newly off plan; key results off target.
    "notify-late-roadmap": {
        "task": "portfolio.tasks.roadmap_late_notify",
        "schedule": crontab(minute=5, hour=7),
    },
    "notify-budget-burn": {
        "task": "portfolio.tasks.budgets_burn_notify",
        "schedule": crontab(minute=10, hour=7),
    },
    "notify-key-results-off": {
        "task": "portfolio.tasks.key_results_off_notify",
        "schedule": crontab(minute=15, hour=7),
    },
    # Every minute: the email outbox (a send that failed waits for its backoff, then goes again).
    "send-outbox": {"task": "portfolio.tasks.outbox_send", "schedule": 60.0},
    # Every minute: the Slack and Teams messages (retried the same way).
    "send-chat": {"task": "portfolio.tasks.chat_send", "schedule": 60.0},
    # Hourly: the daily and weekly digests due at 08:00 in each person's time zone.
    "send-digests": {"task": "portfolio.tasks.digests_send", "schedule": crontab(minute=2)},
}

# STATIC FILES
# ------------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# SECURITY
# ------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# SPM_HTTPS=false is for a production-shaped run on plain http://127.0.0.1 (make serve, load tests) only.
SPM_HTTPS = env_bool("SPM_HTTPS", default=not DEBUG)
if SPM_HTTPS:
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SPM_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# https://docs.djangoproject.com/en/6.0/ref/csp/
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# Login throttling: https://django-axes.readthedocs.io/en/latest/4_configuration.html
# Five failures for one username from one address lock that pair out for 15 minutes (HTTP 429 and a page that
# says so); another address, or the same address with another username, can still sign in.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first, so a locked-out pair never reaches the password check
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
AXES_HTTP_RESPONSE_CODE = 429

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# LOGGING
# ------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("SPM_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Failed logins and denied requests (spm/middleware.py): who, what, from where; never a password.
        "spm.security": {"level": "INFO"},
        # Every failed login is logged by spm.security already; axes's start-up and reset chatter is noise.
        "axes": {"level": "WARNING"},
    },
}

# HISTORY
# ------------------------------------------------------------------------------
# https://django-simple-history.readthedocs.io/en/latest/admin.html : the admin shows history, it never
# reverts to it (a revert would bypass the rollup and stage rules of the admin's own saves).
SIMPLE_HISTORY_REVERT_DISABLED = True

# CSV IMPORTS (docs/imports.md)
# ------------------------------------------------------------------------------
# The largest file and the most data rows one import takes; uploads larger than IMPORT_BACKGROUND_BYTES are
# checked and applied by a Celery worker while the page shows a progress bar (eager Celery: in process).
IMPORT_MAX_BYTES = int(os.environ.get("SPM_IMPORT_MAX_BYTES", str(50 * 1024 * 1024)))
IMPORT_MAX_ROWS = int(os.environ.get("SPM_IMPORT_MAX_ROWS", "1000000"))
IMPORT_BACKGROUND_BYTES = int(os.environ.get("SPM_IMPORT_BACKGROUND_BYTES", str(512 * 1024)))

# whitenoise serves from the finders in development, from collected files in production.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
