"""Ed25519 keys: parsing, stable key ids, and private key files.

Every signer in govflow (the log, auditors, the regulator) uses Ed25519 (RFC 8032): small keys,
deterministic signatures, and one algorithm to audit. Public keys travel as PEM
SubjectPublicKeyInfo (RFC 8410) or as base64 of the raw 32 bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import tempfile
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

RAW_PUBLIC_KEY_SIZE = 32


class KeyFormatError(ValueError):
    """A key is not an Ed25519 key in a format govflow accepts."""


def generate_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def public_key_raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_id(key: Ed25519PublicKey) -> str:
    """Hex SHA-256 of the raw 32-byte key: the same for every encoding of the same key."""
    return hashlib.sha256(public_key_raw(key)).hexdigest()


def public_key_to_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def public_key_to_base64(key: Ed25519PublicKey) -> str:
    return base64.b64encode(public_key_raw(key)).decode("ascii")


def public_key_from_raw(raw: bytes) -> Ed25519PublicKey:
    if len(raw) != RAW_PUBLIC_KEY_SIZE:
        raise KeyFormatError(f"a raw Ed25519 public key is 32 bytes, got {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


def parse_public_key(text: str | bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM (SubjectPublicKeyInfo) or base64 of the raw 32 bytes."""
    if isinstance(text, bytes):
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError as exc:
            raise KeyFormatError("public key text must be ASCII (PEM or base64)") from exc
    if not isinstance(text, str):
        raise KeyFormatError("public key must be given as text (PEM or base64)")
    stripped = text.strip()
    if not stripped:
        raise KeyFormatError("public key is empty")
    if stripped.startswith("-----BEGIN"):
        if "PRIVATE KEY" in stripped.split("\n", 1)[0]:
            raise KeyFormatError("this is a PRIVATE key; give the public key (never share this)")
        try:
            key = serialization.load_pem_public_key(stripped.encode("ascii"))
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise KeyFormatError(f"cannot read PEM public key: {exc}") from exc
        if not isinstance(key, Ed25519PublicKey):
            raise KeyFormatError(f"expected an Ed25519 key, got {type(key).__name__}")
        return key
    try:
        raw = base64.b64decode(stripped, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyFormatError(
            "public key is neither PEM (-----BEGIN PUBLIC KEY-----) nor standard base64"
        ) from exc
    return public_key_from_raw(raw)


def private_key_to_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def parse_private_key(pem: bytes | str) -> Ed25519PrivateKey:
    """An Ed25519 private key from unencrypted PKCS#8 PEM."""
    data = pem.encode("utf-8") if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError as exc:
        raise KeyFormatError("private key is encrypted; expected unencrypted PKCS#8") from exc
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise KeyFormatError(f"cannot read PEM private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFormatError(f"expected an Ed25519 private key, got {type(key).__name__}")
    return key


def load_private_key(path: str | os.PathLike[str]) -> Ed25519PrivateKey:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise KeyFormatError(f"cannot read private key file {path}: {exc.strerror}") from exc
    return parse_private_key(data)


def save_private_key(
    key: Ed25519PrivateKey, path: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Write ``key`` as PKCS#8 PEM, readable by the owner only (0600).

    The file is created 0600 from the start (never briefly world-readable) in the target
    directory and renamed into place, so a crash leaves either the old file or the new one.
    """
    target = Path(path)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; refusing to overwrite a private key")
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)  # mkstemp already uses 0600; be explicit about the contract
        with os.fdopen(fd, "wb") as fh:
            fh.write(private_key_to_pem(key))
            fh.flush()
            os.fsync(fh.fileno())
        if overwrite:
            os.replace(tmp, target)
        else:
            # link() fails if the target appeared since the check above: no window in which a
            # concurrent writer's key could be silently replaced.
            os.link(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return target
