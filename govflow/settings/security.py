"""Who may sign in and what a browser may do: the sign-in lockout (django-axes), the
production hardening `manage.py check --deploy` verifies, the Content-Security-Policy."""

from __future__ import annotations

from datetime import timedelta

from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE

from govflow.core.env import env_bool, env_int
from govflow.settings.core import PRODUCTION

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
