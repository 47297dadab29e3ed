"""C2SP tlog-cosignature v1 (Ed25519): a witness's timestamped co-signature on a checkpoint.

A cosignature is a signed-note signature line whose 4-byte key ID is computed with the
algorithm byte 0x04 (not 0x01, the plain note signature), and whose signature blob is
``u64 timestamp (big-endian) || Ed25519 signature`` over::

    cosignature/v1\\n
    time <timestamp>\\n
    <the checkpoint's note body, final newline included>

Because the key ID uses a different algorithm byte, a verifier configured only with the
log's key ignores cosignature lines, and a verifier configured with a witness key ignores
the log's own signature line: both can live in one note. Standard library + cryptography.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from govflow.trust.keys import public_key_from_raw, public_key_raw
from govflow.trust.note import SIG_PREFIX, NoteError, check_key_name, key_hash, split_key_string

ALG_COSIGNATURE_V1 = 0x04  # tlog-cosignature: Ed25519 cosignature key ID / vkey type
HEADER = "cosignature/v1\n"
MAX_TIMESTAMP = 2**63 - 1
_BLOB_SIZE = 4 + 8 + 64


def cosigner_key_id(name: str, public_key: Ed25519PublicKey) -> int:
    """SHA-256(name || 0x0A || 0x04 || key)[:4] (tlog-cosignature "Format")."""
    return key_hash(name, ALG_COSIGNATURE_V1, public_key)


@dataclass(frozen=True)
class Cosigner:
    """A witness as a verifier knows it: name, key ID and Ed25519 public key."""

    name: str
    key_id: int
    public_key: Ed25519PublicKey

    @property
    def vkey(self) -> str:
        raw = bytes([ALG_COSIGNATURE_V1]) + public_key_raw(self.public_key)
        return f"{self.name}+{self.key_id:08x}+{base64.b64encode(raw).decode()}"


@dataclass(frozen=True)
class Cosignature:
    name: str
    key_id: int
    timestamp: int
    signature: bytes

    def line(self) -> str:
        blob = self.key_id.to_bytes(4, "big") + self.timestamp.to_bytes(8, "big") + self.signature
        return f"{SIG_PREFIX}{self.name} {base64.b64encode(blob).decode()}\n"


def cosigner_for(name: str, public_key: Ed25519PublicKey) -> Cosigner:
    check_key_name(name)
    return Cosigner(name, cosigner_key_id(name, public_key), public_key)


def parse_cosigner_vkey(vkey: str) -> Cosigner:
    """Parse ``name+hexid+base64(0x04 || key)``, checking the ID belongs to name and key."""
    name, kid, raw = split_key_string(vkey, ALG_COSIGNATURE_V1, "witness verifier key")
    cosigner = cosigner_for(name, public_key_from_raw(raw))
    if cosigner.key_id != kid:
        raise NoteError("witness key ID does not match the name and key")
    return cosigner


def signed_message(body: str, timestamp: int) -> bytes:
    return (HEADER + f"time {timestamp}\n" + body).encode("utf-8")


def cosign(
    body: str, name: str, private_key: Ed25519PrivateKey, timestamp: int
) -> Cosignature:
    """Cosign a checkpoint note body. The caller must have verified the checkpoint and its
    consistency with everything it cosigned before: that is what the signature asserts."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise NoteError("cosignature timestamp out of range")
    if not body.endswith("\n"):
        raise NoteError("checkpoint body must end with a newline")
    signature = private_key.sign(signed_message(body, timestamp))
    return Cosignature(name, cosigner_key_id(name, private_key.public_key()), timestamp, signature)


def parse_line(line: str) -> tuple[str, bytes]:
    """One signature line (without its newline) → (key name, decoded blob)."""
    if not line.startswith(SIG_PREFIX):
        raise NoteError(f"malformed signature line {line[:40]!r}")
    name, sep, b64 = line[len(SIG_PREFIX):].partition(" ")
    if not sep:
        raise NoteError(f"malformed signature line {line[:40]!r}")
    check_key_name(name)
    try:
        return name, base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NoteError(f"signature by {name!r} is not valid base64") from exc


def verify_cosignatures(
    body: str, lines: Iterable[str], cosigners: Iterable[Cosigner]
) -> tuple[list[Cosignature], list[str]]:
    """Check signature lines against the witnesses one trusts.

    Returns (valid cosignatures, problems). Lines from keys not in ``cosigners`` are
    ignored (tlog-witness: "The client MUST ignore any cosignatures from unknown keys");
    a line from a trusted key that does not verify is a problem, never counted.
    """
    known = {(c.name, c.key_id): c for c in cosigners}
    valid: dict[tuple[str, int], Cosignature] = {}
    problems: list[str] = []
    for raw in lines:
        line = raw[:-1] if raw.endswith("\n") else raw
        try:
            name, blob = parse_line(line)
        except NoteError:
            continue  # not ours to judge: a malformed line cannot be a trusted cosignature
        if len(blob) < 4:
            continue
        key = (name, int.from_bytes(blob[:4], "big"))
        cosigner = known.get(key)
        if cosigner is None:
            continue
        if len(blob) != _BLOB_SIZE:
            problems.append(f"cosignature by {name} has the wrong length")
            continue
        timestamp = int.from_bytes(blob[4:12], "big")
        try:
            if timestamp > MAX_TIMESTAMP:
                raise InvalidSignature
            cosigner.public_key.verify(blob[12:], signed_message(body, timestamp))
        except InvalidSignature:
            problems.append(f"cosignature by {name} does not verify")
            continue
        valid[key] = Cosignature(name, key[1], timestamp, blob[12:])
    return list(valid.values()), problems
