"""The log's own Ed25519 key, which signs checkpoints."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _generate(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # O_EXCL: two processes starting at once must not each write a different key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)


@cache
def log_signing_key() -> Ed25519PrivateKey:
    configured = settings.GOVFLOW_LOG_SIGNING_KEY_FILE
    if not configured:
        raise ImproperlyConfigured("GOVFLOW_LOG_SIGNING_KEY_FILE is not set")
    path = Path(configured)
    if not path.exists():
        if settings.PRODUCTION:
            raise ImproperlyConfigured(f"GOVFLOW_LOG_SIGNING_KEY_FILE={path} does not exist")
        _generate(path)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured(f"{path} is not an Ed25519 private key")
    return key


def log_origin() -> str:
    return settings.GOVFLOW_LOG_ORIGIN


def log_verifier_key() -> str:
    """The log's public key as a signed-note verifier key (what `--log-key` pins)."""
    from govflow.trust.note import make_verifier_key

    return make_verifier_key(log_origin(), log_signing_key().public_key())
