"""Django settings for govflow: one module, configured only from the environment.

Defaults are for the local demo (`make run`): embedded SQLite, DEBUG on, a filesystem
Celery transport. Production sets ``GOVFLOW_ENV=production`` and the variables listed
in deploy/README.md; `govflow.core.checks` refuses to start with demo defaults there.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url

from govflow.core.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
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
    "govflow.core",
    "govflow.accounts",
    "govflow.audit",
    "govflow.systems",
    "govflow.policy",
    "govflow.releases",
    "govflow.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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

# Largest evidence document accepted through the API, in bytes.
GOVFLOW_MAX_EVIDENCE_BYTES = env_int("GOVFLOW_MAX_EVIDENCE_BYTES", 20 * 1024 * 1024, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Where release policies live. A release stores the content of the policy it was
# opened under, so editing a file here never changes an open release's rules.
GOVFLOW_POLICY_DIR = Path(env_str("GOVFLOW_POLICY_DIR", str(BASE_DIR / "policies")))
GOVFLOW_DEFAULT_POLICY = env_str("GOVFLOW_DEFAULT_POLICY", "default")

# Gate kinds: one module each, exposing KIND. Later areas append theirs.
GOVFLOW_GATE_KINDS = [
    "govflow.gates.kinds.evidence_document",
    "govflow.gates.kinds.stage_dwell",
]

GOVFLOW_TOKEN_TTL_DAYS = env_int("GOVFLOW_TOKEN_TTL_DAYS", 90, minimum=1)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "govflow.accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "govflow.core.api.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "govflow.core.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "govflow API",
    "DESCRIPTION": (
        "Staged release governance for frontier AI systems: systems, releases, gates, "
        "evidence, sign-offs and a verifiable audit log."
    ),
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "govflow token"}
        }
    },
    "SECURITY": [{"bearerAuth": []}],
    # Serve Swagger UI from the installed sidecar package, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Celery. The demo default is the filesystem transport, so `make run` needs no broker;
# tests and production point CELERY_BROKER_URL at Redis or RabbitMQ.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
CELERY_FILESYSTEM_DIR = VAR_DIR / "broker"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 300, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 360, minimum=1)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)

# Production hardening; `manage.py check --deploy` verifies these.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", PRODUCTION)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SESSION_COOKIE_SECURE", PRODUCTION)
CSRF_COOKIE_SECURE = env_bool("DJANGO_CSRF_COOKIE_SECURE", PRODUCTION)
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("DJANGO_BEHIND_TLS_PROXY", False) else None
)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("GOVFLOW_LOG_LEVEL", "INFO")},
}

if CELERY_BROKER_URL.startswith("filesystem://"):
    # Kombu's filesystem transport: producer and worker exchange messages as files,
    # so the demo runs a real worker with no broker process.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_FILESYSTEM_DIR / "out"),
        "data_folder_out": str(CELERY_FILESYSTEM_DIR / "out"),
        "processed_folder": str(CELERY_FILESYSTEM_DIR / "processed"),
        "control_folder": str(CELERY_FILESYSTEM_DIR / "control"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = None
    for _folder in ("out", "processed", "control"):
        (CELERY_FILESYSTEM_DIR / _folder).mkdir(parents=True, exist_ok=True)

# The audit log's checkpoint signing key (Ed25519, PKCS#8 PEM) and its origin line.
# Production must set GOVFLOW_LOG_SIGNING_KEY_FILE; the demo generates one in var/.
GOVFLOW_LOG_SIGNING_KEY_FILE = env_str(
    "GOVFLOW_LOG_SIGNING_KEY_FILE", None if PRODUCTION else str(VAR_DIR / "log-signing-key.pem")
)
GOVFLOW_LOG_ORIGIN = env_str("GOVFLOW_LOG_ORIGIN", "govflow.demo/audit-log")
GOVFLOW_CHECKPOINT_INTERVAL_SECONDS = env_int(
    "GOVFLOW_CHECKPOINT_INTERVAL_SECONDS", 60, minimum=1
)
CELERY_BEAT_SCHEDULE = {
    "audit-checkpoint": {
        "task": "govflow.audit.tasks.checkpoint",
        "schedule": float(GOVFLOW_CHECKPOINT_INTERVAL_SECONDS),
    },
}
