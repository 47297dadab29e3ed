"""Model endpoints an eval run may call, configured by the operator, never by API callers.

``GOVFLOW_EVAL_ENDPOINTS`` holds JSON, or the path of a JSON file, mapping a name to
``base_url``, ``model`` and optionally ``api_key_env`` (the *name* of the environment
variable holding the key, read by the worker when it calls the endpoint, so a key
never sits in the database, a task message or a settings dump), ``timeout`` (seconds)
and ``max_response_bytes``. API callers choose an endpoint by its name: a request can
never make the server call a URL it chose (server-side request forgery), and the key
cannot be sent anywhere else.

Imported by settings, so it imports nothing from Django but the exception type, and the
evals client only when a run needs it.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,127}$")
DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024
FIELDS = {"base_url", "model", "api_key_env", "timeout", "max_response_bytes"}

# The demo's and the tests' default: the SIMULATED agent of `python -m evals.simulator`
# (Procfile.dev starts it on this port). Production has no default endpoint at all.
SIMULATOR_ENDPOINTS = {
    "simulator": {"base_url": "http://127.0.0.1:8900/v1", "model": "govflow-simulator"},
}


@dataclass(frozen=True)
class Endpoint:
    name: str
    base_url: str
    model: str
    api_key_env: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES

    def api_key(self) -> str | None:
        if self.api_key_env is None:
            return None
        from govflow.core.env import env_str

        key = env_str(self.api_key_env)
        if not key:
            raise ImproperlyConfigured(
                f"eval endpoint {self.name!r}: environment variable {self.api_key_env} "
                f"(or {self.api_key_env}_FILE) holding its API key is not set on this worker"
            )
        return key

    def config(self):
        """The evals library's client configuration, with the library's own retries off:
        Celery's task policy is the one retry layer (two would multiply)."""
        from evals.client import EndpointConfig

        return EndpointConfig(base_url=self.base_url, model=self.model, api_key=self.api_key(),
                              timeout=self.timeout, max_response_bytes=self.max_response_bytes,
                              max_retries=0)


def _problem(source: str, path: str, message: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"{source}: {path}: {message}")


def _check_url(source: str, name: str, url: Any) -> str:
    if not isinstance(url, str) or not url:
        raise _problem(source, f"{name}.base_url", "must be a non-empty string")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _problem(source, f"{name}.base_url", f"{url!r} is not an http(s) URL with a host")
    if parts.username is not None or parts.password is not None:
        # Credentials in a URL end up in logs and provenance; keys go in api_key_env.
        raise _problem(source, f"{name}.base_url", "must not carry credentials; use api_key_env")
    if parts.query or parts.fragment:
        raise _problem(source, f"{name}.base_url", "must not have a query or fragment")
    return url.rstrip("/")


def _number(source: str, path: str, value: Any, *, minimum: float, maximum: float,
            whole: bool = False) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
        whole and not isinstance(value, int)
    ):
        raise _problem(source, path, f"must be a {'whole ' if whole else ''}number, got {value!r}")
    if not minimum <= value <= maximum:
        raise _problem(source, path, f"must be between {minimum:g} and {maximum:g}, got {value!r}")
    return value


def parse_endpoints(raw: Any, *, source: str = "GOVFLOW_EVAL_ENDPOINTS") -> dict[str, dict]:
    """Validate an endpoint mapping; return it normalised (plain data, for settings)."""
    if not isinstance(raw, dict):
        raise ImproperlyConfigured(f"{source}: must be a JSON object mapping names to endpoints")
    out: dict[str, dict] = {}
    for name, spec in raw.items():
        if not isinstance(name, str) or not NAME.match(name):
            raise _problem(source, repr(name), "an endpoint name is lowercase letters, digits, "
                                               "'_', '.', '-' (at most 64)")
        if not isinstance(spec, dict):
            raise _problem(source, name, "must be an object with base_url and model")
        unknown = sorted(set(spec) - FIELDS)
        if unknown:
            raise _problem(source, name, f"unknown key(s) {', '.join(unknown)}; "
                                         f"an endpoint has: {', '.join(sorted(FIELDS))}")
        model = spec.get("model")
        if not isinstance(model, str) or not model.strip():
            raise _problem(source, f"{name}.model", "must be a non-empty string")
        key_env = spec.get("api_key_env")
        if key_env is not None and (not isinstance(key_env, str) or not ENV_NAME.match(key_env)):
            raise _problem(source, f"{name}.api_key_env",
                           "must name an environment variable (e.g. OPENAI_API_KEY), "
                           "never hold the key itself")
        out[name] = {
            "base_url": _check_url(source, name, spec.get("base_url")),
            "model": model,
            "api_key_env": key_env,
            "timeout": float(_number(source, f"{name}.timeout",
                                     spec.get("timeout", DEFAULT_TIMEOUT),
                                     minimum=1, maximum=3600)),
            "max_response_bytes": int(_number(
                source, f"{name}.max_response_bytes",
                spec.get("max_response_bytes", DEFAULT_MAX_RESPONSE_BYTES),
                minimum=1024, maximum=256 * 1024 * 1024, whole=True)),
        }
    return out


def endpoints_from_env(variable: str, default: dict[str, dict]) -> dict[str, dict]:
    """Read ``variable`` (JSON text, or a path to a JSON file) through the env helpers."""
    from govflow.core.env import env_str

    text = env_str(variable)
    if text is None or not text.strip():
        return parse_endpoints(default, source=f"{variable} (default)")
    text = text.strip()
    source = variable
    if not text.startswith("{"):
        path = Path(os.path.expanduser(text))
        try:
            text = path.read_text()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"{variable}={path} is neither a JSON object nor a readable file: {exc}"
            ) from exc
        source = f"{variable} ({path})"
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImproperlyConfigured(f"{source}: not valid JSON: {exc}") from exc
    return parse_endpoints(raw, source=source)


def configured() -> dict[str, dict]:
    from django.conf import settings

    return settings.GOVFLOW_EVAL_ENDPOINTS


def get_endpoint(name: str) -> Endpoint | None:
    spec = configured().get(name)
    return Endpoint(name=name, **spec) if spec is not None else None


def endpoint_names() -> list[str]:
    return sorted(configured())


def looks_like_url(value: str) -> bool:
    return "://" in value or value.startswith("//") or "/" in value or ":" in value
