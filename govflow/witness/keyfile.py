"""The witness's private key file: one line, in the style of Go's note signer keys::

    PRIVATE+KEY+<name>+<8 hex key ID>+<base64(0x04 || 32-byte Ed25519 seed)>

The name travels with the key so a witness cannot be started under a name its published
verifier key does not match. The file is created 0600, never overwritten.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from govflow.trust.cosignature import ALG_COSIGNATURE_V1, Cosigner, cosigner_for
from govflow.trust.note import split_key_string

PREFIX = "PRIVATE+KEY+"


class KeyFileError(ValueError):
    """The witness key file is missing or malformed."""


@dataclass(frozen=True)
class WitnessKey:
    name: str
    private_key: Ed25519PrivateKey

    @property
    def cosigner(self) -> Cosigner:
        return cosigner_for(self.name, self.private_key.public_key())

    def to_text(self) -> str:
        seed = self.private_key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        material = base64.b64encode(bytes([ALG_COSIGNATURE_V1]) + seed).decode()
        return f"{PREFIX}{self.name}+{self.cosigner.key_id:08x}+{material}\n"


def generate(name: str) -> WitnessKey:
    key = WitnessKey(name, Ed25519PrivateKey.generate())
    key.cosigner  # noqa: B018 - validates the name now, not at first use
    return key


def parse(text: str) -> WitnessKey:
    line = text.strip()
    if not line.startswith(PREFIX):
        raise KeyFileError(f"a witness key file starts with {PREFIX!r}")
    try:
        name, kid, seed = split_key_string(line[len(PREFIX):], ALG_COSIGNATURE_V1, "witness key")
        key = WitnessKey(name, Ed25519PrivateKey.from_private_bytes(seed))
    except ValueError as exc:  # NoteError is a ValueError
        raise KeyFileError(str(exc)) from exc
    if key.cosigner.key_id != kid:
        raise KeyFileError("witness key ID does not match its name and key")
    return key


def load(path: str | os.PathLike[str]) -> WitnessKey:
    try:
        return parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"cannot read witness key {path}: {exc}") from exc


def save(key: WitnessKey, path: str | os.PathLike[str]) -> Path:
    target = Path(path)
    # O_EXCL: never replace an existing witness key (its cosignatures would stop verifying).
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise KeyFileError(f"{target} exists; refusing to overwrite a witness key") from exc
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key.to_text())
        handle.flush()
        os.fsync(handle.fileno())
    return target
