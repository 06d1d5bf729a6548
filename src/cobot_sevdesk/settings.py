"""Django settings, all from the environment (12-factor). The README's configuration
table lists every variable; ``cobot-sevdesk check`` validates them."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import environ

from cobot_sevdesk.files import make_private
from cobot_sevdesk.queue import build_huey

env = environ.Env()

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env("DATA_DIR", default=str(Path.cwd() / "var")))

DEBUG = env.bool("DEBUG", default=False)
#: Only used when SECRET_KEY is unset; `check` reports it as a problem in production.
INSECURE_DEV_SECRET = "insecure-dev-key-set-SECRET_KEY-in-production"  # noqa: S105
SECRET_KEY = env("SECRET_KEY", default="") or INSECURE_DEV_SECRET

PUBLIC_URL = env("PUBLIC_URL", default="http://127.0.0.1:8000").rstrip("/")
_public = urlsplit(PUBLIC_URL)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
if _public.hostname and _public.hostname not in ALLOWED_HOSTS:
    ALLOWED_HOSTS.append(_public.hostname)
SERVED_OVER_HTTPS = _public.scheme == "https"

# -- external services --------------------------------------------------------
COBOT_URL = env("COBOT_URL", default="https://www.cobot.me").rstrip("/")
COBOT_SPACE_URL = env("COBOT_SPACE_URL", default="https://{subdomain}.cobot.me").rstrip("/")
COBOT_API2_URL = env("COBOT_API2_URL", default="https://api.cobot.me").rstrip("/")
SEVDESK_URL = env("SEVDESK_URL", default="https://my.sevdesk.de/api/v1").rstrip("/")
#: Hosts invoice PDF links may point at; empty = the host of COBOT_API2_URL, where
#: Cobot's API 2 spec puts them (``cobot/urls.py: CobotUrls.pdf_hosts_allowed``).
COBOT_PDF_HOSTS = env.list("COBOT_PDF_HOSTS", default=[])
COBOT_CLIENT_ID = env("COBOT_CLIENT_ID", default="")
COBOT_CLIENT_SECRET = env("COBOT_CLIENT_SECRET", default="")
#: Scopes for API 1 and API 2 in one token (Cobot's own apps do the same).
COBOT_SCOPES = env(
    "COBOT_SCOPES",
    default=(
        "read read_user read_spaces read_memberships write_memberships read_invoices "
        "read_accounting_codes read_subscriptions write_subscriptions write_activities "
        "read_payment_records write_payment_records"
    ),
)
#: Frame ancestors allowed to show the add-on (Cobot embeds add-ons in its admin).
FRAME_ANCESTORS = env.list(
    "FRAME_ANCESTORS", default=["https://*.cobot.me", "https://www.cobot.me"]
)
#: How long Cobot's word that a user administers a space is trusted for pages
#: (state changes always ask Cobot again), and how long pages are still shown on it
#: while Cobot cannot be reached (``web/access.py``).
COBOT_ADMIN_CHECK_SECONDS = env.float("COBOT_ADMIN_CHECK_SECONDS", default=60.0)
COBOT_ADMIN_GRACE_SECONDS = env.float("COBOT_ADMIN_GRACE_SECONDS", default=600.0)
HTTP_CONNECT_TIMEOUT = env.float("HTTP_CONNECT_TIMEOUT", default=5.0)
HTTP_READ_TIMEOUT = env.float("HTTP_READ_TIMEOUT", default=30.0)

# -- secrets at rest ------------------------------------------------------------
#: Comma-separated Fernet keys, newest first. Rotate by prepending a new key, then
#: running `cobot-sevdesk rotate-keys`, then dropping the old key.
FERNET_KEYS = env.list("FERNET_KEYS", default=[])

# -- sync tuning ----------------------------------------------------------------
SYNC_LEASE_SECONDS = env.float("SYNC_LEASE_SECONDS", default=60.0)
SYNC_SLICE_SECONDS = env.float("SYNC_SLICE_SECONDS", default=5.0)
SYNC_MAX_ATTEMPTS = env.int("SYNC_MAX_ATTEMPTS", default=8)
SYNC_BACKOFF_BASE = env.float("SYNC_BACKOFF_BASE", default=15.0)
SYNC_BACKOFF_CAP = env.float("SYNC_BACKOFF_CAP", default=3600.0)
SWEEP_INTERVAL = env.float("SWEEP_INTERVAL", default=15.0)
#: After a write whose outcome is unknown, how long look-ups go on before it is written
#: again: longer than any request can take (sevDesk may commit a timed-out request late).
SYNC_UNKNOWN_WINDOW = env.float("SYNC_UNKNOWN_WINDOW", default=600.0)
RECONCILE_INTERVAL = env.float("RECONCILE_INTERVAL", default=900.0)
RECONCILE_DAYS = env.int("RECONCILE_DAYS", default=31)
COBOT_REQUESTS_PER_MINUTE = env.float("COBOT_REQUESTS_PER_MINUTE", default=60.0)
#: Page mode (``sync.pages``): when several invoices of a space are due, read them from
#: Cobot's invoice listing (200 a call) and ask sevDesk once per page's dates whether
#: their receipts exist, instead of two calls per invoice. Off: one of each per invoice.
SYNC_PAGES = env.bool("SYNC_PAGES", default=True)
#: How many due invoices (not yet listed) make a listing worth its call.
SYNC_PAGE_MIN = env.int("SYNC_PAGE_MIN", default=3)
#: How long listed invoices and receipts are trusted. Below the few minutes Cobot's PDF
#: links live, so most are downloaded before they expire (an expired one is re-fetched).
SYNC_PAGE_MAX_AGE = env.float("SYNC_PAGE_MAX_AGE", default=240.0)
#: How many of a space's listed invoices a turn works on at once (page mode,
#: ``runtime.lanes``): sevDesk then sees that many saves of the space at a time.
SYNC_PAGE_LANES = max(1, env.int("SYNC_PAGE_LANES", default=4))
CACHE_SECONDS = env.float("CACHE_SECONDS", default=300.0)
#: From this day of a month on, the previous month's books check runs (once); the days
#: before leave time for late invoices and corrections of the month.
BOOKS_CHECK_DAY = env.int("BOOKS_CHECK_DAY", default=5)
#: Payments both ways (off per space until its admin turns them on): how often both
#: sides are checked for payments, and how many days a synced invoice is watched.
PAYMENT_CHECK_INTERVAL = env.float("PAYMENT_CHECK_INTERVAL", default=900.0)
PAYMENT_CHECK_DAYS = env.int("PAYMENT_CHECK_DAYS", default=90)
HISTORY_RETENTION_DAYS = env.int("HISTORY_RETENTION_DAYS", default=365)

# -- Django ---------------------------------------------------------------------
INSTALLED_APPS = [
    # The command line (management/commands/). First, so its `check` and `migrate`
    # replace Django's, which they extend.
    "cobot_sevdesk",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "huey.contrib.djhuey",
    "cobot_sevdesk.ledger",
    "cobot_sevdesk.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "cobot_sevdesk.web.middleware.FrameAncestorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "cobot_sevdesk.urls"
WSGI_APPLICATION = "cobot_sevdesk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'cobot-sevdesk.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web app read while a worker writes; IMMEDIATE transactions take
        # the write lock up front instead of failing half-way with "database is locked".
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    # Keep each thread's connection: opening one and running the PRAGMAs per request
    # would cost more than the webhook itself.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
    DATABASES["default"].setdefault("TEST", {})
    if env("TEST_SQLITE_NAME", default=""):
        # Tests that start worker processes need a file they can all open.
        DATABASES["default"]["TEST"]["NAME"] = env("TEST_SQLITE_NAME")
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

HUEY_URL = env("HUEY_URL", default=f"sqlite:///{DATA_DIR / 'huey.sqlite3'}")
HUEY = build_huey(HUEY_URL, immediate=env.bool("HUEY_IMMEDIATE", default=False))

# Every file this process creates is its owner's only, and what exists is tightened:
# the databases hold everything synced, and the queue's SQLite file is unpickled by
# the worker (``files.py``). Nothing above has created a file yet.
make_private(
    DATA_DIR,
    [
        Path(name)
        for name in (
            DATABASES["default"]["NAME"]
            if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
            else None,
            getattr(HUEY.storage, "filename", None),
        )
        if name
    ],
)

# -- processes: `cobot-sevdesk serve` and `worker` (their options override these) -----
WEB_HOST = env("HOST", default="127.0.0.1")
WEB_PORT = env.int("PORT", default=8000)
#: gunicorn processes, and threads in each.
WEB_WORKERS = env.int("WEB_WORKERS", default=2)
WEB_THREADS = env.int("WEB_THREADS", default=4)
WORKER_THREADS = env.int("WORKER_THREADS", default=4)
#: Where `serve` and `worker` processes on one machine add up their metrics
#: (prometheus_client's multiprocess mode; cli.py hands it to prometheus_client).
PROMETHEUS_MULTIPROC_DIR = Path(
    env("PROMETHEUS_MULTIPROC_DIR", default=str(DATA_DIR / "prometheus"))
)
#: If set, /metrics needs `Authorization: Bearer <token>`.
METRICS_TOKEN = env("METRICS_TOKEN", default="")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 12
CSRF_COOKIE_HTTPONLY = True
if SERVED_OVER_HTTPS:
    # Cobot shows add-ons inside its admin in a frame: a cross-site context, so the
    # cookies must be SameSite=None, which browsers accept only with Secure.
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "None"
    # Behind a TLS-terminating proxy, which must set (overwrite) X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    CSRF_TRUSTED_ORIGINS = [PUBLIC_URL]
    # Plain http is redirected to https, except the health check, which load
    # balancers call on the plain port; browsers are told to use https only (HSTS).
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Europe/Berlin"
USE_TZ = True

LOGIN_URL = "web:home"
#: No static files are served (the pages inline their few styles); Django's test
#: server still wants the setting.
STATIC_URL = "/static/"

LOG_FORMAT = env("LOG_FORMAT", default="text")
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "cobot_sevdesk.logs.RedactFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "cobot_sevdesk.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "text",
            "filters": ["redact"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's defaults give these loggers handlers of their own (without our
        # redaction); listing them here with none sends everything to the one
        # redacting handler above.
        "django": {"handlers": [], "propagate": True},
        "django.server": {"handlers": [], "propagate": True, "level": "WARNING"},
        "huey": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
    },
}
