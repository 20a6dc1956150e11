"""Django settings, all from the environment (SPEC §4.1)."""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from orchestrator.config import (
    broker_url,
    channel_redis_host,
    database_from_url,
    embedded_broker_options,
    env_bool,
    orchestrator_home,
)
from orchestrator.secret_key import load_or_create_secret_key
from orchestrator.security_settings import (  # noqa: F401 (settings are module globals)
    AXES_COOLOFF_TIME,
    AXES_FAILURE_LIMIT,
    AXES_HANDLER,
    AXES_HTTP_RESPONSE_CODE,
    AXES_LOCKOUT_CALLABLE,
    AXES_LOCKOUT_PARAMETERS,
    AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT,
    AXES_RESET_ON_SUCCESS,
    CONTENT_SECURITY_POLICY,
    LOGIN_SLOWDOWN_AFTER,
    LOGIN_SLOWDOWN_SECONDS,
    https_settings,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)
ORCHESTRATOR_HOME = orchestrator_home()
# Unset: a random key made once and kept in $ORCHESTRATOR_HOME/secret-key (0600), shared by this machine's processes.
SECRET_KEY = os.environ.get("SECRET_KEY") or load_or_create_secret_key(ORCHESTRATOR_HOME)
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]
# HTTPS=true: served behind a TLS-terminating proxy (secure cookies, HSTS, redirect to https).
HTTPS = env_bool("HTTPS", False)
globals().update(https_settings(HTTPS))

INSTALLED_APPS = [
    "daphne",  # first: `runserver` serves ASGI through Daphne
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI assets served locally, no CDN (api/views/docs.py)
    "channels",
    "django_htmx",
    "csp",
    "axes",  # login throttling: failed logins per client and per username
    "orchestrator",
    "api",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "orchestrator.unavailable.DatabaseUnavailableMiddleware",  # 503, never 500, while the database is down
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "orchestrator.read_timeout.ReadStatementTimeout",
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out login into the login form's message
]
AUTHENTICATION_BACKENDS = [
    "dashboard.login_throttle.LoginThrottleBackend",  # first: refuses a throttled client or username
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "orchestrator.urls"
ASGI_APPLICATION = "orchestrator.asgi.application"
WSGI_APPLICATION = "orchestrator.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": database_from_url(os.environ.get("DATABASE_URL"), BASE_DIR / "db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL") or None
# Live updates: with REDIS_URL every server process's ingestion reaches every browser; without it,
# one process's own sockets. A socket's queue holds a burst of group messages until it coalesces them.
CHANNEL_CAPACITY = 1000


if REDIS_URL:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                  "CONFIG": {"hosts": [channel_redis_host(REDIS_URL)], "capacity": CHANNEL_CAPACITY}}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer",
                                  "CONFIG": {"capacity": CHANNEL_CAPACITY}}}

CELERY_BROKER_URL = broker_url()
if CELERY_BROKER_URL == "filesystem://":
    CELERY_BROKER_TRANSPORT_OPTIONS = embedded_broker_options()
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True  # a run whose worker dies mid-run is redelivered
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_IGNORE_RESULT = True  # runs report through events, not a result backend
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_IMPORTS = ["orchestrator.retention"]
# Runs of the server's own worker (`celery -A orchestrator worker -B`).
ORCHESTRATOR_HOUSEKEEPING_SECONDS = float(os.environ.get("ORCHESTRATOR_HOUSEKEEPING_SECONDS", "30"))
CELERY_BEAT_SCHEDULE = {
    # Runs whose worker stopped heart-beating end Crashed, never stuck in Running.
    "housekeeping": {"task": "orchestrator.housekeeping", "schedule": ORCHESTRATOR_HOUSEKEEPING_SECONDS},
    # Retention in bounded batches, once a day; off when the age is 0.
    "prune-old-runs": {"task": "orchestrator.prune_old_runs", "schedule": 24 * 60 * 60},
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns on every request while it is missing; files come from finders
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Event batches can be large; the ingestion view enforces its own documented limit (docs/events.md).
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024 * 1024
ORCHESTRATOR_MAX_BATCH_EVENTS = int(os.environ.get("ORCHESTRATOR_MAX_BATCH_EVENTS", "10000"))
ORCHESTRATOR_MAX_BATCH_BYTES = int(os.environ.get("ORCHESTRATOR_MAX_BATCH_BYTES", str(16 * 1024 * 1024)))
# Request bodies on other paths than /api/events/ (login, retry, background runs): refused above this (413).
ORCHESTRATOR_MAX_REQUEST_BYTES = int(os.environ.get("ORCHESTRATOR_MAX_REQUEST_BYTES", str(2 * 1024 * 1024)))
# JSON values (objects, arrays, scalars) per batch, counted before decoding: bounds the memory a batch takes.
ORCHESTRATOR_MAX_BATCH_VALUES = int(os.environ.get("ORCHESTRATOR_MAX_BATCH_VALUES", "1000000"))
# Every database statement of a GET request is stopped after this long (0: no limit); the request answers 503.
ORCHESTRATOR_READ_STATEMENT_TIMEOUT_MS = int(os.environ.get("ORCHESTRATOR_READ_STATEMENT_TIMEOUT_MS", "10000"))
# Events dated further ahead of the server's clock are rejected (they would stay "current" forever).
ORCHESTRATOR_MAX_CLOCK_SKEW = timedelta(seconds=float(os.environ.get("ORCHESTRATOR_MAX_CLOCK_SKEW_SECONDS", "300")))

# Operability (docs/deploy.md): /metrics is off unless ORCHESTRATOR_METRICS is set; with a token it needs
# `Authorization: Bearer <token>`.
ORCHESTRATOR_METRICS = env_bool("ORCHESTRATOR_METRICS", False)
ORCHESTRATOR_METRICS_TOKEN = os.environ.get("ORCHESTRATOR_METRICS_TOKEN", "")
ORCHESTRATOR_METRICS_QUEUES = [q.strip() for q in os.environ.get("ORCHESTRATOR_METRICS_QUEUES", "celery").split(",") if q.strip()]
# Ingestion requests per API key per second, per server process (0: no limit); a burst of twice that is allowed.
ORCHESTRATOR_INGEST_RATE_PER_KEY = float(os.environ.get("ORCHESTRATOR_INGEST_RATE_PER_KEY", "200"))
# Retention: `manage.py prune` (and the daily beat entry) deletes runs, states and logs older than this.
ORCHESTRATOR_RETENTION_DAYS = int(os.environ.get("ORCHESTRATOR_RETENTION_DAYS", "30"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.auth.APIKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.auth.HasScope"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer", "api.renderers.BrowsableAPIRenderer"],
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Orchestrator API",
    "DESCRIPTION": "Runs, states and logs reported by the SDK; see docs/events.md for the event format.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # No validator badge: it would load an image from a third-party site (and the policy blocks it).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "api.schema.add_error_responses",
                           "api.schema.describe_bulk_retry_filters"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
