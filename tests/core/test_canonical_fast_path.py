"""core.digests.canonical_json takes the stdlib encoder when it can: it must write the
``rfc8785`` package's bytes for every value, and raise where the package raises."""

from __future__ import annotations

import enum

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from govflow.core.digests import canonical_json

# Every kind of character: controls, the escapes, Latin-1, the range just below the
# surrogates, the private-use area that sorts differently in UTF-16, astral planes.
characters = st.one_of(
    st.characters(min_codepoint=0, max_codepoint=0x7F),
    st.characters(min_codepoint=0x80, max_codepoint=0xD7FF),
    st.characters(min_codepoint=0xE000, max_codepoint=0xFFFF),
    st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF),
)
text = st.text(characters, max_size=12)
scalars = st.one_of(
    st.none(), st.booleans(), text, st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.dictionaries(text, inner, max_size=5)), max_leaves=30)


@settings(max_examples=400, deadline=None)
@given(values)
def test_the_same_bytes_as_rfc8785_for_any_json_value(value):
    assert canonical_json(value) == rfc8785.dumps(value)


def _nested(depth: int) -> list:
    value: list = [1]
    for _ in range(depth):
        value = [value]
    return value


DEEP = _nested(100)


class Colour(enum.IntEnum):
    RED = 1


class Kind(enum.StrEnum):
    A = "a"


@pytest.mark.parametrize("value", [
    {"\ufb33": 1, "\U0001f600": 2},  # UTF-16 order differs from code-point order
    {"n": 2**53},  # outside the I-JSON range: an error, as rfc8785 raises
    {"s": "\ud800"},  # a lone surrogate
    {"e": Colour.RED, "k": Kind.A, "t": (1, 2)},  # subclasses and tuples
    {"x": 1.0, "y": -0.0, "z": 1e21},
    DEEP,  # deeper than the fast path walks
])
def test_the_cases_the_fast_path_leaves_to_rfc8785(value):
    try:
        expected = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as exc:
        with pytest.raises(type(exc)):
            canonical_json(value)
        return
    assert canonical_json(value) == expected
