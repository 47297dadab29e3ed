"""C2SP signed notes (c2sp.org/signed-note) with Ed25519, and tlog checkpoints
(c2sp.org/tlog-checkpoint): the signed tree heads of the audit log.

Wire format, for reference::

    <origin>\\n<tree size>\\n<base64 root hash>\\n[<extension>\\n...]
    \\n
    — <key name> <base64(4-byte key ID || Ed25519 signature)>\\n   (one line per signer)

Verifier keys use the Go ``golang.org/x/mod/sumdb/note`` text form
``<name>+<8 hex digit key ID>+<base64(0x01 || 32-byte public key)>`` so operators can use the
same strings with Go tooling (e.g. witnesses).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from govflow.trust.keys import public_key_from_raw, public_key_raw

ALG_ED25519 = 0x01  # signed-note "Signature types"
SIG_PREFIX = "\u2014 "  # em dash, space
# Go's note package refuses more than 100 signatures; the spec requires accepting at least 16.
MAX_SIGNATURES = 100
_HASH_SIZE = 32
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")  # every ASCII control character but newline


class NoteError(ValueError):
    """A note or verifier key is malformed."""


class NoteVerificationError(NoteError):
    """A note is well formed but not signed (validly) by a trusted key."""


def _check_name(name: object) -> str:
    # Key names MUST be non-empty and contain no Unicode spaces or '+' (signed-note "Format").
    if not isinstance(name, str) or not name or "+" in name:
        raise NoteError(f"invalid key name {name!r}")
    if any(c.isspace() or ord(c) < 0x20 for c in name):
        raise NoteError(f"invalid key name {name!r}: contains a space or control character")
    return name


# Public names for the cosignature module (tlog-cosignature lines are signed-note lines).
check_key_name = _check_name


def key_hash(name: str, alg: int, public_key: Ed25519PublicKey) -> int:
    """SHA-256(name || 0x0A || alg || key)[:4] as a big-endian uint32 (signed-note key ID)."""
    material = name.encode("utf-8") + b"\n" + bytes([alg]) + public_key_raw(public_key)
    return int.from_bytes(hashlib.sha256(material).digest()[:4], "big")


def key_id(name: str, public_key: Ed25519PublicKey) -> int:
    return key_hash(name, ALG_ED25519, public_key)


@dataclass(frozen=True)
class NoteVerifier:
    name: str
    key_id: int
    public_key: Ed25519PublicKey

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            self.public_key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_id: int
    signature: bytes


def make_verifier_key(name: str, public_key: Ed25519PublicKey) -> str:
    _check_name(name)
    encoded = base64.b64encode(bytes([ALG_ED25519]) + public_key_raw(public_key)).decode()
    return f"{name}+{key_id(name, public_key):08x}+{encoded}"


def split_key_string(text: str, alg: int, what: str) -> tuple[str, int, bytes]:
    """Split ``name+hexid+base64(alg || 32 bytes)`` into (name, key ID, 32-byte material).

    The shape of signed-note verifier keys, shared by cosignature keys (alg 0x04) and
    witness key files; the caller checks that the ID really belongs to name and key.
    """
    if not isinstance(text, str):
        raise NoteError(f"{what} must be a string")
    # Split on the first two '+' only: the base64 key material may itself contain '+'.
    name, _, rest = text.strip().partition("+")
    hex_id, sep, b64 = rest.partition("+")
    if not sep:
        raise NoteError(f"{what} must look like <name>+<hex key id>+<base64 key>")
    _check_name(name)
    if not re.fullmatch(r"[0-9a-f]{8}", hex_id):
        raise NoteError(f"{what} ID must be 8 lowercase hex digits")
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NoteError(f"{what} material is not valid base64") from exc
    if len(raw) != 33 or raw[0] != alg:
        raise NoteError(f"{what} is not an Ed25519 (type 0x{alg:02x}) key")
    return name, int(hex_id, 16), raw[1:]


def parse_verifier_key(vkey: str) -> NoteVerifier:
    """Parse ``name+hexid+base64key``, checking the key ID really belongs to the key."""
    name, kid, raw = split_key_string(vkey, ALG_ED25519, "verifier key")
    public_key = public_key_from_raw(raw)
    if key_id(name, public_key) != kid:
        raise NoteError("verifier key ID does not match the name and key")
    return NoteVerifier(name, kid, public_key)


def verifier_for(name: str, public_key: Ed25519PublicKey) -> NoteVerifier:
    return NoteVerifier(_check_name(name), key_id(name, public_key), public_key)


def _check_text(text: str, what: str) -> None:
    # signed-note: valid UTF-8, no ASCII control characters other than newline.
    if _CONTROL.search(text):
        raise NoteError(f"{what} contains a control character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise NoteError(f"{what} is not valid Unicode") from exc


def _signature_line(body: str, name: str, private_key: Ed25519PrivateKey) -> str:
    _check_name(name)
    if not isinstance(body, str) or not body.endswith("\n"):
        raise NoteError("note text must end with a newline")
    _check_text(body, "note text")
    kid = key_id(name, private_key.public_key())
    sig = private_key.sign(body.encode("utf-8"))
    return f"{SIG_PREFIX}{name} {base64.b64encode(kid.to_bytes(4, 'big') + sig).decode()}\n"


def sign_note(body: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """Sign ``body`` (which must end in a newline) and return the signed note text."""
    return body + "\n" + _signature_line(body, name, private_key)


def cosign_note(note: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """Append a signature line to a signed note (e.g. a witness co-signing a checkpoint).

    The caller must have opened (verified) the note first: co-signing vouches for its text.
    """
    body, _ = _split(note)
    return note + _signature_line(body, name, private_key)


def _split(text: str) -> tuple[str, list[str]]:
    if not isinstance(text, str):
        raise NoteError("note must be text")
    _check_text(text, "note")
    if not text.endswith("\n"):
        raise NoteError("note does not end with a newline")
    # The text is separated from the signatures by the *last* empty line.
    split = text.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no blank line before its signatures")
    body, sig_block = text[: split + 1], text[split + 2 :]
    if not sig_block:
        raise NoteError("note has no signature lines")
    lines = sig_block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note has more than {MAX_SIGNATURES} signatures")
    return body, lines


def split_note(text: str) -> tuple[str, list[str]]:
    """(note text, signature lines without newlines), checking only the note's framing."""
    return _split(text)


