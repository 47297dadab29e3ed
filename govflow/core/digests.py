"""Content digests: RFC 8785 canonical JSON hashed with SHA-256."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import rfc8785

_MAX_SAFE = 2**53 - 1
_MAX_FAST_DEPTH = 64


def _stdlib_is_canonical(value: Any, depth: int = 0) -> bool:
    """Whether ``json.dumps(sort_keys=True)`` writes exactly the RFC 8785 bytes of
    ``value``: only the exact built-in types (no float, whose ECMAScript form Python's
    repr does not follow; no subclass, whose str or repr may differ), integers a double
    holds exactly, and member names below U+D800, for which code-point order (Python's
    sort) is UTF-16 order (RFC 8785 §3.2.3). Both escape strings alike: the two-letter
    forms and lowercase \\u00xx for U+0000..U+001F, everything else literal."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return -_MAX_SAFE <= value <= _MAX_SAFE
    if depth >= _MAX_FAST_DEPTH:
        return False
    if kind is dict:
        return all(type(k) is str and (not k or max(k) < "\ud800")
                   and _stdlib_is_canonical(v, depth + 1) for k, v in value.items())
    if kind is list:
        return all(_stdlib_is_canonical(v, depth + 1) for v in value)
    return False


def canonical_json(value: Any) -> bytes:
    """RFC 8785 canonical JSON. Every audit event is hashed through this, so the values
    that need none of its special cases (the common ones) take the C encoder, about five
    times faster; anything else, and every error, goes to the ``rfc8785`` package.
    tests/core/test_canonical_fast_path.py holds the two to the same bytes."""
    if _stdlib_is_canonical(value):
        try:
            return json.dumps(value, sort_keys=True, separators=(",", ":"),
                              ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: rfc8785 says so in its own words
    return rfc8785.dumps(value)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def json_digest(value: Any) -> str:
    """``sha256:<hex>`` of the canonical JSON of ``value``."""
    return "sha256:" + sha256_hex(canonical_json(value))


def is_sha256_digest(value: str) -> bool:
    if not isinstance(value, str) or not value.startswith("sha256:"):
        return False
    hex_part = value[len("sha256:"):]
    return len(hex_part) == 64 and all(c in "0123456789abcdef" for c in hex_part)
