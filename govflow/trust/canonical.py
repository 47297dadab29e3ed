"""RFC 8785 JSON Canonicalization Scheme (JCS), standard library only.

The server hashes audit events with the ``rfc8785`` package; the stdlib-only client and the
offline verifier cannot depend on it, so this encoder reproduces its output byte for byte for
the JSON value types Python produces: str, int, float, bool, None, list/tuple, dict.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

# RFC 8785 §3.2.2.3: numbers are IEEE 754 doubles, so only integers a double holds exactly
# (I-JSON, RFC 7493 §2.2) can be serialised without silently changing their value.
MAX_SAFE_INTEGER = 2**53 - 1
_MAX_DEPTH = 500


class CanonicalizationError(ValueError):
    """The value has no RFC 8785 serialisation (unsupported type, bad number, bad string)."""


# RFC 8785 §3.2.2.2: escape '"', '\\' and U+0000..U+001F only, using the two-character forms
# where JSON has them and lowercase \u00xx otherwise; everything else is literal UTF-8.
_ESCAPES = {i: f"\\u{i:04x}" for i in range(0x20)}
_ESCAPES.update(
    {
        ord("\b"): "\\b",
        ord("\t"): "\\t",
        ord("\n"): "\\n",
        ord("\f"): "\\f",
        ord("\r"): "\\r",
        ord('"'): '\\"',
        ord("\\"): "\\\\",
    }
)


def _string(s: str) -> str:
    return '"' + s.translate(_ESCAPES) + '"'


def _utf16_key(s: str) -> bytes:
    # RFC 8785 §3.2.3: members are sorted by their names as arrays of UTF-16 code units;
    # big-endian UTF-16 bytes compare in the same order. Lone surrogates (invalid in I-JSON)
    # fail here and are reported as such.
    return s.encode("utf-16-be")


def _number(value: float) -> str:
    """ECMAScript Number::toString (ECMA-262 §6.1.6.1.20), which RFC 8785 §3.2.2.3 mandates."""
    if not math.isfinite(value):
        raise CanonicalizationError(f"{value!r} is not a JSON number")
    if value == 0:
        return "0"  # also -0.0
    # repr() gives the shortest digit string that round-trips, the same digits ECMAScript uses.
    mantissa, _, exp = repr(abs(value)).partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    # Normalise to value = 0.<digits> * 10**n with no leading or trailing zeros in digits.
    all_digits = int_part + frac_part
    significant = all_digits.lstrip("0")
    n = len(int_part) + int(exp or 0) - (len(all_digits) - len(significant))
    digits = significant.rstrip("0")
    k = len(digits)
    sign = "-" if value < 0 else ""
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * -n + digits
    e = n - 1
    exponent = ("e+" if e >= 0 else "e-") + str(abs(e))
    if k == 1:
        return sign + digits + exponent
    return sign + digits[0] + "." + digits[1:] + exponent


def _encode(value: Any, out: list[str], depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise CanonicalizationError("value is nested too deeply (or is self-referencing)")
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, int):
        # int.__repr__ so an IntEnum member serialises as its number, not its name.
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise CanonicalizationError(f"integer {int(value)} is outside the I-JSON range")
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        out.append(_number(float(value)))
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, out, depth + 1)
        out.append("]")
    elif isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            raise CanonicalizationError("object keys must be strings")
        try:
            keys = sorted(value, key=_utf16_key)
        except UnicodeEncodeError as exc:
            raise CanonicalizationError("object key is not valid Unicode") from exc
        out.append("{")
        for i, k in enumerate(keys):
            if i:
                out.append(",")
            out.append(_string(k))
            out.append(":")
            _encode(value[k], out, depth + 1)
        out.append("}")
    else:
        raise CanonicalizationError(f"cannot canonicalise a {type(value).__name__}")


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of ``value``."""
    out: list[str] = []
    _encode(value, out, 0)
    try:
        return "".join(out).encode("utf-8")
    except UnicodeEncodeError as exc:
        # Lone surrogates cannot be encoded as UTF-8 (RFC 8785 §3.2.2.2 requires valid Unicode).
        raise CanonicalizationError("string is not valid Unicode (lone surrogate)") from exc