def open_note(
    text: str, verifiers: Iterable[NoteVerifier]
) -> tuple[str, tuple[NoteSignature, ...]]:
    """Verify a signed note; return its text and the signatures by known keys (all valid).

    Per signed-note "Signatures": lines from unknown keys (name *and* ID must both match) are
    ignored; a failing signature from a known key rejects the whole note; at least one known
    key must have signed.
    """
    body, lines = _split(text)
    known = {(v.name, v.key_id): v for v in verifiers}
    message = body.encode("utf-8")
    seen: set[tuple[str, int]] = set()
    verified: list[NoteSignature] = []
    for line in lines:
        if not line.startswith(SIG_PREFIX):
            raise NoteError(f"malformed signature line {line[:40]!r}")
        name, sep, b64 = line[len(SIG_PREFIX) :].partition(" ")
        if not sep:
            raise NoteError(f"malformed signature line {line[:40]!r}")
        _check_name(name)
        try:
            blob = base64.b64decode(b64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise NoteError(f"signature by {name!r} is not valid base64") from exc
        if len(blob) < 5:
            raise NoteError(f"signature by {name!r} is too short")
        kid = int.from_bytes(blob[:4], "big")
        if (name, kid) in seen:
            raise NoteError(f"duplicate signature by {name!r}")
        seen.add((name, kid))
        verifier = known.get((name, kid))
        if verifier is None:
            continue
        if not verifier.verify(message, blob[4:]):
            raise NoteVerificationError(f"invalid signature by {name!r}")
        verified.append(NoteSignature(name, kid, blob[4:]))
    if not verified:
        raise NoteVerificationError("note has no signature from a known key")
    return body, tuple(verified)


@dataclass(frozen=True)
class Checkpoint:
    """A tlog-checkpoint note body: the log's signed statement of its size and root hash."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.origin, str) or not self.origin or "\n" in self.origin:
            raise NoteError("checkpoint origin must be a non-empty single line")
        _check_text(self.origin, "checkpoint origin")
        if not isinstance(self.size, int) or isinstance(self.size, bool) or self.size < 0:
            raise NoteError("checkpoint size must be a non-negative integer")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != _HASH_SIZE:
            raise NoteError("checkpoint root hash must be 32 bytes")
        object.__setattr__(self, "extensions", tuple(self.extensions))
        for ext in self.extensions:
            if not isinstance(ext, str) or not ext or "\n" in ext:
                raise NoteError("checkpoint extension lines must be non-empty single lines")
            _check_text(ext, "checkpoint extension")

    def to_body(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode()]
        return "\n".join([*lines, *self.extensions]) + "\n"

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        if not isinstance(body, str) or not body.endswith("\n"):
            raise NoteError("checkpoint must end with a newline")
        lines = body[:-1].split("\n")
        # tlog-checkpoint "Note text": at least three lines, none of them empty.
        if len(lines) < 3 or not all(lines):
            raise NoteError("checkpoint needs origin, size and root hash lines, none empty")
        origin, size_line, root_line, *extensions = lines
        # ASCII decimal, no leading zeros (str.isdigit would also accept other scripts' digits).
        if not re.fullmatch(r"0|[1-9][0-9]{0,19}", size_line) or int(size_line) >= 2**64:
            raise NoteError(f"checkpoint tree size {size_line[:30]!r} is not a decimal uint64")
        try:
            root = base64.b64decode(root_line, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise NoteError("checkpoint root hash is not valid base64") from exc
        if len(root) != _HASH_SIZE or base64.b64encode(root).decode() != root_line:
            raise NoteError("checkpoint root hash is not the canonical base64 of 32 bytes")
        return cls(origin, int(size_line), root, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, name: str, private_key: Ed25519PrivateKey) -> str:
    return sign_note(checkpoint.to_body(), name, private_key)


def open_checkpoint(
    text: str, verifiers: Iterable[NoteVerifier], *, origin: str | None = None
) -> tuple[Checkpoint, tuple[NoteSignature, ...]]:
    """Verify a signed checkpoint; with ``origin``, refuse a checkpoint from another log."""
    body, signatures = open_note(text, verifiers)
    checkpoint = Checkpoint.parse(body)
    if origin is not None and checkpoint.origin != origin:
        raise NoteVerificationError(f"checkpoint is for {checkpoint.origin!r}, not {origin!r}")
    return checkpoint, signatures
