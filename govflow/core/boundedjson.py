"""Text and JSON checks every input passes before anything parses or stores it.

Standard library only: the request gate (`govflow.core.inputgate`) uses it for query
strings, form fields and JSON bodies, and the signed-statement layer uses it for DSSE
payloads after base64 decoding, which the client and the offline verifier import too.

Why these rules:
- PostgreSQL refuses U+0000 in ``text`` and ``jsonb``, and psycopg cannot encode a lone
  surrogate (``"\\ud800"`` in JSON decodes to one): either would surface as a 500 at the
  INSERT. Other C0/C1 controls are refused with them: no field of govflow carries one, and
  they hide text from people reading the console or the log.
- Python's json module recurses once per nesting level, so about 1,000 levels (2 KB of
  ``[``) raise RecursionError. The depth is therefore counted on the raw bytes, strings
  skipped, before ``json.loads`` ever sees them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

# Deep enough for every document govflow accepts (a gate report nests about 8 levels).
MAX_JSON_DEPTH = 64

# Tab, line feed and carriage return are ordinary text; the rest of C0, DEL, C1 and
# lone surrogates are not.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# A \u escape that decodes to one of those (or could: an escaped backslash before "u"
# only makes the exact walk run).
_ESCAPED = re.compile(r"\\u(?:00[0189][0-9a-fA-F]|007[fF]|[dD][89a-fA-F][0-9a-fA-F]{2})")
# Every byte but the forbidden C0 ones and DEL (deleting these leaves only forbidden ones).
_ALLOWED_BYTES = bytes(b for b in range(256) if not (b < 0x20 and b not in b"\t\n\r")
                       and b != 0x7F)
_C1 = re.compile(rb"\xc2[\x80-\x9f]")
# A JSON string, in the unrolled form (no backtracking inside long strings).
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
# Every byte but brackets deleted, and braces folded into brackets.
_FOLD = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


# Bidirectional-text controls (embeddings, overrides, isolates, marks): in a name shown to
# people they reorder what is displayed ("Trojan Source"), so a display name refuses them.
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class InputRefused(ValueError):
    """An input failed a check; ``path`` names the field it was found in."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


def forbidden_character(text: str) -> str | None:
    """The first forbidden character in ``text`` as ``U+XXXX``, or None."""
    found = _FORBIDDEN.search(text)
    return None if found is None else f"U+{ord(found.group()):04X}"


def check_text(text: str, path: str) -> None:
    bad = forbidden_character(text)
    if bad is not None:
        raise InputRefused(path, f"contains the control character {bad}")


def check_display_name(text: str, path: str) -> None:
    check_text(text, path)
    found = _BIDI.search(text)
    if found is not None:
        raise InputRefused(path, f"contains the bidirectional-text control "
                                 f"U+{ord(found.group()):04X}")


def check_depth(raw: bytes, path: str = "", *, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Refuse JSON nested deeper than ``max_depth`` without parsing it.

    Strings are cut out and everything but brackets deleted (C-speed byte operations,
    no Python loop per byte); then each pass that deletes every adjacent ``[]`` pair
    peels exactly one level off the innermost nesting, so ``max_depth`` passes empty a
    balanced document that is shallow enough.
    """
    if raw.count(b"[") + raw.count(b"{") <= max_depth:
        return  # fewer brackets in all (strings included) than the bound: the usual case
    brackets = _STRING.sub(b"", raw).translate(_FOLD, _NOT_BRACKETS)
    opens = brackets.count(b"[")
    if opens <= max_depth:
        return
    passes = 0
    while passes < max_depth and b"[]" in brackets:
        brackets = brackets.replace(b"[]", b"")
        passes += 1
    # Left over: pairs still nested (too deep), or unbalanced brackets, which json.loads
    # would also descend into before it noticed the missing close.
    if b"[]" in brackets or passes + brackets.count(b"[") > max_depth:
        raise InputRefused(path, f"JSON is nested deeper than {max_depth} levels")


def check_tree(value: Any, path: str = "") -> None:
    """Walk parsed JSON (depth already bounded) and check every key and string."""
    if isinstance(value, str):
        check_text(value, path)
    elif isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            check_text(str(key), child)
            check_tree(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_tree(item, f"{path}[{index}]")


def parse_json(
    raw: bytes | str,
    path: str = "",
    *,
    max_depth: int = MAX_JSON_DEPTH,
    object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None,
    parse_constant: Callable[[str], Any] | None = None,
) -> Any:
    """``json.loads`` behind the depth bound, then every string checked.

    Raises InputRefused for a refused input and ValueError (JSONDecodeError,
    UnicodeDecodeError) for bytes that are not UTF-8 JSON.
    """
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    check_depth(data, path, max_depth=max_depth)
    # RFC 8259 §8.1: JSON between systems is UTF-8; json.loads would guess UTF-16/32.
    text = data.decode("utf-8")
    value = json.loads(text, object_pairs_hook=object_pairs_hook, parse_constant=parse_constant)
    # The walk names the field; most documents have nothing it could find, which the raw
    # bytes show faster than a regex over the text: a forbidden C0 byte or DEL, a C1
    # character (UTF-8 C2 80 to C2 9F), or a \u escape of one (lone surrogates only ever
    # arrive escaped: they are not valid UTF-8).
    if (data.translate(None, _ALLOWED_BYTES) or (b"\xc2" in data and _C1.search(data))
            or (b"\\u" in data and _ESCAPED.search(text))):
        check_tree(value, path)
    return value
