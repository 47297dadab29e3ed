"""Typed readers for configuration from the environment.

Every setting govflow reads comes through these helpers so that a bad value fails
at start-up with `ImproperlyConfigured` naming the variable, never later at request
time. A secret may also be given as ``NAME_FILE`` pointing at a file (Docker and
Kubernetes secrets), which wins over ``NAME``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        try:
            return Path(file_path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_path!r} cannot be read: {exc}") from exc
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true or false)")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from exc
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


@dataclass(frozen=True)
class WitnessConfig:
    """A witness the log asks for cosignatures: its name, add-checkpoint URL prefix and
    cosignature/v1 verifier key (the name is the key's)."""

    name: str
    url: str
    vkey: str


def env_witnesses(name: str) -> list[WitnessConfig]:
    """Witnesses as ``<submission URL> <witness vkey>`` entries, separated by commas or
    newlines, e.g. ``http://127.0.0.1:7380 regulator.example/w1+1a2b3c4d+BA…``."""
    from govflow.trust.cosignature import parse_cosigner_vkey
    from govflow.trust.note import NoteError

    raw = env_str(name, "") or ""  # NAME_FILE works too: one entry per line
    out: list[WitnessConfig] = []
    for entry in raw.replace("\n", ",").split(","):
        if not entry.strip():
            continue
        parts = entry.split()
        if len(parts) != 2 or not parts[0].startswith(("http://", "https://")):
            raise ImproperlyConfigured(
                f"{name}: entry {entry.strip()[:60]!r} must be '<http(s) URL> <witness vkey>'"
            )
        url, vkey = parts
        try:
            cosigner = parse_cosigner_vkey(vkey)
        except NoteError as exc:
            raise ImproperlyConfigured(f"{name}: {exc} (in {entry.strip()[:60]!r})") from exc
        if any(w.vkey == vkey for w in out):
            raise ImproperlyConfigured(f"{name}: witness {cosigner.name} is listed twice")
        out.append(WitnessConfig(cosigner.name, url.rstrip("/"), vkey))
    return out
