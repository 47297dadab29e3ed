"""Django itself: applications, middleware, the database, static and media files, the API
(DRF, the OpenAPI schema), logging and the caches."""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from govflow.core.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parents[2]
VAR_DIR = Path(env_str("GOVFLOW_VAR_DIR", str(BASE_DIR / "var")))

GOVFLOW_ENV = env_str("GOVFLOW_ENV", "development")
PRODUCTION = GOVFLOW_ENV == "production"

# A known, public default so the demo runs with no configuration; the production
# start-up check refuses it.
DEMO_SECRET_KEY = "govflow-demo-secret-key-not-for-production"
SECRET_KEY = env_str("DJANGO_SECRET_KEY", DEMO_SECRET_KEY)
DEBUG = env_bool("DJANGO_DEBUG", not PRODUCTION)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Before axes: its `axes_reset*` management commands are replaced by audited ones
    # (govflow/accounts/management/commands/_axes_override.py); the first app wins.
    "govflow.accounts",
    "axes",
    "csp",
    "govflow.core",
    "govflow.audit",
    "govflow.systems",
    "govflow.policy",
    "govflow.releases",
    "govflow.keys",
    "govflow.signoffs",
    "govflow.auditing",
    "govflow.oversight",
    "govflow.console",
    "govflow.rollout",
    "govflow.monitoring",
    "govflow.evalruns",
    "govflow.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Inside SecurityMiddleware so that a rewritten error keeps the security headers.
    "govflow.core.api_errors.ApiJsonErrors",
    # Before everything that reads input, the access check's shortcut included.
    "govflow.core.inputgate.InputGate",
    # The serving gateway's per-session access check skips the rest of the stack.
    "govflow.rollout.middleware.AccessCheckShortcut",
    # After the shortcut: the serving gateway's JSON answer needs no page policy.
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Adds a `receipt` to API writes that recorded audit events (govflow.audit.receipts).
    "govflow.audit.receipts.ReceiptMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # 403/404 outside /api/ as console pages, also with DEBUG on (no URL-pattern listing)
    "govflow.console.views.errors.ConsoleErrorPages",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "govflow.urls"
WSGI_APPLICATION = "govflow.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'govflow.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # SQLite serialises writers; wait for the lock instead of failing at once, and
    # take the write lock at BEGIN so select_for_update-style read-then-write
    # services cannot interleave.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_ROOT = Path(env_str("GOVFLOW_MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# The oversight console (govflow.console) signs people in with Django sessions.
LOGIN_URL = "console:login"
LOGIN_REDIRECT_URL = "console:releases"
LOGOUT_REDIRECT_URL = "console:login"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "govflow.accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "govflow.core.schema.AutoSchema",
    # The JSON parser behind the input gate (govflow.core.inputgate).
    "DEFAULT_PARSER_CLASSES": [
        "govflow.core.inputgate.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "govflow.core.api.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "govflow.core.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

# /api/schema/ and /api/docs/ are served only when this is on: by default outside
# production. A production deployment that publishes its API description turns it on.
GOVFLOW_API_DOCS_PUBLIC = env_bool("GOVFLOW_API_DOCS_PUBLIC", not PRODUCTION)

SPECTACULAR_SETTINGS = {
    "TITLE": "govflow API",
    "DESCRIPTION": (
        "Staged release governance for frontier AI systems: systems, releases, gates, "
        "evidence, sign-offs and a verifiable audit log."
    ),
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The bearer scheme is documented by govflow.core.schema.BearerTokenScheme.
    # Serve Swagger UI from the installed sidecar package, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets whose field names other areas use too ("kind", "status", "category").
    "ENUM_NAME_OVERRIDES": {
        "IncidentCategoryEnum": "govflow.monitoring.policy.CATEGORIES",
        "IncidentStatusEnum": "govflow.monitoring.models.IncidentStatus",
        "ReportKindEnum": "govflow.monitoring.models.ClockKind",
        "EvalRunStatusEnum": "govflow.evalruns.models.EvalRunStatus",
    },
    # Every write that records an audit event answers with a receipt (audit.receipts).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "govflow.core.schema.add_receipts",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("GOVFLOW_LOG_LEVEL", "INFO")},
    # One line per model request at INFO would drown an eval run's log.
    "loggers": {"httpx2": {"level": "WARNING"}, "httpx": {"level": "WARNING"}},
}

# The cache. With GOVFLOW_CACHE_URL (redis://…, a database of its own: the access check's
# cache is flushed by tests) every process shares Redis. Without it, the demo shares a
# file-based cache under var/, so the web process and the Celery worker still see each
# other's invalidations; a per-process memory cache would not.
GOVFLOW_CACHE_URL = env_str("GOVFLOW_CACHE_URL", "")
GOVFLOW_ACCESS_CACHE_ALIAS = "access"
if GOVFLOW_CACHE_URL:
    if not GOVFLOW_CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(
            f"GOVFLOW_CACHE_URL={GOVFLOW_CACHE_URL!r} is not a redis:// URL"
        )
    _redis_cache = {
        "BACKEND": "govflow.rollout.redis_cache.RedisCache",
        "LOCATION": GOVFLOW_CACHE_URL,
        "KEY_PREFIX": "govflow",
    }
    CACHES = {"default": _redis_cache, GOVFLOW_ACCESS_CACHE_ALIAS: _redis_cache}
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        # Production without Redis: no access cache at all (every check asks the
        # database), because a cache on one machine cannot hear another's invalidations.
        GOVFLOW_ACCESS_CACHE_ALIAS: {
            "BACKEND": "django.core.cache.backends.dummy.DummyCache",
        } if PRODUCTION else {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache" / "access"),
        },
    }
# Access decisions are invalidated explicitly (govflow.rollout.cache); this only bounds
# memory and how long an invalidation lost with a cache outage (or a Redis restored from
# an older snapshot: run the cache's Redis without persistence) could go unnoticed.
GOVFLOW_ACCESS_CACHE_MAX_AGE = env_int("GOVFLOW_ACCESS_CACHE_MAX_AGE", 300, minimum=1)
# How long the access check remembers a bearer token (a revocation takes this long there).
GOVFLOW_ACCESS_TOKEN_CACHE_SECONDS = env_int("GOVFLOW_ACCESS_TOKEN_CACHE_SECONDS", 10, minimum=0)
