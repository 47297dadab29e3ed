"""Django settings for govflow: one module, configured only from the environment.

Defaults are for the local demo (`make run`): embedded SQLite, DEBUG on, a filesystem
Celery transport. Production sets ``GOVFLOW_ENV=production`` and the variables listed
in deploy/README.md; `govflow.core.checks` refuses to start with demo defaults there.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

from govflow.core.env import env_bool, env_int, env_list, env_str, env_witnesses
from govflow.evalruns.endpoints import SIMULATOR_ENDPOINTS, endpoints_from_env

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

# django-axes first: it refuses a locked-out account or address before any password is
# checked (govflow.accounts.signin; docs/security.md).
AUTHENTICATION_BACKENDS = [
    "govflow.accounts.signin.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Sign-in lockout: this many failures per account, or per address, lock it for the cool-off
# (console login, admin login and API token failures alike); an admin may unlock earlier.
AXES_FAILURE_LIMIT = env_int("GOVFLOW_SIGNIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("GOVFLOW_SIGNIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
# A failure during a lockout does not extend it: the lockout ends at its announced time.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# The address is REMOTE_ADDR: a proxy in front must set it (gunicorn --forwarded-allow-ips),
# a client-sent X-Forwarded-For is not believed.
AXES_CLIENT_IP_CALLABLE = "govflow.accounts.signin.client_address"
# The admin's view of lockouts is govflow's (govflow.accounts.admin), whose unlock is audited.
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False

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
# Largest finding attachment an auditor may upload, in bytes.
GOVFLOW_MAX_FINDING_ATTACHMENT_BYTES = env_int(
    "GOVFLOW_MAX_FINDING_ATTACHMENT_BYTES", 10 * 1024 * 1024, minimum=1
)
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
    "govflow.signoffs.gate",
    "govflow.auditing.gates.third_party_audit",
    "govflow.auditing.gates.open_findings",
    "govflow.oversight.gate",
    "govflow.rollout.gate",
    "govflow.monitoring.gate",
    "govflow.evalruns.gates.deception_eval",
    "govflow.evalruns.gates.inspect_log",
]

# Top-level policy sections other areas add (modules exposing SECTIONS).
GOVFLOW_POLICY_SECTIONS = ["govflow.monitoring.sections"]

# Called (release_id=) right after the commit of any change to a release's stage, status or
# system version, in the request that made it: the serving gateway's access cache.
GOVFLOW_RELEASE_CHANGE_HOOKS = ["govflow.rollout.cache.on_release_changed"]

# Checks `release_advance` runs before any gate, whatever the release's policy: each is
# a callable (release=, target=, actor=) raising a domain error to refuse the advance.
GOVFLOW_ADVANCE_CHECKS = [
    "govflow.oversight.checks.no_standing_hold",
]

# The oversight console (govflow.console) signs people in with Django sessions.
LOGIN_URL = "console:login"
LOGIN_REDIRECT_URL = "console:releases"
LOGOUT_REDIRECT_URL = "console:login"

# How long a request waits for a concurrent one with the same Idempotency-Key to finish
# before it is answered 409 in_progress (govflow.core.idempotency).
GOVFLOW_IDEMPOTENCY_WAIT_MS = env_int("GOVFLOW_IDEMPOTENCY_WAIT_MS", 10_000, minimum=1)

GOVFLOW_TOKEN_TTL_DAYS = env_int("GOVFLOW_TOKEN_TTL_DAYS", 90, minimum=1)
# How long a server-issued sign-off nonce may wait for its signed statement (seconds).
GOVFLOW_SIGNOFF_NONCE_TTL_SECONDS = env_int("GOVFLOW_SIGNOFF_NONCE_TTL_SECONDS", 3600,
                                            minimum=1)
# The longest a person may ask a token of theirs to live (POST /api/tokens ttl_days).
GOVFLOW_TOKEN_MAX_TTL_DAYS = env_int("GOVFLOW_TOKEN_MAX_TTL_DAYS", 365, minimum=1)
# Called (digests=[…]) right after the commit of a token revocation: caches of tokens.
GOVFLOW_TOKEN_REVOKED_HOOKS = ["govflow.rollout.tokens.on_tokens_revoked"]

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
    # Every write that records an audit event answers with a receipt (audit.receipts).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "govflow.core.schema.add_receipts",
    ],
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
# One queue name per deployment (or per test session, so parallel runs sharing a Redis
# database never take each other's tasks).
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "celery")

# Eval runs (govflow.evalruns). Model endpoints are named by the operator, never given by
# API callers: JSON or a JSON file path, name -> {base_url, model, api_key_env, timeout,
# max_response_bytes}; keys are read from the variable api_key_env names. Outside
# production the default is the SIMULATED agent (`python -m evals.simulator`, port 8900).
GOVFLOW_EVAL_ENDPOINTS = endpoints_from_env(
    "GOVFLOW_EVAL_ENDPOINTS", {} if PRODUCTION else SIMULATOR_ENDPOINTS
)
GOVFLOW_EVAL_CHUNK_SIZE = env_int("GOVFLOW_EVAL_CHUNK_SIZE", 25, minimum=1)
GOVFLOW_EVAL_CONCURRENCY = env_int("GOVFLOW_EVAL_CONCURRENCY", 16, minimum=1)
GOVFLOW_EVAL_MAX_SAMPLES_PER_CELL = env_int("GOVFLOW_EVAL_MAX_SAMPLES_PER_CELL", 2000, minimum=1)
GOVFLOW_EVAL_MAX_SAMPLES_PER_RUN = env_int("GOVFLOW_EVAL_MAX_SAMPLES_PER_RUN", 20000, minimum=1)
# Chunk retries (govflow.evalruns.retry): first backoff, longest wait (keep it under the
# Redis visibility timeout, 1 h), identical failures in a row before the run fails.
GOVFLOW_EVAL_RETRY_BACKOFF_MS = env_int("GOVFLOW_EVAL_RETRY_BACKOFF_MS", 1000, minimum=1)
GOVFLOW_EVAL_RETRY_MAX_DELAY = env_int("GOVFLOW_EVAL_RETRY_MAX_DELAY", 300, minimum=1)
GOVFLOW_EVAL_MAX_IDENTICAL_FAILURES = env_int("GOVFLOW_EVAL_MAX_IDENTICAL_FAILURES", 8,
                                              minimum=1)
GOVFLOW_EVAL_MAX_ATTEMPTS = env_int("GOVFLOW_EVAL_MAX_ATTEMPTS", 200, minimum=1)
GOVFLOW_EVAL_CHUNK_SOFT_TIME_LIMIT = env_int("GOVFLOW_EVAL_CHUNK_SOFT_TIME_LIMIT", 600,
                                             minimum=1)

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
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Content-Security-Policy (django-csp): a strict policy, scripts by nonce only. The
# console's one script is a file that carries the request's nonce; being served from this
# origin is not enough (an uploaded evidence file is from this origin too). Inline style
# *attributes* are allowed because the console's charts are matplotlib SVG inline in the
# page, whose shapes are styled that way; they cannot run script. The admin and
# /api/docs/, whose third-party templates put no nonce on their scripts, get script-src
# 'self' instead (govflow.urls). docs/security.md has the policy line by line.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [NONCE],
        "style-src": [SELF],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("GOVFLOW_LOG_LEVEL", "INFO")},
    # One line per model request at INFO would drown an eval run's log.
    "loggers": {"httpx2": {"level": "WARNING"}, "httpx": {"level": "WARNING"}},
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
# Witnesses (C2SP tlog-witness) asked to cosign each checkpoint: "<URL> <witness vkey>",
# comma or newline separated. A malformed entry stops start-up (ImproperlyConfigured).
GOVFLOW_WITNESSES = env_witnesses("GOVFLOW_WITNESSES")
GOVFLOW_WITNESS_TIMEOUT_SECONDS = env_int("GOVFLOW_WITNESS_TIMEOUT_SECONDS", 5, minimum=1)
GOVFLOW_CHECKPOINT_INTERVAL_SECONDS = env_int(
    "GOVFLOW_CHECKPOINT_INTERVAL_SECONDS", 60, minimum=1
)

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

# KYC providers pushing verification results to /api/kyc/webhooks/<name>, each with its
# HMAC secret from GOVFLOW_KYC_SECRET_<NAME> (or …_FILE). The demo has one, "demo_kyc".
GOVFLOW_KYC_PROVIDERS = {}
for _name in env_list("GOVFLOW_KYC_PROVIDER_NAMES", [] if PRODUCTION else ["demo_kyc"]):
    _secret = env_str(f"GOVFLOW_KYC_SECRET_{_name.upper()}",
                      None if PRODUCTION else f"{_name}-demo-webhook-secret")
    if not _secret or len(_secret) < 16:
        raise ImproperlyConfigured(
            f"GOVFLOW_KYC_SECRET_{_name.upper()} must be set to at least 16 characters"
        )
    GOVFLOW_KYC_PROVIDERS[_name] = {
        "adapter": "govflow.rollout.providers.hmac_webhook.HmacWebhookProvider",
        "secret": _secret,
    }
# A webhook's timestamp may differ from the server's clock by at most this much.
GOVFLOW_KYC_WEBHOOK_TOLERANCE_SECONDS = env_int(
    "GOVFLOW_KYC_WEBHOOK_TOLERANCE_SECONDS", 300, minimum=1
)
GOVFLOW_KYC_EXPIRY_SWEEP_SECONDS = env_int("GOVFLOW_KYC_EXPIRY_SWEEP_SECONDS", 60, minimum=1)
GOVFLOW_MONITORING_TICK_SECONDS = env_int("GOVFLOW_MONITORING_TICK_SECONDS", 300, minimum=1)
# How often beat replays the log and compares the governed tables with it.
GOVFLOW_RECONCILE_INTERVAL_SECONDS = env_int(
    "GOVFLOW_RECONCILE_INTERVAL_SECONDS", 3600, minimum=60
)
CELERY_BEAT_SCHEDULE = {
    "audit-reconcile": {
        "task": "govflow.audit.tasks.reconcile",
        "schedule": float(GOVFLOW_RECONCILE_INTERVAL_SECONDS),
    },
    "audit-checkpoint": {
        "task": "govflow.audit.tasks.checkpoint",
        "schedule": float(GOVFLOW_CHECKPOINT_INTERVAL_SECONDS),
    },
    # Reporting-clock reminders and overdue marks, online-learning re-evaluations.
    "monitoring-tick": {
        "task": "govflow.monitoring.tasks.tick",
        "schedule": float(GOVFLOW_MONITORING_TICK_SECONDS),
    },
    "rollout-expire-kyc": {
        "task": "govflow.rollout.tasks.expire_kyc",
        "schedule": float(GOVFLOW_KYC_EXPIRY_SWEEP_SECONDS),
    },
}
